#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/xor.h"

namespace {

const torch::Device kCpu(torch::kCPU);

double max_abs_diff(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  double d = 0;
  for (int i = 0; i < 4; ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

TEST(XorNetTest, HasNineParametersWithTwoHiddenNeurons) {
  digitnet::XorNet net(digitnet::XorNetOptions{2});
  EXPECT_EQ(digitnet::count_parameters(*net), 9);
  digitnet::XorNet wide(digitnet::XorNetOptions{6});
  EXPECT_EQ(digitnet::count_parameters(*wide), 6 * 2 + 6 + 6 + 1);
}

TEST(XorNetTest, RejectsHiddenSizeZero) {
  EXPECT_THROW(digitnet::XorNet(digitnet::XorNetOptions{0}), std::invalid_argument);
}

TEST(XorTest, ManualForwardPassEqualsTheNetwork) {
  digitnet::XorNet net(digitnet::XorNetOptions{4});
  digitnet::initialise_xor_net(*net, digitnet::XorInit::kTorch, 3);
  torch::NoGradGuard no_grad;
  const auto p = net->forward(digitnet::xor_inputs()).to(torch::kDouble);
  const auto manual = digitnet::manual_forward(digitnet::extract_weights(*net));
  for (int r = 0; r < 4; ++r) EXPECT_NEAR(manual[r], p[r][0].item<double>(), 1e-6);
}

TEST(XorTest, KerasInitHasZeroBiasesAndGlorotBoundedWeights) {
  digitnet::XorNet net(digitnet::XorNetOptions{2});
  digitnet::initialise_xor_net(*net, digitnet::XorInit::kKeras, 7);
  const auto w = digitnet::extract_weights(*net);
  const double l1 = std::sqrt(6.0 / 4.0), l2 = std::sqrt(6.0 / 3.0);
  for (const auto& row : w.w1)
    for (const double v : row) EXPECT_LE(std::abs(v), l1);
  for (const double v : w.w2) EXPECT_LE(std::abs(v), l2);
  for (const double v : w.b1) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(w.b2, 0.0);
}

TEST(XorTest, SameSeedGivesSameStartAndOtherSeedAnother) {
  digitnet::XorNet a(digitnet::XorNetOptions{3}), b(digitnet::XorNetOptions{3});
  digitnet::initialise_xor_net(*a, digitnet::XorInit::kKeras, 11);
  digitnet::initialise_xor_net(*b, digitnet::XorInit::kKeras, 11);
  EXPECT_TRUE(torch::equal(a->hidden->weight, b->hidden->weight));
  digitnet::initialise_xor_net(*b, digitnet::XorInit::kKeras, 12);
  EXPECT_FALSE(torch::equal(a->hidden->weight, b->hidden->weight));
}

TEST(XorTest, FixedSeedWithSixHiddenLearnsXor) {
  digitnet::XorNet net(digitnet::XorNetOptions{6});
  const auto run = digitnet::train_xor(*net, {6, 1000, 0.1, 1, digitnet::XorInit::kKeras}, kCpu);
  EXPECT_TRUE(run.success);
  EXPECT_LT(run.predictions[0], 0.1);
  EXPECT_GT(run.predictions[1], 0.9);
  EXPECT_GT(run.predictions[2], 0.9);
  EXPECT_LT(run.predictions[3], 0.1);
  ASSERT_EQ(run.epoch_loss.size(), 1000u);
  EXPECT_LT(run.epoch_loss.back(), run.epoch_loss.front() / 5);
}

TEST(XorTest, TrainingCallsBackOncePerEpoch) {
  digitnet::XorNet net(digitnet::XorNetOptions{2});
  int64_t calls = 0;
  digitnet::train_xor(*net, {2, 7, 0.1, 0, digitnet::XorInit::kKeras}, kCpu,
                      [&](int64_t epoch, double) { EXPECT_EQ(epoch, ++calls); });
  EXPECT_EQ(calls, 7);
}

TEST(XorTest, RejectsBadConfigurations) {
  digitnet::XorConfig c;
  c.hidden = 0;
  EXPECT_THROW(digitnet::validate(c), std::invalid_argument);
  c = {};
  c.epochs = -5;
  EXPECT_THROW(digitnet::validate(c), std::invalid_argument);
  c.epochs = 2'000'000'000;
  EXPECT_THROW(digitnet::validate(c), std::invalid_argument);
  c = {};
  c.lr = 0;
  EXPECT_THROW(digitnet::validate(c), std::invalid_argument);
  c.lr = std::nan("");
  EXPECT_THROW(digitnet::validate(c), std::invalid_argument);
  digitnet::XorTrialsConfig t;
  t.trials = 0;
  EXPECT_THROW(digitnet::validate(t), std::invalid_argument);
  t = {};
  t.hidden_sizes = {};
  EXPECT_THROW(digitnet::validate(t), std::invalid_argument);
  t = {};
  t.hidden_sizes = {4096};
  t.trials = 100000;
  EXPECT_THROW(digitnet::validate(t), std::invalid_argument);
}

TEST(XorTrialsTest, BatchedTrialEqualsTheSingleRunWithItsSeed) {
  digitnet::XorTrialsConfig config;
  config.hidden_sizes = {2, 5};
  config.trials = 4;
  config.epochs = 300;
  config.seed = 20;
  const auto batched = digitnet::run_xor_trials(config, kCpu);
  const auto single = digitnet::run_xor_trials_sequential(config, kCpu);
  ASSERT_EQ(batched.predictions.size(), 8u);
  ASSERT_EQ(single.predictions.size(), 8u);
  for (size_t t = 0; t < 8; ++t)
    EXPECT_LT(max_abs_diff(batched.predictions[t], single.predictions[t]), 1e-4) << "trial " << t;
  EXPECT_EQ(batched.successes, single.successes);
}

TEST(XorTrialsTest, SameSeedGivesSameTable) {
  digitnet::XorTrialsConfig config;
  config.hidden_sizes = {2, 4};
  config.trials = 40;
  config.epochs = 200;
  config.seed = 5;
  const auto a = digitnet::run_xor_trials(config, kCpu);
  const auto b = digitnet::run_xor_trials(config, kCpu);
  EXPECT_EQ(a.successes, b.successes);
  for (size_t t = 0; t < a.predictions.size(); ++t) EXPECT_EQ(a.predictions[t], b.predictions[t]);
}

TEST(XorTrialsTest, WiderHiddenLayersSucceedMoreOften) {
  // The tutorial's finding: 2 hidden neurons often fail, 6 rarely do.
  digitnet::XorTrialsConfig config;
  config.hidden_sizes = {2, 6};
  config.trials = 300;
  const auto r = digitnet::run_xor_trials(config, kCpu);
  EXPECT_GT(r.rate(0), 0.05);
  EXPECT_LT(r.rate(0), 0.40);
  EXPECT_GT(r.rate(1), 0.60);
  EXPECT_GT(r.rate(1), r.rate(0) + 0.3);
}

TEST(XorTest, SummaryShowsLayersAndNineParameters) {
  digitnet::XorNet net(digitnet::XorNetOptions{2});
  const auto s = digitnet::xor_summary(*net);
  EXPECT_NE(s.find("Total params: 9"), std::string::npos) << s;
  EXPECT_NE(s.find("relu"), std::string::npos);
  EXPECT_NE(s.find("sigmoid"), std::string::npos);
  EXPECT_NE(s.find("(None, 2)"), std::string::npos);
}

TEST(XorTest, ParsesInitNames) {
  EXPECT_EQ(digitnet::parse_xor_init("keras"), digitnet::XorInit::kKeras);
  EXPECT_EQ(digitnet::parse_xor_init("torch"), digitnet::XorInit::kTorch);
  EXPECT_THROW(digitnet::parse_xor_init("glorot"), std::invalid_argument);
}
