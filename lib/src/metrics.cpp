#include "digitnet/metrics.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace digitnet {
namespace {

void check_inputs(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.dim() != 2 || labels.dim() != 1 || logits.size(0) != labels.size(0))
    throw std::invalid_argument("classification metrics need logits [N,C] and labels [N]");
}

double nll(const torch::Tensor& logits, const torch::Tensor& labels, double t) {
  return torch::nn::functional::cross_entropy(logits / t, labels).item<double>();
}

}  // namespace

double fit_temperature(const torch::Tensor& logits_in, const torch::Tensor& labels_in) {
  check_inputs(logits_in, labels_in);
  if (logits_in.size(0) == 0) return 1.0;
  const auto logits = logits_in.to(torch::kCPU, torch::kDouble);
  const auto labels = labels_in.to(torch::kCPU);
  // Golden-section search on u = log T; the NLL is unimodal in T for a fixed set of logits.
  double lo = std::log(0.05), hi = std::log(20.0);
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
  double fa = nll(logits, labels, std::exp(a)), fb = nll(logits, labels, std::exp(b));
  for (int i = 0; i < 60; ++i) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(logits, labels, std::exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(logits, labels, std::exp(b));
    }
  }
  return std::exp((lo + hi) / 2.0);
}

double expected_calibration_error(const torch::Tensor& logits, const torch::Tensor& labels,
                                  double temperature, int bins) {
  check_inputs(logits, labels);
  const int64_t n = logits.size(0);
  if (n == 0) return 0.0;
  const auto probs = torch::softmax(logits.to(torch::kCPU, torch::kDouble) / temperature, 1);
  const auto [conf, pred] = probs.max(1);
  const auto hit = pred.eq(labels.to(torch::kCPU)).to(torch::kDouble);
  const auto bin = (conf * bins).floor().clamp(0, bins - 1).to(torch::kLong);
  const auto count = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, torch::ones_like(conf));
  const auto conf_sum = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, conf);
  const auto hit_sum = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, hit);
  return ((conf_sum - hit_sum).abs().sum() / double(n)).item<double>();
}

ClassificationReport classification_report(const torch::Tensor& logits_in, const torch::Tensor& labels_in,
                                           double temperature) {
  check_inputs(logits_in, labels_in);
  const auto logits = logits_in.to(torch::kCPU, torch::kFloat);
  const auto labels = labels_in.to(torch::kCPU, torch::kLong);
  const int64_t n = logits.size(0), c = logits.size(1);
  ClassificationReport r;
  r.samples = n;
  r.temperature = temperature;
  const auto pred = logits.argmax(1);
  r.correct = pred.eq(labels).sum().item<int64_t>();
  r.accuracy = n ? double(r.correct) / double(n) : 0.0;
  r.loss = n ? nll(logits.to(torch::kDouble), labels, temperature) : 0.0;
  r.ece = expected_calibration_error(logits, labels, temperature);
  r.confusion = torch::zeros({c * c}, torch::kLong)
                    .index_add_(0, labels * c + pred, torch::ones({n}, torch::kLong))
                    .view({c, c});
  const auto cm = r.confusion.accessor<int64_t, 2>();
  for (int64_t k = 0; k < c; ++k) {
    int64_t tp = cm[k][k], predicted = 0, actual = 0;
    for (int64_t j = 0; j < c; ++j) {
      predicted += cm[j][k];
      actual += cm[k][j];
    }
    ClassMetrics m;
    m.support = actual;
    m.precision = predicted ? double(tp) / double(predicted) : 0.0;
    m.recall = actual ? double(tp) / double(actual) : 0.0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    r.per_class.push_back(m);
  }
  return r;
}

Json report_json(const ClassificationReport& r) {
  Json confusion = Json::array();
  const auto cm = r.confusion.accessor<int64_t, 2>();
  for (int64_t i = 0; i < r.confusion.size(0); ++i) {
    Json row = Json::array();
    for (int64_t j = 0; j < r.confusion.size(1); ++j) row.push(cm[i][j]);
    confusion.push(row);
  }
  Json per_class = Json::array();
  for (size_t k = 0; k < r.per_class.size(); ++k)
    per_class.push(Json::object()
                       .set("class", static_cast<int64_t>(k))
                       .set("precision", r.per_class[k].precision)
                       .set("recall", r.per_class[k].recall)
                       .set("f1", r.per_class[k].f1)
                       .set("support", r.per_class[k].support));
  return Json::object()
      .set("samples", r.samples)
      .set("correct", r.correct)
      .set("accuracy", r.accuracy)
      .set("loss", r.loss)
      .set("ece", r.ece)
      .set("temperature", r.temperature)
      .set("confusion", confusion)
      .set("per_class", per_class);
}

std::string report_text(const ClassificationReport& r) {
  std::ostringstream out;
  char buf[160];
  const int64_t c = r.confusion.size(0);
  const auto cm = r.confusion.accessor<int64_t, 2>();
  out << "confusion matrix (rows: true digit, columns: predicted)\n      ";
  for (int64_t j = 0; j < c; ++j) {
    std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(j));
    out << buf;
  }
  out << '\n';
  for (int64_t i = 0; i < c; ++i) {
    std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(i));
    out << buf;
    for (int64_t j = 0; j < c; ++j) {
      std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(cm[i][j]));
      out << buf;
    }
    out << '\n';
  }
  out << "\nclass  precision  recall      f1  support\n";
  for (size_t k = 0; k < r.per_class.size(); ++k) {
    const auto& m = r.per_class[k];
    std::snprintf(buf, sizeof buf, "%5zu  %9.4f  %6.4f  %6.4f  %7lld\n", k, m.precision, m.recall, m.f1,
                  static_cast<long long>(m.support));
    out << buf;
  }
  return out.str();
}

}  // namespace digitnet
