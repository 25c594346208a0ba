// End to end: digitnet-train --task reader on the committed fixture, and its usage errors.
#include <gtest/gtest.h>

#include "digitnet/checkpoint.h"
#include "support.h"

using digitnet::test::run_app;
using digitnet::test::TempDir;

namespace {

const std::string kData = std::string(DIGITNET_TEST_DATA) + "/mnist-tiny";
const std::string kSmall = " --channels 8 --hidden 32 --batch-size 64 --threads 1 --data-dir " + kData;

}  // namespace

TEST(TrainReaderAppTest, TrainsOnDegradedDigitsAndScoresTheValidationPart) {
  TempDir dir;
  const auto run = (dir / "run").string();
  const auto r = run_app("digitnet-train", "--task reader --epochs 2 --copies 1 --json --out " + run + kSmall);
  ASSERT_EQ(r.code, 0) << r.err;
  // 1,000 training images: 900 degraded once plus clean, 100 kept for validation (2 copies + clean).
  EXPECT_NE(r.err.find("reader data: 1800 training and 300 validation inputs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("epoch 2/2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("validation accuracy"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("test accuracy"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\"accuracy\": "), std::string::npos) << r.out;
  digitnet::CheckpointReader saved(dir / "run" / "model.pt");
  EXPECT_EQ(saved.get("kind"), "mnist");  // the readers load it like any digit model
  EXPECT_EQ(saved.get("data.name"), "reader(mnist-tiny, 1 copies)");
  EXPECT_EQ(saved.get("train.augment"), "none");  // the degradations are the augmentation
  EXPECT_NE(saved.get("temperature"), "1");
}

TEST(TrainReaderAppTest, CopiesBelongToTheReaderTask) {
  TempDir dir;
  const auto out = " --out " + (dir / "run").string() + kSmall;
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --copies 3" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task reader --copies 0" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task reader --copies 1000" + out).code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "model.pt"));
}
