#pragma once
// The XOR experiment of the tutorial: one training run of XorNet, the hand-computed forward
// pass that checks it, and many seeded runs at once (the success-rate table).
//
// Every run draws its initial weights and its per-epoch shuffles from its own std::mt19937_64
// seeded with the run's seed, with portable draws, so a seed gives the same run on every
// platform and device, and trial k of a table seeded S is the single run seeded S + k.

#include "digitnet/models.h"

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace digitnet {

enum class XorInit {
  kKeras,  // Glorot-uniform weights, zero biases (the tutorial's Keras defaults)
  kTorch,  // LibTorch's Linear default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
};
XorInit parse_xor_init(const std::string& name);  // "keras" | "torch"
std::string to_string(XorInit init);

struct XorConfig {
  int64_t hidden = 2;
  int64_t epochs = 1000;  // each epoch: the 4 rows, shuffled, one SGD step per row
  double lr = 0.1;
  uint64_t seed = 0;
  XorInit init = XorInit::kKeras;
};
// Throws std::invalid_argument naming the flag for a hidden size outside 1..4096, epochs
// outside 1..1,000,000, or a learning rate that is not a positive finite number below 100.
void validate(const XorConfig& config);

// The four XOR rows in the tutorial's order: 00, 01, 10, 11; targets 0, 1, 1, 0.
torch::Tensor xor_inputs();   // [4,2] float
torch::Tensor xor_targets();  // [4,1] float

// The weights in the tutorial's layout: output = sigmoid(relu(X·W1 + b1)·W2 + b2).
struct XorWeights {
  std::vector<std::vector<double>> w1;  // [2][H]
  std::vector<double> b1;               // [H]
  std::vector<double> w2;               // [H] (the [H,1] kernel)
  double b2 = 0.0;
};
XorWeights extract_weights(XorNetImpl& net);

// The forward pass by hand, plain C++ with no tensor operations.
std::array<double, 4> manual_forward(const XorWeights& w);

// Re-initialises `net` as the run seeded `seed` starts.
void initialise_xor_net(XorNetImpl& net, XorInit init, uint64_t seed);

struct XorRun {
  std::array<double, 4> predictions{};  // the network's outputs for the four rows
  std::vector<double> epoch_loss;       // mean binary cross-entropy of each epoch
  bool success = false;                 // all four outputs on the right side of 0.5
};

// Trains `net` (already on `device`) in place: re-initialises it from config.seed, then
// config.epochs epochs of SGD with batch size 1 on binary cross-entropy.
// `on_epoch(epoch, mean_loss)` is called after each epoch when given.
XorRun train_xor(XorNetImpl& net, const XorConfig& config, const torch::Device& device,
                 const std::function<void(int64_t, double)>& on_epoch = {});

// True when all four outputs are on the right side of 0.5.
bool xor_solved(const std::array<double, 4>& predictions);

struct XorTrialsConfig {
  std::vector<int64_t> hidden_sizes = {2, 4, 6};
  int64_t trials = 100;  // per hidden size
  int64_t epochs = 1000;
  double lr = 0.1;
  uint64_t seed = 0;     // trial k uses seed + k
  XorInit init = XorInit::kKeras;
};
void validate(const XorTrialsConfig& config);

struct XorTrials {
  std::vector<int64_t> hidden_sizes;
  std::vector<int64_t> successes;  // per hidden size, out of `trials`
  int64_t trials = 0;
  std::vector<std::array<double, 4>> predictions;  // per hidden size, then per trial
  double rate(size_t i) const { return trials ? double(successes[i]) / double(trials) : 0.0; }
};

// All trials of all hidden sizes trained at once as batched tensors on `device`: each trial
// has its own weights (smaller hidden layers are zero-padded, which leaves them exact), and
// the gradients of the 2-H-1 network are written out by hand. Each trial reproduces the
// single run train_xor with seed + k (to float rounding).
XorTrials run_xor_trials(const XorTrialsConfig& config, const torch::Device& device);

// The same trials one network after another with train_xor: the reference for benchmarks.
XorTrials run_xor_trials_sequential(const XorTrialsConfig& config, const torch::Device& device);

// Success rates the tutorial reports for 2, 4 and 6 hidden neurons (0 when it reports none).
double tutorial_success_rate(int64_t hidden);

// The Keras-style model summary: layers, output shapes, parameter counts.
std::string xor_summary(XorNetImpl& net);

}  // namespace digitnet
