// vision/segment.h: candidates and strings on generated scenes.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "digitnet/vision/segment.h"
#include "vision_support.h"

namespace dv = digitnet::vision;

namespace {

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double i = (a & b).area();
  return i / (a.area() + b.area() - i);
}

}  // namespace

TEST(SegmentTest, FindsEveryNumberOfGeneratedScenesInReadingOrder) {
  const auto& bank = digitnet::test::heldout_bank();
  int numbers = 0, found = 0, right_count = 0, scenes_ok = 0;
  const int kScenes = 30;
  for (uint64_t seed = 100; seed < 100 + kScenes; ++seed) {
    const auto scene = dv::make_scene(bank, {}, seed);
    const auto seg = dv::segment_digits(scene.image);
    numbers += int(scene.numbers.size());
    if (seg.strings.size() == scene.numbers.size()) ++scenes_ok;
    for (size_t i = 0; i < scene.numbers.size() && i < seg.strings.size(); ++i) {
      if (iou(seg.strings[i].box, scene.numbers[i].box) > 0.5) ++found;
      if (seg.strings[i].digits.size() == scene.numbers[i].text.size()) ++right_count;
    }
  }
  EXPECT_GE(scenes_ok, kScenes * 8 / 10) << "scenes with the right number of strings";
  EXPECT_GE(found, numbers * 85 / 100) << found << " of " << numbers;
  EXPECT_GE(right_count, numbers * 80 / 100) << right_count << " of " << numbers;
}

TEST(SegmentTest, MergesBrokenStrokesOfOneDigit) {
  cv::Mat img(120, 120, CV_8U, cv::Scalar(230));
  cv::line(img, {40, 20}, {80, 20}, cv::Scalar(20), 5);   // a 5's bar, detached
  cv::line(img, {42, 30}, {42, 55}, cv::Scalar(20), 5);
  cv::ellipse(img, {58, 75}, {20, 22}, 0, -150, 150, cv::Scalar(20), 5);
  const auto seg = dv::segment_digits(img);
  ASSERT_EQ(seg.boxes.size(), 1u);
  EXPECT_LE(seg.boxes[0].y, 20);
}

TEST(SegmentTest, SplitsTouchingDigits) {
  cv::Mat img(120, 200, CV_8U, cv::Scalar(230));
  cv::ellipse(img, {60, 60}, {22, 35}, 0, 0, 360, cv::Scalar(20), 5);  // 0
  cv::line(img, {125, 25}, {125, 95}, cv::Scalar(20), 5);              // 1
  cv::line(img, {80, 88}, {125, 90}, cv::Scalar(20), 3);               // a tail joining them
  const auto seg = dv::segment_digits(img);
  ASSERT_EQ(seg.boxes.size(), 2u);
  ASSERT_EQ(seg.strings.size(), 1u);
  EXPECT_LT(seg.boxes[0].x, seg.boxes[1].x);
}

TEST(SegmentTest, RejectsLinesBlobsAndSpecks) {
  cv::Mat img(300, 400, CV_8U, cv::Scalar(230));
  cv::line(img, {10, 250}, {390, 250}, cv::Scalar(20), 3);                  // a ruled line
  cv::rectangle(img, {300, 30}, {360, 90}, cv::Scalar(20), cv::FILLED);     // a solid blob
  for (int i = 0; i < 30; ++i) img.at<uint8_t>(10 + 7 * i, 20 + 5 * i) = 0;  // specks
  EXPECT_TRUE(dv::segment_digits(img).boxes.empty());
}

TEST(SegmentTest, LightInkOnDarkBoardIsFoundToo) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto scene = dv::make_scene(bank, {}, 7);
  cv::Mat inverted;
  cv::bitwise_not(scene.image, inverted);
  EXPECT_EQ(dv::segment_digits(inverted).strings.size(), dv::segment_digits(scene.image).strings.size());
}

TEST(SegmentTest, LargePhotosAreSegmentedDownscaledWithBoxesInPhotoCoordinates) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto scene = dv::make_scene(bank, {}, 11);
  cv::Mat big;
  cv::resize(scene.image, big, cv::Size(), 4.0, 4.0, cv::INTER_LINEAR);  // 2560x1920
  const auto small = dv::segment_digits(scene.image), large = dv::segment_digits(big);
  ASSERT_EQ(small.strings.size(), large.strings.size());
  for (size_t i = 0; i < small.strings.size(); ++i) {
    const cv::Rect& s = small.strings[i].box;
    EXPECT_GT(iou(cv::Rect(s.x * 4, s.y * 4, s.width * 4, s.height * 4), large.strings[i].box), 0.6);
  }
}

TEST(SegmentTest, EmptyImageGivesNothing) {
  EXPECT_TRUE(dv::segment_digits(cv::Mat()).boxes.empty());
  EXPECT_TRUE(dv::segment_digits(cv::Mat(100, 100, CV_8UC3, cv::Scalar::all(200))).strings.empty());
}

TEST(SegmentTest, PadBoxMakesAClippedSquare) {
  const auto r = dv::pad_box({10, 10, 10, 40}, 0.25, {100, 100});
  EXPECT_EQ(r.height, 60);
  EXPECT_EQ(r.width, 45);  // clipped at x = 0
  EXPECT_EQ(r.x, 0);
}

TEST(SegmentTest, PaperEdgesDoNotSwallowTheDigitsInside) {
  // Paper on a dark table, seen at an angle: the table shows along the top and the right, and
  // its edge strokes must not merge, piece by piece, into a box around the digits.
  cv::Mat img(240, 320, CV_8U, cv::Scalar(200));
  cv::rectangle(img, {0, 0}, {319, 8}, cv::Scalar(40), cv::FILLED);
  cv::rectangle(img, {308, 0}, {319, 239}, cv::Scalar(40), cv::FILLED);
  for (int k = 0; k < 3; ++k) cv::ellipse(img, {100 + 45 * k, 120}, {14, 22}, 0, 0, 360, cv::Scalar(30), 4);
  const auto seg = dv::segment_digits(img);
  ASSERT_EQ(seg.strings.size(), 1u);
  EXPECT_EQ(seg.strings[0].digits.size(), 3u);
  for (const auto& b : seg.boxes) EXPECT_LT(b.height, 60) << b;
}

TEST(SegmentTest, StrokesAtTheFrameEdgeAreDroppedDigitsThereAreKept) {
  cv::Mat img(120, 200, CV_8U, cv::Scalar(230));
  cv::ellipse(img, {100, 60}, {14, 22}, 0, 0, 360, cv::Scalar(20), 4);  // a 0 in view
  cv::ellipse(img, {14, 60}, {14, 22}, 0, 0, 360, cv::Scalar(20), 4);   // a 0 touching the edge
  cv::line(img, {198, 40}, {198, 85}, cv::Scalar(20), 3);                // a table's edge
  const auto seg = dv::segment_digits(img);
  ASSERT_EQ(seg.boxes.size(), 2u);
  EXPECT_LT(seg.boxes[0].x, 5);
  EXPECT_NEAR(seg.boxes[1].x, 84, 4);
  // A tightly cropped scan of one digit touches the edges and is still read.
  cv::Mat tight(60, 34, CV_8U, cv::Scalar(230));
  cv::ellipse(tight, {17, 30}, {15, 23}, 0, 0, 360, cv::Scalar(20), 4);
  EXPECT_EQ(dv::segment_digits(tight).boxes.size(), 1u);
}

TEST(SegmentTest, NarrowTouchingPairGetsASplitHypothesis) {
  cv::Mat img(120, 200, CV_8U, cv::Scalar(230));
  cv::ellipse(img, {70, 60}, {12, 30}, 0, 0, 360, cv::Scalar(20), 4);  // 0
  cv::ellipse(img, {100, 60}, {12, 30}, 0, 0, 360, cv::Scalar(20), 4);  // 0
  cv::line(img, {80, 62}, {90, 62}, cv::Scalar(20), 2);                 // a stroke joining them
  const auto seg = dv::segment_digits(img);
  ASSERT_EQ(seg.boxes.size(), 1u);  // not wide enough to be split outright
  ASSERT_EQ(seg.splits.size(), 1u);
  const auto& h = seg.splits[0];
  EXPECT_EQ(h.box, 0);
  EXPECT_LE(h.left.br().x, h.right.x + 1);
  EXPECT_NEAR(h.left.x + h.left.width / 2.0, 70, 3);
  EXPECT_NEAR(h.right.x + h.right.width / 2.0, 100, 3);
  EXPECT_GE(h.left.height, 60);
  EXPECT_GE(h.right.height, 60);
  // A lone 1 is too narrow to be two digits: no hypothesis.
  cv::Mat one(120, 200, CV_8U, cv::Scalar(230));
  cv::line(one, {80, 25}, {80, 95}, cv::Scalar(20), 5);
  const auto single = dv::segment_digits(one);
  EXPECT_EQ(single.boxes.size(), 1u);
  EXPECT_TRUE(single.splits.empty());
}
