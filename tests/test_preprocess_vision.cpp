// vision/preprocess.h: the one canonicalisation.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "digitnet/vision/preprocess.h"
#include "vision_support.h"

namespace dv = digitnet::vision;

namespace {

// Centre of mass (x, y) of a 28x28 CV_32F image.
cv::Point2d centre_of_mass(const cv::Mat& m) {
  const cv::Moments mo = cv::moments(m, false);
  return {mo.m10 / mo.m00, mo.m01 / mo.m00};
}

cv::Rect ink_box(const cv::Mat& m) { return cv::boundingRect(m > 0.2f); }

// A digit as a camera shows it: dark ink on grey paper, 3x the size, with a light gradient.
cv::Mat on_paper(const cv::Mat& digit) {
  cv::Mat big;
  cv::resize(digit, big, cv::Size(), 3.0, 3.0, cv::INTER_CUBIC);
  cv::Mat f;
  big.convertTo(f, CV_32F, 1.0 / 255.0);
  cv::Mat paper(f.size(), CV_32F);
  for (int y = 0; y < f.rows; ++y)
    for (int x = 0; x < f.cols; ++x) paper.at<float>(y, x) = 150.0f + 0.8f * float(x);
  cv::Mat img = paper - f.mul(paper - 40.0f);
  cv::Mat out;
  img.convertTo(out, CV_8U);
  return out;
}

}  // namespace

TEST(PreprocessTest, OutputIsOneByTwentyEightSquareInZeroToOne) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto t = dv::canonicalize_tensor(bank.images[0]);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_GE(t.min().item<float>(), 0.0f);
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_GT(t.max().item<float>(), 0.9f);
}

TEST(PreprocessTest, LongestSideIsTwentyAndCentreOfMassIsCentred) {
  const auto& bank = digitnet::test::heldout_bank();
  for (size_t i = 0; i < bank.size(); i += 37) {
    const cv::Mat out = dv::canonicalize(bank.images[i]);
    const cv::Rect box = ink_box(out);
    // The 20 px include the faint anti-aliased rim; the strokes above 0.2 span 17..20.
    EXPECT_GE(std::max(box.width, box.height), 17) << "digit " << i;
    EXPECT_LE(std::max(box.width, box.height), 20) << "digit " << i;
    const auto c = centre_of_mass(out);
    EXPECT_NEAR(c.x, 13.5, 1.0) << "digit " << i;
    EXPECT_NEAR(c.y, 13.5, 1.0) << "digit " << i;
  }
}

TEST(PreprocessTest, DarkInkOnPaperGivesTheSameDigitAsWhiteOnBlack) {
  const auto& bank = digitnet::test::heldout_bank();
  for (size_t i = 0; i < bank.size(); i += 53) {
    const cv::Mat clean = dv::canonicalize(bank.images[i], dv::Polarity::kLightInk);
    const cv::Mat photo = dv::canonicalize(on_paper(bank.images[i]));
    // Same strokes: the two images correlate strongly.
    const double corr = clean.dot(photo) / std::sqrt(clean.dot(clean) * photo.dot(photo));
    EXPECT_GT(corr, 0.7) << "digit " << i;
  }
}

TEST(PreprocessTest, AutomaticPolarityAgreesWithTheExplicitOne) {
  const auto& bank = digitnet::test::heldout_bank();
  cv::Mat inverted;
  cv::bitwise_not(bank.images[5], inverted);
  const cv::Mat a = dv::canonicalize(inverted);
  const cv::Mat b = dv::canonicalize(inverted, dv::Polarity::kDarkInk);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

TEST(PreprocessTest, BlankRegionGivesZeros) {
  const cv::Mat blank(40, 30, CV_8UC3, cv::Scalar(200, 200, 200));
  cv::Mat out(28, 28, CV_32F);
  EXPECT_FALSE(dv::canonicalize_into(blank, out));
  EXPECT_EQ(cv::countNonZero(out), 0);
}

TEST(PreprocessTest, SpecksAreRemoved) {
  cv::Mat img(60, 60, CV_8U, cv::Scalar(230));
  cv::line(img, {30, 8}, {30, 52}, cv::Scalar(20), 5);  // a "1"
  img.at<uint8_t>(3, 3) = 0;                            // a speck in the corner
  const cv::Mat out = dv::canonicalize(img);
  const cv::Rect box = ink_box(out);
  EXPECT_EQ(box.height, 20);
  EXPECT_LT(box.width, 8);  // the speck did not widen the crop
}

TEST(PreprocessTest, BatchWritesEveryBoxIntoOneTensor) {
  const auto& bank = digitnet::test::heldout_bank();
  cv::Mat sheet(28, 28 * 3, CV_8U, cv::Scalar(0));
  for (int i = 0; i < 3; ++i) bank.images[size_t(i * 40)].copyTo(sheet(cv::Rect(28 * i, 0, 28, 28)));
  const std::vector<cv::Rect> boxes = {{0, 0, 28, 28}, {28, 0, 28, 28}, {56, 0, 28, 28}, {500, 500, 10, 10}};
  const auto t = dv::canonicalize_batch(sheet, boxes);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{4, 1, 28, 28}));
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(t[i], dv::canonicalize_tensor(bank.images[size_t(i * 40)]))) << i;
  EXPECT_EQ(t[3].sum().item<float>(), 0.0f);  // outside the image: empty, no crash
}

TEST(PreprocessTest, TensorToImageRoundTrips) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto t = dv::canonicalize_tensor(bank.images[7]);
  const cv::Mat img = dv::tensor_to_image(t);
  ASSERT_EQ(img.type(), CV_8U);
  EXPECT_NEAR(img.at<uint8_t>(14, 14) / 255.0, t[0][14][14].item<float>(), 1.0 / 255.0);
}

TEST(PreprocessTest, RejectsEmptyImagesAndOddChannelCounts) {
  EXPECT_THROW(dv::to_grey8(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(dv::to_grey8(cv::Mat(4, 4, CV_8UC2)), std::invalid_argument);
}

TEST(PreprocessTest, ACoreKeepsTheDigitAndDropsItsNeighbours) {
  // A thin 1 between two 0s, cropped square around the 1 as the reader crops it.
  cv::Mat img(100, 160, CV_8U, cv::Scalar(220));
  cv::ellipse(img, {40, 50}, {16, 28}, 0, 0, 360, cv::Scalar(30), 4);
  cv::line(img, {80, 22}, {80, 78}, cv::Scalar(30), 4);
  cv::ellipse(img, {120, 50}, {16, 28}, 0, 0, 360, cv::Scalar(30), 4);
  const cv::Rect crop(45, 15, 70, 70);   // reaches into both 0s
  const cv::Rect one(78, 20, 5, 61);     // the segmenter's box of the 1
  const auto plain = dv::canonicalize_batch(img, {crop});
  const auto cored = dv::canonicalize_batch(img, {crop}, dv::Polarity::kAuto, {one});
  const cv::Mat p(28, 28, CV_32F, plain.data_ptr<float>()), c(28, 28, CV_32F, cored.data_ptr<float>());
  // With the core, only a tall thin stroke remains; without it the 0s' arcs widen the ink.
  EXPECT_LE(ink_box(c).width, 8) << ink_box(c);
  EXPECT_EQ(ink_box(c).height, 20);
  EXPECT_GT(ink_box(p).width, 12) << ink_box(p);
  EXPECT_THROW(dv::canonicalize_batch(img, {crop, crop}, dv::Polarity::kAuto, {one}), std::invalid_argument);
}

TEST(PreprocessTest, AThinOneIsKept) {
  // Scaled to 20 px high, a thin stroke is 2 px wide: it must still come out, centred.
  cv::Mat img(80, 40, CV_8U, cv::Scalar(220));
  cv::line(img, {20, 10}, {20, 68}, cv::Scalar(30), 4);
  const cv::Mat out = dv::canonicalize(img);
  const cv::Rect box = ink_box(out);
  EXPECT_EQ(box.height, 20);
  EXPECT_LE(box.width, 3);
  EXPECT_NEAR(centre_of_mass(out).x, 13.5, 1.0);
}
