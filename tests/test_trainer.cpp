// The training loop on the committed MNIST fixture, with a small MnistNet so it stays fast.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/datasets.h"
#include "digitnet/digit_task.h"
#include "digitnet/trainer.h"
#include "support.h"

using digitnet::test::TempDir;

namespace {

const digitnet::DatasetSplits& fixture() {
  static const auto data = digitnet::load_idx_folder(std::string(DIGITNET_TEST_DATA) + "/mnist-tiny");
  return data;
}

digitnet::DigitTaskOptions small_task() {
  digitnet::DigitTaskOptions o;
  o.model.channels = 8;
  o.model.hidden = 32;
  o.batch_size = 64;
  return o;
}

digitnet::TrainOptions options(const TempDir& dir, int64_t epochs) {
  digitnet::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 64;
  o.out_dir = dir / "run";
  o.seed = 4;
  return o;
}

std::vector<torch::Tensor> weights(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : m.buffers()) out.push_back(b.detach().clone());
  return out;
}

}  // namespace

TEST(TrainerTest, LossFallsAndAccuracyRises) {
  TempDir dir;
  torch::manual_seed(0);
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  const auto r = digitnet::train(task, options(dir, 3));
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_FALSE(r.interrupted);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  EXPECT_GT(r.history.back().eval.at("accuracy"), 0.75);
  EXPECT_GT(r.history.back().samples_per_s, 0.0);
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "model.pt"));
  const auto metrics = digitnet::test::read_text(dir / "run" / "metrics.json");
  EXPECT_NE(metrics.find("\"complete\": true"), std::string::npos);
  EXPECT_NE(metrics.find("\"epoch\": 3"), std::string::npos);
}

TEST(TrainerTest, FinalCheckpointCarriesManifestAndTemperature) {
  TempDir dir;
  torch::manual_seed(0);
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  digitnet::train(task, options(dir, 1));
  auto loaded = digitnet::load_digit_model(dir / "run" / "model.pt", torch::kCPU);
  EXPECT_EQ(loaded.manifest.at("kind"), "mnist");
  EXPECT_EQ(loaded.manifest.at("model.channels"), "8");
  EXPECT_GT(loaded.temperature, 0.05);
  EXPECT_LT(loaded.temperature, 20.0);
  // The loaded network answers exactly as the trained one.
  const auto x = fixture().test.images.narrow(0, 0, 16);
  EXPECT_TRUE(torch::equal(digitnet::predict_logits(*task.net(), x, torch::kCPU),
                           digitnet::predict_logits(*loaded.net, x, torch::kCPU)));
}

TEST(TrainerTest, StoppedAndResumedRunEqualsAnUninterruptedOne) {
  TempDir straight_dir, resumed_dir;
  torch::manual_seed(0);
  digitnet::DigitTask straight(fixture(), small_task(), torch::kCPU);
  digitnet::train(straight, options(straight_dir, 2));

  // Stop in the middle of the first epoch, then resume in a fresh process-like setting.
  std::atomic<bool> stop{false};
  auto o = options(resumed_dir, 2);
  o.stop = &stop;
  o.progress_interval_s = 0.0;
  torch::manual_seed(0);
  {
    digitnet::DigitTask first(fixture(), small_task(), torch::kCPU);
    digitnet::TrainCallbacks cb;
    cb.on_progress = [&](const digitnet::TrainProgress& p) {
      if (p.epoch == 1 && p.batch == 5) stop = true;
    };
    const auto r = digitnet::train(first, o, cb);
    EXPECT_TRUE(r.interrupted);
    EXPECT_TRUE(r.history.empty());
  }
  stop = false;
  o.resume = true;
  torch::manual_seed(123);  // the resumed run's fresh weights are replaced by the checkpoint's
  digitnet::DigitTask second(fixture(), small_task(), torch::kCPU);
  const auto r = digitnet::train(second, o);
  ASSERT_EQ(r.history.size(), 2u);
  const auto a = weights(straight.model()), b = weights(second.model());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-5, 1e-6)) << "tensor " << i;
}

TEST(TrainerTest, ResumeWithOtherOptionsIsRefused) {
  TempDir dir;
  torch::manual_seed(0);
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  digitnet::train(task, options(dir, 1));
  auto o = options(dir, 1);
  o.resume = true;
  o.lr = 0.01;
  try {
    digitnet::train(task, o);
    FAIL() << "resumed with another learning rate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("train.lr"), std::string::npos) << e.what();
  }
  auto wider = small_task();
  wider.model.channels = 16;
  digitnet::DigitTask other(fixture(), wider, torch::kCPU);
  auto same = options(dir, 1);
  same.resume = true;
  EXPECT_THROW(digitnet::train(other, same), std::runtime_error);
}

TEST(TrainerTest, ExistingRunIsNotOverwrittenWithoutResume) {
  TempDir dir;
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  digitnet::train(task, options(dir, 1));
  const auto before = digitnet::test::read_text(dir / "run" / "model.pt");
  EXPECT_THROW(digitnet::train(task, options(dir, 1)), std::runtime_error);
  EXPECT_EQ(digitnet::test::read_text(dir / "run" / "model.pt"), before);
}

TEST(TrainerTest, ResumeWithoutCheckpointIsAnError) {
  TempDir dir;
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  auto o = options(dir, 1);
  o.resume = true;
  EXPECT_THROW(digitnet::train(task, o), std::runtime_error);
}

TEST(TrainerTest, RejectsAbsurdOptions) {
  TempDir dir;
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  auto o = options(dir, 0);
  EXPECT_THROW(digitnet::train(task, o), std::invalid_argument);
  o = options(dir, 1);
  o.lr = -1;
  EXPECT_THROW(digitnet::train(task, o), std::invalid_argument);
  o = options(dir, 1);
  o.out_dir.clear();
  EXPECT_THROW(digitnet::train(task, o), std::invalid_argument);
}

TEST(DigitTaskTest, RejectsImagesThatAreNot28By28) {
  digitnet::DatasetSplits data = fixture();
  data.train.images = torch::zeros({4, 32, 32}, torch::kByte);
  data.train.labels = torch::zeros({4}, torch::kLong);
  EXPECT_THROW(digitnet::DigitTask(data, small_task(), torch::kCPU), std::runtime_error);
}

TEST(DigitTaskTest, LoadingAnotherKindOfCheckpointIsRefused) {
  TempDir dir;
  digitnet::XorNet xor_net;
  digitnet::save_checkpoint(dir / "xor.pt", *xor_net, digitnet::new_manifest("xor"));
  EXPECT_THROW(digitnet::load_digit_model(dir / "xor.pt", torch::kCPU), std::runtime_error);
  EXPECT_THROW(digitnet::load_digit_model(dir / "missing.pt", torch::kCPU), std::runtime_error);
}

TEST(TrainerTest, ResumingACompleteRunTrainsNothing) {
  TempDir dir;
  torch::manual_seed(0);
  digitnet::DigitTask task(fixture(), small_task(), torch::kCPU);
  digitnet::train(task, options(dir, 1));
  const auto before = weights(task.model());
  auto o = options(dir, 1);
  o.resume = true;
  int epochs_run = 0;
  const auto r = digitnet::train(task, o, {nullptr, [&](const auto&, const auto&) { ++epochs_run; }});
  EXPECT_EQ(epochs_run, 0);
  EXPECT_EQ(r.history.size(), 1u);
  const auto after = weights(task.model());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));
}

TEST(DigitTaskTest, ModelOptionsDefaultWhenAbsentAndMustBeNumbers) {
  TempDir dir;
  digitnet::MnistNet net(digitnet::MnistNetOptions{8, 32});
  auto manifest = digitnet::new_manifest("mnist");
  manifest["model.channels"] = "8";
  manifest["model.hidden"] = "32";
  digitnet::save_checkpoint(dir / "partial.pt", *net, manifest);
  const auto loaded = digitnet::load_digit_model(dir / "partial.pt", torch::kCPU);
  EXPECT_EQ(loaded.net->options().channels, 8);
  EXPECT_DOUBLE_EQ(loaded.net->options().mean, digitnet::kMnistMean);
  manifest["model.hidden"] = "32x";
  digitnet::save_checkpoint(dir / "bad.pt", *net, manifest);
  EXPECT_THROW(digitnet::load_digit_model(dir / "bad.pt", torch::kCPU), std::runtime_error);
}
