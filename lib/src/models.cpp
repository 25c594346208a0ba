#include "digitnet/models.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>

#include <stdexcept>
#include <string>

namespace digitnet {

XorNetImpl::XorNetImpl(const XorNetOptions& options) : options_(options) {
  if (options.hidden < 1 || options.hidden > 4096)
    throw std::invalid_argument("hidden size must be between 1 and 4096, not " +
                                std::to_string(options.hidden));
  hidden = register_module("hidden", torch::nn::Linear(2, options.hidden));
  output = register_module("output", torch::nn::Linear(options.hidden, 1));
}

torch::Tensor XorNetImpl::logits(torch::Tensor x) {
  return output->forward(torch::relu(hidden->forward(x)));
}

torch::Tensor XorNetImpl::forward(torch::Tensor x) { return torch::sigmoid(logits(x)); }

MnistNetImpl::MnistNetImpl(const MnistNetOptions& options) : options_(options) {
  if (options.channels < 1 || options.channels > 512)
    throw std::invalid_argument("MnistNet channels must be between 1 and 512");
  if (options.hidden < 1 || options.hidden > 8192)
    throw std::invalid_argument("MnistNet hidden size must be between 1 and 8192");
  if (!(options.dropout >= 0.0 && options.dropout < 1.0))
    throw std::invalid_argument("MnistNet dropout must be in [0, 1)");
  if (!(options.std > 0.0)) throw std::invalid_argument("MnistNet normalisation std must be positive");
  const int64_t c = options.channels;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, c, 5).stride(2).padding(2).bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(c));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 2 * c, 3).stride(2).padding(1).bias(false)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(2 * c));
  fc1_ = register_module("fc1", torch::nn::Linear(2 * c * 7 * 7, options.hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(options.hidden, 10));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor MnistNetImpl::forward(torch::Tensor x) {
  if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != 28 || x.size(3) != 28)
    throw std::invalid_argument("MnistNet expects [B,1,28,28] input");
  x = (x - options_.mean) / options_.std;
  x = torch::relu(bn1_->forward(conv1_->forward(x)));  // [B,c,14,14]
  x = torch::relu(bn2_->forward(conv2_->forward(x)));  // [B,2c,7,7]
  x = torch::relu(fc1_->forward(x.flatten(1)));
  return fc2_->forward(dropout_->forward(x));
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace digitnet
