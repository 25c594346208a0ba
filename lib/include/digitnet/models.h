#pragma once
// The networks, as torch::nn modules built from options structs. No files, no devices here.

#include <torch/nn/module.h>
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

// Number of trainable scalars (9 for XorNet with 2 hidden neurons).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace digitnet
