#include "digitnet/models.h"

#include <torch/nn/functional/activation.h>

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

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace digitnet
