#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/metrics.h"

TEST(MetricsTest, ReportCountsConfusionPrecisionAndRecall) {
  // 3 classes; true labels 0,0,1,1,2; predictions 0,1,1,1,0.
  auto logits = torch::full({5, 3}, -5.0);
  const std::vector<int64_t> pred = {0, 1, 1, 1, 0};
  for (int i = 0; i < 5; ++i) logits[i][pred[i]] = 5.0;
  const auto labels = torch::tensor({0, 0, 1, 1, 2}, torch::kLong);
  const auto r = digitnet::classification_report(logits, labels);
  EXPECT_EQ(r.correct, 3);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
  EXPECT_EQ(r.confusion[0][1].item<int64_t>(), 1);
  EXPECT_EQ(r.confusion[2][0].item<int64_t>(), 1);
  EXPECT_DOUBLE_EQ(r.per_class[1].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.per_class[1].recall, 1.0);
  EXPECT_DOUBLE_EQ(r.per_class[0].recall, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[2].f1, 0.0);
  EXPECT_EQ(r.per_class[0].support, 2);
}

TEST(MetricsTest, OverconfidentLogitsGetATemperatureAboveOne) {
  torch::manual_seed(0);
  // 70% right, yet logits say ~100% sure: calibration must soften them (T > 1) and lower ECE.
  const int64_t n = 2000;
  const auto labels = torch::randint(10, {n}, torch::kLong);
  auto pred = labels.clone();
  const auto flip = torch::rand({n}) < 0.3;
  pred.masked_scatter_(flip, torch::randint(10, {n}, torch::kLong).masked_select(flip));
  const auto logits = torch::one_hot(pred, 10).to(torch::kFloat) * 12.0;
  const double t = digitnet::fit_temperature(logits, labels);
  EXPECT_GT(t, 2.0);
  EXPECT_LT(digitnet::expected_calibration_error(logits, labels, t),
            digitnet::expected_calibration_error(logits, labels, 1.0) / 3);
}

TEST(MetricsTest, PerfectConfidenceHasNoCalibrationError) {
  const auto labels = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const auto logits = torch::one_hot(labels, 10).to(torch::kFloat) * 50.0;
  EXPECT_NEAR(digitnet::expected_calibration_error(logits, labels), 0.0, 1e-9);
}

TEST(MetricsTest, JsonAndTextCarryTheNumbers) {
  const auto labels = torch::tensor({0, 1}, torch::kLong);
  const auto r = digitnet::classification_report(torch::one_hot(labels, 10).to(torch::kFloat), labels);
  const auto j = digitnet::report_json(r).dump();
  EXPECT_NE(j.find("\"accuracy\": 1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"confusion\": [[1, 0"), std::string::npos) << j;
  EXPECT_NE(digitnet::report_text(r).find("precision"), std::string::npos);
}

TEST(MetricsTest, RejectsMismatchedShapes) {
  EXPECT_THROW(digitnet::classification_report(torch::zeros({3, 10}), torch::zeros({2}, torch::kLong)),
               std::invalid_argument);
}
