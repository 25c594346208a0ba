#pragma once
// The networks, as torch::nn modules built from options structs. No files, no devices here.

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace digitnet {

struct XorNetOptions {
  int64_t hidden = 2;  // neurons in the hidden layer, 1..4096
};

// The tutorial's first network: Dense(H, relu) then Dense(1, sigmoid).
// Weights start as LibTorch initialises them; xor.h re-initialises them Keras-style.
class XorNetImpl : public torch::nn::Module {
 public:
  explicit XorNetImpl(const XorNetOptions& options = {});
  torch::Tensor logits(torch::Tensor x);   // [B,2] -> [B,1], before the sigmoid
  torch::Tensor forward(torch::Tensor x);  // [B,2] -> [B,1], probabilities
  const XorNetOptions& options() const { return options_; }

  torch::nn::Linear hidden{nullptr}, output{nullptr};

 private:
  XorNetOptions options_;
};
TORCH_MODULE(XorNet);

// Training-set pixel mean and standard deviation of MNIST (pixels scaled to 0..1).
constexpr double kMnistMean = 0.1307;
constexpr double kMnistStd = 0.3081;

struct MnistNetOptions {
  int64_t channels = 32;  // filters of the first convolution; the second has twice as many
  int64_t hidden = 128;   // neurons of the fully connected layer
  double dropout = 0.25;  // before the last layer, training only
  double mean = kMnistMean;  // input normalisation, applied inside forward()
  double std = kMnistStd;
};

// A small CNN for 28x28 digits: two strided conv-BN-ReLU layers (5x5/2 to 14x14, 3x3/2 to
// 7x7) and a dense layer; about 1.1 M multiply-adds per image, so it trains at thousands and
// scores at over 20,000 images/s on two CPU cores.
// Input: [B,1,28,28] float, 0..1, white ink on black as in MNIST. Output: [B,10] logits
// (softmax of logits / temperature gives calibrated probabilities, see metrics.h).
class MnistNetImpl : public torch::nn::Module {
 public:
  explicit MnistNetImpl(const MnistNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x);
  const MnistNetOptions& options() const { return options_; }

 private:
  MnistNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(MnistNet);

// Number of trainable scalars (9 for XorNet with 2 hidden neurons).
int64_t count_parameters(const torch::nn::Module& module);

// CaptchaNet's classes: the digits 0..9 are classes 0..9, CTC's blank is class 10.
constexpr int64_t kCtcBlank = 10;
constexpr int64_t kCtcClasses = 11;

struct CaptchaNetOptions {
  int64_t height = 32;    // input height in pixels, a multiple of 8; images are resized to it
  int64_t width = 128;    // input width in pixels, a multiple of 4 (width / 4 CTC time steps)
  int64_t channels = 16;  // width of the first conv block; the next have 2x and 4x as many
  int64_t hidden = 96;    // GRU units per direction
  double dropout = 0.1;   // before the GRU and the output layer, training only
};
// Throws std::invalid_argument naming the option when a value is out of range.
void validate(const CaptchaNetOptions& options);

// Reads a whole captcha without segmentation: four conv-BN-ReLU blocks (the image shrinks to
// 1/8 in height and 1/4 in width), each column of features projected, a bidirectional GRU over
// the columns, and per column log-probabilities of the 10 digits and the CTC blank.
// Input: [B,1,height,width] float, grey 0..1, either polarity (each image is standardised
// inside forward()). Output: [T,B,11] log-probabilities, T = width / 4 (ctc_loss's layout).
class CaptchaNetImpl : public torch::nn::Module {
 public:
  explicit CaptchaNetImpl(const CaptchaNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x);  // head(features(x))
  // What the output layer reads: the GRU's outputs [T,B,2*hidden] for images [B,1,H,W].
  torch::Tensor features(torch::Tensor x);
  // Log-probabilities [T,B,11] of features [T,B,2*hidden].
  torch::Tensor head(const torch::Tensor& features);
  // The last layer, features to the 11 classes' scores: what a folder's own sure readings refit
  // (CaptchaReader::fit_output).
  torch::nn::Linear& output_layer() { return output_; }
  int64_t time_steps() const { return options_.width / 4; }
  const CaptchaNetOptions& options() const { return options_; }

 private:
  CaptchaNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, conv4_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, bn4_{nullptr};
  torch::nn::Linear project_{nullptr}, output_{nullptr};
  torch::nn::GRU gru_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(CaptchaNet);

// A decoded CTC output.
struct CtcReading {
  std::string text;                     // digits, left to right
  std::vector<double> char_confidences;  // per digit: its highest probability over its frames
  double confidence = 0.0;              // product of char_confidences; 0 for an empty text
};

// Best-path decoding of one sequence of log-probabilities [T,11]: the most probable labelling
// of the frames, collapsed (repeats merged, blanks dropped). With a length constraint
// (min_length > 0 or max_length >= 0) the best labelling whose text has min_length..max_length
// digits, found by dynamic programming over (frame, digits so far, last label). Throws
// std::invalid_argument for a bad shape or for a constraint no labelling of T frames meets.
CtcReading ctc_decode(const torch::Tensor& log_probs, int64_t min_length = 0, int64_t max_length = -1);

// ctc_decode for each sequence of a batch [T,B,11].
std::vector<CtcReading> ctc_decode_batch(const torch::Tensor& log_probs, int64_t min_length = 0,
                                         int64_t max_length = -1);

// Mean CTC loss of a batch: log_probs [T,B,11] from CaptchaNet, `texts` the B true digit strings.
torch::Tensor captcha_ctc_loss(const torch::Tensor& log_probs, const std::vector<std::string>& texts);
// The CTC loss of each sequence of the batch [B] (not divided by its length).
torch::Tensor captcha_ctc_losses(const torch::Tensor& log_probs, const std::vector<std::string>& texts);

}  // namespace digitnet
