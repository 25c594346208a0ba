#pragma once
// Scoring a classifier: accuracy, confusion matrix, per-class precision/recall/F1, expected
// calibration error, and the temperature that calibrates its confidence; as text and JSON.

#include "digitnet/json.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace digitnet {

struct ClassMetrics {
  double precision = 0.0, recall = 0.0, f1 = 0.0;
  int64_t support = 0;  // true samples of the class
};

struct ClassificationReport {
  int64_t samples = 0;
  int64_t correct = 0;
  double accuracy = 0.0;
  double loss = 0.0;       // mean cross-entropy of softmax(logits / temperature)
  double ece = 0.0;        // expected calibration error, 15 equal-width confidence bins
  double temperature = 1.0;
  torch::Tensor confusion;  // int64 [C,C]: rows true class, columns predicted class
  std::vector<ClassMetrics> per_class;
};

// logits: [N,C] float (any device), labels: [N] int64 in 0..C-1.
ClassificationReport classification_report(const torch::Tensor& logits, const torch::Tensor& labels,
                                           double temperature = 1.0);

// The temperature T > 0 minimising the cross-entropy of softmax(logits / T) on held-out data
// (a one-dimensional search on log T over [0.05, 20]).
double fit_temperature(const torch::Tensor& logits, const torch::Tensor& labels);

// Expected calibration error of softmax(logits / T): the confidence-weighted gap between
// confidence and accuracy over `bins` equal-width bins.
double expected_calibration_error(const torch::Tensor& logits, const torch::Tensor& labels,
                                  double temperature = 1.0, int bins = 15);

Json report_json(const ClassificationReport& report);
// The confusion matrix and per-class table as aligned text.
std::string report_text(const ClassificationReport& report);

}  // namespace digitnet
