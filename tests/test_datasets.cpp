#include "digitnet/datasets.h"

#include "digitnet/idx.h"
#include "support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace {

using digitnet::test::read_text;
using digitnet::test::TempDir;
using digitnet::test::write_text;

const std::filesystem::path kTiny = std::filesystem::path(DIGITNET_TEST_DATA) / "mnist-tiny";

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Writes a split of `n` images of h x w with labels i % 10 (uncompressed unless `gz`).
void write_split(const std::filesystem::path& dir, const std::string& split, int64_t n, int64_t h = 28,
                 int64_t w = 28, bool gz = false) {
  const std::string ext = gz ? ".gz" : "";
  digitnet::write_idx(dir / (split + "-images-idx3-ubyte" + ext), torch::randint(0, 256, {n, h, w}, torch::kByte));
  digitnet::write_idx(dir / (split + "-labels-idx1-ubyte" + ext), torch::arange(n, torch::kByte).remainder(10));
}

TEST(DatasetsTest, LoadsTheCommittedFixture) {
  const auto splits = digitnet::load_idx_folder(kTiny);
  EXPECT_EQ(splits.name, "mnist-tiny");
  EXPECT_EQ(splits.train.size(), 1000);
  EXPECT_EQ(splits.test.size(), 300);
  for (const auto* d : {&splits.train, &splits.test}) {
    EXPECT_EQ(d->images.scalar_type(), torch::kByte);
    EXPECT_EQ(d->images.dim(), 3);
    EXPECT_EQ(d->images.size(1), 28);
    EXPECT_EQ(d->images.size(2), 28);
    EXPECT_EQ(d->labels.scalar_type(), torch::kLong);
    EXPECT_EQ(d->labels.dim(), 1);
    EXPECT_GE(d->labels.min().item<int64_t>(), 0);
    EXPECT_LE(d->labels.max().item<int64_t>(), 9);
  }
  // Real digits: every class is present, and images have ink on a dark background.
  EXPECT_EQ((torch::bincount(splits.train.labels) > 0).sum().item<int64_t>(), 10);
  EXPECT_EQ(splits.train.images.max().item<int>(), 255);
  const double mean = splits.train.images.to(torch::kFloat).mean().item<double>() / 255.0;
  EXPECT_NEAR(mean, 0.13, 0.02);
}

TEST(DatasetsTest, NamesTheFolderEvenWithATrailingSlash) {
  EXPECT_EQ(digitnet::load_idx_folder(kTiny.string() + "/").name, "mnist-tiny");
}

TEST(DatasetsTest, LoadsOneSplit) {
  const auto test = digitnet::load_idx_split(kTiny, "t10k");
  EXPECT_EQ(test.images.size(0), 300);
  EXPECT_EQ(test.labels.size(0), 300);
}

TEST(DatasetsTest, MissingFolderSaysToRunGetData) {
  TempDir tmp;
  const auto dir = tmp / "mnist";
  const std::string msg = error_of([&] { digitnet::load_idx_folder(dir); });
  EXPECT_NE(msg.find(dir.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found (run scripts/get-data.sh)"), std::string::npos) << msg;
}

TEST(DatasetsTest, MissingFashionFolderSaysToRunGetDataFashion) {
  TempDir tmp;
  const std::string msg = error_of([&] { digitnet::load_idx_folder(tmp / "fashion-mnist"); });
  EXPECT_NE(msg.find("run scripts/get-data.sh --fashion"), std::string::npos) << msg;
}

TEST(DatasetsTest, MissingFileNamesTheGzFileAndSaysToRunGetData) {
  TempDir tmp;
  write_split(tmp.path(), "train", 5);
  const std::string msg = error_of([&] { digitnet::load_idx_folder(tmp.path()); });
  EXPECT_EQ(msg, (tmp / "t10k-images-idx3-ubyte.gz").string() + " not found (run scripts/get-data.sh)");
}

TEST(DatasetsTest, ReadsUncompressedAndCompressedFiles) {
  TempDir tmp;
  write_split(tmp.path(), "train", 12, 28, 28, false);
  write_split(tmp.path(), "t10k", 7, 28, 28, true);
  const auto s = digitnet::load_idx_folder(tmp.path());
  EXPECT_EQ(s.train.size(), 12);
  EXPECT_EQ(s.test.size(), 7);
  EXPECT_TRUE(torch::equal(s.test.labels, torch::arange(7, torch::kLong)));
}

TEST(DatasetsTest, AcceptsOtherImageSizes) {
  TempDir tmp;
  write_split(tmp.path(), "train", 4, 32, 20);
  write_split(tmp.path(), "t10k", 3, 32, 20);
  const auto s = digitnet::load_idx_folder(tmp.path());
  EXPECT_EQ(s.train.images.sizes(), (std::vector<int64_t>{4, 32, 20}));
}

TEST(DatasetsTest, RejectsTrainAndTestOfDifferentSizes) {
  TempDir tmp;
  write_split(tmp.path(), "train", 4, 28, 28);
  write_split(tmp.path(), "t10k", 3, 32, 32);
  const std::string msg = error_of([&] { digitnet::load_idx_folder(tmp.path()); });
  EXPECT_NE(msg.find("train images are 28x28 but t10k images are 32x32"), std::string::npos) << msg;
}

TEST(DatasetsTest, RejectsImageLabelCountMismatch) {
  TempDir tmp;
  write_split(tmp.path(), "train", 5);
  digitnet::write_idx(tmp / "train-labels-idx1-ubyte", torch::zeros({4}, torch::kByte));
  const std::string msg = error_of([&] { digitnet::load_idx_split(tmp.path(), "train"); });
  EXPECT_NE(msg.find("train has 5 images but 4 labels"), std::string::npos) << msg;
}

TEST(DatasetsTest, RejectsLabelsOutsideZeroToNine) {
  TempDir tmp;
  write_split(tmp.path(), "train", 3);
  digitnet::write_idx(tmp / "train-labels-idx1-ubyte", torch::tensor({1, 10, 2}, torch::kByte));
  const std::string msg = error_of([&] { digitnet::load_idx_split(tmp.path(), "train"); });
  EXPECT_NE(msg.find("train-labels-idx1-ubyte: label 10 is outside 0..9"), std::string::npos) << msg;
}

TEST(DatasetsTest, RejectsLabelsOfTheWrongType) {
  TempDir tmp;
  write_split(tmp.path(), "train", 3);
  digitnet::write_idx(tmp / "train-labels-idx1-ubyte", torch::tensor({1, 2, 3}, torch::kInt));
  EXPECT_THROW(digitnet::load_idx_split(tmp.path(), "train"), std::runtime_error);
}

TEST(DatasetsTest, RejectsCorruptFilesNamingThem) {
  TempDir tmp;
  write_split(tmp.path(), "train", 3);
  const auto file = tmp / "train-images-idx3-ubyte";
  const std::string bytes = read_text(file);
  write_text(file, bytes.substr(0, bytes.size() - 1));
  const std::string msg = error_of([&] { digitnet::load_idx_split(tmp.path(), "train"); });
  EXPECT_NE(msg.find(file.string() + ": truncated"), std::string::npos) << msg;
}

TEST(DatasetsTest, RejectsBadSplitNames) {
  EXPECT_THROW(digitnet::load_idx_split(kTiny, ""), std::invalid_argument);
  EXPECT_THROW(digitnet::load_idx_split(kTiny, "../train"), std::invalid_argument);
}

}  // namespace
