#pragma once
// The networks, as torch::nn modules built from options structs. No files, no devices here.

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

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

}  // namespace digitnet
