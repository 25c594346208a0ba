// vision/scene.h: generated scenes and camera-degraded digits.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "digitnet/vision/scene.h"
#include "support.h"
#include "vision_support.h"

namespace dv = digitnet::vision;

TEST(SceneTest, BankHoldsThirtyDigitsOfEveryClass) {
  const auto& bank = digitnet::test::heldout_bank();
  EXPECT_EQ(bank.size(), 300u);
  for (int d = 0; d < 10; ++d) EXPECT_EQ(std::count(bank.labels.begin(), bank.labels.end(), d), 30);
}

TEST(SceneTest, SceneHasOneToThreeLinesOfTwoToSixDigits) {
  const auto& bank = digitnet::test::heldout_bank();
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const auto s = dv::make_scene(bank, {}, seed);
    EXPECT_EQ(s.image.size(), cv::Size(640, 480));
    EXPECT_EQ(s.image.type(), CV_8UC3);
    ASSERT_GE(s.numbers.size(), 1u);
    EXPECT_LE(s.numbers.size(), 3u);
    for (const auto& n : s.numbers) {
      EXPECT_GE(n.text.size(), 2u);
      EXPECT_LE(n.text.size(), 6u);
      EXPECT_FALSE(n.box.empty());
      // The number is there: its box is darker than the paper around it.
      EXPECT_LT(cv::mean(s.image(n.box))[0], 235.0);
    }
  }
}

TEST(SceneTest, SameSeedSameScene) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto a = dv::make_scene(bank, {}, 42), b = dv::make_scene(bank, {}, 42), c = dv::make_scene(bank, {}, 43);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
  EXPECT_EQ(a.text(), b.text());
  EXPECT_GT(cv::norm(a.image, c.image, cv::NORM_L1), 0.0);
}

TEST(SceneTest, VideoFramesMoveButKeepTheirNumbers) {
  const auto& bank = digitnet::test::heldout_bank();
  const auto frames = dv::make_video(bank, {}, 6, 1);
  ASSERT_EQ(frames.size(), 6u);
  for (const auto& f : frames) EXPECT_EQ(f.text(), frames[0].text());
  EXPECT_GT(cv::norm(frames[0].image, frames[5].image, cv::NORM_L1), 0.0);
  digitnet::test::TempDir dir;
  dv::write_video(dir / "v.avi", frames);
  EXPECT_GT(std::filesystem::file_size(dir / "v.avi"), 1000u);
}

TEST(SceneTest, DegradedDigitIsDarkInkOnLighterPaperMostly) {
  const auto& bank = digitnet::test::heldout_bank();
  std::mt19937_64 rng(0);
  int dark = 0;
  for (int i = 0; i < 40; ++i) {
    const cv::Mat d = dv::degrade_digit(bank.images[size_t(i * 7)], rng);
    ASSERT_EQ(d.type(), CV_8U);
    EXPECT_GE(d.rows, 20);
    double lo = 0, hi = 0;
    cv::minMaxLoc(d, &lo, &hi);
    EXPECT_GT(hi - lo, 30.0);
    // border brighter than the middle: dark ink
    if (cv::mean(d.row(0))[0] > cv::mean(d)[0]) ++dark;
  }
  EXPECT_GE(dark, 28);
}

TEST(SceneTest, DigitGridRoundTrips) {
  const auto& bank = digitnet::test::heldout_bank();
  digitnet::test::TempDir dir;
  dv::save_digit_grid(dir / "g.png", bank, 30);
  const auto again = dv::load_digit_grid(dir / "g.png");
  ASSERT_EQ(again.size(), bank.size());
  EXPECT_EQ(cv::norm(again.images[17], bank.images[17], cv::NORM_INF), 0.0);
  EXPECT_THROW(dv::load_digit_grid(dir / "missing.png"), std::runtime_error);
}
