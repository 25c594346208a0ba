#include "digitnet/vision/reader_data.h"

#include "digitnet/datasets.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <stdexcept>

namespace {

const std::filesystem::path kTiny = std::filesystem::path(DIGITNET_TEST_DATA) / "mnist-tiny";

TEST(ReaderDataTest, EveryDigitKeepsItsLabelInEveryCopy) {
  const auto mnist = digitnet::load_idx_folder(kTiny);
  const auto x = mnist.train.images.narrow(0, 0, 30), y = mnist.train.labels.narrow(0, 0, 30);
  const auto [images, labels] = digitnet::vision::make_reader_data(x, y, {3, true, 7});
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{120, 28, 28}));
  ASSERT_EQ(labels.size(0), 120);
  EXPECT_EQ(images.scalar_type(), torch::kUInt8);
  // Shuffled, but each digit's label appears exactly (copies + 1) times as often as in y.
  EXPECT_TRUE(torch::equal(torch::bincount(labels, {}, 10), torch::bincount(y, {}, 10) * 4));
  EXPECT_FALSE(torch::equal(labels, y.repeat_interleave(4)));
  // Canonicalised like MNIST: ink (bright) inside, a dark border. A degradation can now and
  // then leave nothing to find (about 0.1% of copies of real MNIST): allow that, but rarely.
  const auto f = images.to(torch::kFloat);
  EXPECT_LE((f.amax({1, 2}) < 50).sum().item<int64_t>(), 2);
  EXPECT_LT(f.narrow(1, 0, 2).mean().item<float>(), 10.0f);
}

TEST(ReaderDataTest, SameSeedSameDataOtherSeedOtherData) {
  const auto mnist = digitnet::load_idx_folder(kTiny);
  const auto x = mnist.train.images.narrow(0, 0, 20), y = mnist.train.labels.narrow(0, 0, 20);
  const auto a = digitnet::vision::make_reader_data(x, y, {2, false, 1});
  const auto b = digitnet::vision::make_reader_data(x, y, {2, false, 1});
  const auto c = digitnet::vision::make_reader_data(x, y, {2, false, 2});
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_TRUE(torch::equal(a.second, b.second));
  EXPECT_FALSE(torch::equal(a.first, c.first));
}

TEST(ReaderDataTest, SplitsKeepValidationApartAndNeverTouchTheTestSplit) {
  auto mnist = digitnet::load_idx_folder(kTiny);
  const int64_t n = mnist.train.size();
  const auto splits = digitnet::vision::make_reader_splits(mnist, {4, true, 0}, 0.2);
  const int64_t held = static_cast<int64_t>(double(n) * 0.2);
  EXPECT_EQ(splits.train.size(), (n - held) * 5);
  EXPECT_EQ(splits.test.size(), held * 3);  // validation: 2 degraded copies and the clean digit
  EXPECT_EQ(splits.name, "reader(mnist-tiny, 4 copies)");
  // The validation split comes from the last 20% of the train split alone.
  const auto tail = mnist.train.labels.narrow(0, n - held, held);
  EXPECT_TRUE(torch::equal(torch::bincount(splits.test.labels, {}, 10), torch::bincount(tail, {}, 10) * 3));
  // Changing the test split changes nothing.
  mnist.test.images.zero_();
  const auto again = digitnet::vision::make_reader_splits(mnist, {4, true, 0}, 0.2);
  EXPECT_TRUE(torch::equal(again.train.images, splits.train.images));
  EXPECT_TRUE(torch::equal(again.test.images, splits.test.images));
}

TEST(ReaderDataTest, SplitsRefuseBadFractionsAndTinySets) {
  const auto mnist = digitnet::load_idx_folder(kTiny);
  EXPECT_THROW(digitnet::vision::make_reader_splits(mnist, {}, 0.0), std::invalid_argument);
  EXPECT_THROW(digitnet::vision::make_reader_splits(mnist, {}, 0.9), std::invalid_argument);
  digitnet::DatasetSplits one = mnist;
  one.train.images = mnist.train.images.narrow(0, 0, 1);
  one.train.labels = mnist.train.labels.narrow(0, 0, 1);
  EXPECT_THROW(digitnet::vision::make_reader_splits(one, {}, 0.1), std::invalid_argument);
}

}  // namespace
