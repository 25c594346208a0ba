#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/augment.h"

namespace {

torch::Tensor bar_images(int64_t n) {
  auto x = torch::zeros({n, 1, 28, 28});
  x.index_put_({torch::indexing::Slice(), 0, torch::indexing::Slice(6, 22), torch::indexing::Slice(12, 16)}, 1.0);
  return x;
}

}  // namespace

TEST(AugmentTest, KeepsShapeAndRange) {
  torch::manual_seed(0);
  const auto x = bar_images(16);
  for (const char* preset : {"none", "mnist", "camera"}) {
    const auto y = digitnet::augment_batch(x, digitnet::augment_preset(preset));
    EXPECT_EQ(y.sizes(), x.sizes()) << preset;
    EXPECT_GE(y.min().item<float>(), 0.0f) << preset;
    EXPECT_LE(y.max().item<float>(), 1.0f) << preset;
  }
}

TEST(AugmentTest, NoneIsIdentityAndMnistMovesPixels) {
  torch::manual_seed(0);
  const auto x = bar_images(8);
  EXPECT_TRUE(torch::allclose(digitnet::augment_batch(x, digitnet::augment_preset("none")), x, 1e-5, 1e-5));
  const auto y = digitnet::augment_batch(x, digitnet::augment_preset("mnist"));
  EXPECT_GT((y - x).abs().sum().item<float>(), 1.0f);
  // Ink is moved and resampled, not created from nothing: total ink stays within a factor.
  const double ratio = y.sum().item<double>() / x.sum().item<double>();
  EXPECT_GT(ratio, 0.6);
  EXPECT_LT(ratio, 1.5);
}

TEST(AugmentTest, EveryImageGetsItsOwnTransform) {
  torch::manual_seed(3);
  const auto y = digitnet::augment_batch(bar_images(4), digitnet::augment_preset("mnist"));
  EXPECT_FALSE(torch::allclose(y[0], y[1]));
}

TEST(AugmentTest, SameSeedSameResult) {
  const auto x = bar_images(4);
  torch::manual_seed(9);
  const auto a = digitnet::augment_batch(x, digitnet::augment_preset("camera"));
  torch::manual_seed(9);
  const auto b = digitnet::augment_batch(x, digitnet::augment_preset("camera"));
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(AugmentTest, RejectsUnknownPresetAndBadShape) {
  EXPECT_THROW(digitnet::augment_preset("heavy"), std::invalid_argument);
  EXPECT_THROW(digitnet::augment_batch(torch::zeros({2, 28, 28}), {}), std::invalid_argument);
}
