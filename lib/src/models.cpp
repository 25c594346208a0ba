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
  const auto conv = [](int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  conv1_ = register_module("conv1", conv(1, c));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(c));
  conv2_ = register_module("conv2", conv(c, c));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(c));
  conv3_ = register_module("conv3", conv(c, 2 * c));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(2 * c));
  conv4_ = register_module("conv4", conv(2 * c, 2 * c));
  bn4_ = register_module("bn4", torch::nn::BatchNorm2d(2 * c));
  fc1_ = register_module("fc1", torch::nn::Linear(2 * c * 7 * 7, options.hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(options.hidden, 10));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor MnistNetImpl::forward(torch::Tensor x) {
  x = (x - options_.mean) / options_.std;
  x = torch::relu(bn1_->forward(conv1_->forward(x)));                          // 28x28
  x = torch::max_pool2d(torch::relu(bn2_->forward(conv2_->forward(x))), 2);    // 14x14
  x = torch::relu(bn3_->forward(conv3_->forward(x)));
  x = torch::max_pool2d(torch::relu(bn4_->forward(conv4_->forward(x))), 2);    // 7x7
  x = torch::relu(fc1_->forward(x.flatten(1)));
  return fc2_->forward(dropout_->forward(x));
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace digitnet
