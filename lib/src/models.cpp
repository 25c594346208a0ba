#include "digitnet/models.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/pooling.h>

#include <cmath>
#include <limits>

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

void validate(const CaptchaNetOptions& o) {
  if (o.height < 8 || o.height > 256 || o.height % 8 != 0)
    throw std::invalid_argument("CaptchaNet height must be a multiple of 8 within 8..256, not " +
                                std::to_string(o.height));
  if (o.width < 16 || o.width > 1024 || o.width % 4 != 0)
    throw std::invalid_argument("CaptchaNet width must be a multiple of 4 within 16..1024, not " +
                                std::to_string(o.width));
  if (o.channels < 1 || o.channels > 256)
    throw std::invalid_argument("CaptchaNet channels must be between 1 and 256");
  if (o.hidden < 1 || o.hidden > 2048)
    throw std::invalid_argument("CaptchaNet hidden size must be between 1 and 2048");
  if (!(o.dropout >= 0.0 && o.dropout < 1.0))
    throw std::invalid_argument("CaptchaNet dropout must be in [0, 1)");
}

CaptchaNetImpl::CaptchaNetImpl(const CaptchaNetOptions& options) : options_(options) {
  validate(options);
  const int64_t c = options.channels;
  const auto conv = [](int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  conv1_ = register_module("conv1", conv(1, c));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(c));
  conv2_ = register_module("conv2", conv(c, 2 * c));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(2 * c));
  conv3_ = register_module("conv3", conv(2 * c, 4 * c));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(4 * c));
  conv4_ = register_module("conv4", conv(4 * c, 4 * c));
  bn4_ = register_module("bn4", torch::nn::BatchNorm2d(4 * c));
  project_ = register_module("project", torch::nn::Linear(4 * c * (options.height / 8), options.hidden));
  gru_ = register_module(
      "gru", torch::nn::GRU(torch::nn::GRUOptions(options.hidden, options.hidden).bidirectional(true)));
  output_ = register_module("output", torch::nn::Linear(2 * options.hidden, kCtcClasses));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor CaptchaNetImpl::forward(torch::Tensor x) { return head(features(std::move(x))); }

torch::Tensor CaptchaNetImpl::features(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == options_.height && x.size(3) == options_.width,
              "CaptchaNet expects [B,1,", options_.height, ",", options_.width, "], got ", x.sizes());
  // Per-image standardisation: contrast and brightness vary wildly between captcha styles.
  const auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  const auto std = x.std({1, 2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  x = (x - mean) / (std + 0.05);
  x = torch::max_pool2d(torch::relu(bn1_->forward(conv1_->forward(x))), 2);  // H/2, W/2
  x = torch::max_pool2d(torch::relu(bn2_->forward(conv2_->forward(x))), 2);  // H/4, W/4
  x = torch::relu(bn3_->forward(conv3_->forward(x)));
  x = torch::max_pool2d(torch::relu(bn4_->forward(conv4_->forward(x))), {2, 1});  // H/8, W/4
  // [B,C,H',T] -> [T,B,C*H']: one feature vector per column.
  x = x.permute({3, 0, 1, 2}).flatten(2);
  x = dropout_->forward(torch::relu(project_->forward(x)));
  return std::get<0>(gru_->forward(x));
}

torch::Tensor CaptchaNetImpl::head(const torch::Tensor& features) {
  return torch::log_softmax(output_->forward(dropout_->forward(features)), 2);
}

namespace {

CtcReading collapse(const std::vector<int64_t>& labels, const float* lp, int64_t stride) {
  CtcReading r;
  int64_t prev = kCtcBlank;
  for (size_t t = 0; t < labels.size(); ++t) {
    const int64_t l = labels[t];
    const double p = std::exp(double(lp[int64_t(t) * stride + l]));
    if (l != kCtcBlank && l != prev) {
      r.text += char('0' + l);
      r.char_confidences.push_back(p);
    } else if (l != kCtcBlank) {
      r.char_confidences.back() = std::max(r.char_confidences.back(), p);
    }
    prev = l;
  }
  r.confidence = r.text.empty() ? 0.0 : 1.0;
  for (const double c : r.char_confidences) r.confidence *= c;
  return r;
}

// ctc_decode of `steps` frames of kCtcClasses log-probabilities each, row after row at `lp`.
CtcReading decode_frames(const float* lp, int64_t steps, int64_t min_length, int64_t max_length) {
  const int64_t n = kCtcClasses;
  if (min_length <= 0 && max_length < 0) {
    std::vector<int64_t> labels(static_cast<size_t>(steps));
    for (int64_t t = 0; t < steps; ++t)
      labels[size_t(t)] = std::max_element(lp + t * n, lp + (t + 1) * n) - (lp + t * n);
    return collapse(labels, lp, n);
  }
  if (max_length < 0) max_length = steps;
  min_length = std::max<int64_t>(min_length, 0);
  if (min_length > max_length)
    throw std::invalid_argument("ctc_decode: minimum length " + std::to_string(min_length) +
                                " exceeds maximum " + std::to_string(max_length));
  if (min_length > steps)
    throw std::invalid_argument("ctc_decode: " + std::to_string(min_length) + " digits cannot fit in " +
                                std::to_string(steps) + " frames");
  // score[k][s]: best log-probability of the frames so far with k digits emitted and the
  // last frame labelled s (s = blank before the first frame).
  const int64_t k_max = max_length;
  const double neg = -std::numeric_limits<double>::infinity();
  const int64_t states = (k_max + 1) * n;
  std::vector<double> cur(static_cast<size_t>(states), neg), next(static_cast<size_t>(states));
  std::vector<int32_t> back(static_cast<size_t>(steps * states), -1);
  cur[size_t(kCtcBlank)] = 0.0;
  for (int64_t t = 0; t < steps; ++t) {
    std::fill(next.begin(), next.end(), neg);
    int32_t* bp = back.data() + t * states;
    for (int64_t k = 0; k <= k_max; ++k)
      for (int64_t s = 0; s < n; ++s) {
        const double v = cur[size_t(k * n + s)];
        if (v == neg) continue;
        for (int64_t c = 0; c < n; ++c) {
          const int64_t nk = (c == kCtcBlank || c == s) ? k : k + 1;
          if (nk > k_max) continue;
          const double w = v + lp[t * n + c];
          const int64_t to = nk * n + c;
          if (w > next[size_t(to)]) {
            next[size_t(to)] = w;
            bp[to] = int32_t(k * n + s);
          }
        }
      }
    std::swap(cur, next);
  }
  int64_t best = -1;
  for (int64_t k = min_length; k <= k_max; ++k)
    for (int64_t s = 0; s < n; ++s)
      if (cur[size_t(k * n + s)] > neg && (best < 0 || cur[size_t(k * n + s)] > cur[size_t(best)])) best = k * n + s;
  if (best < 0)
    throw std::invalid_argument("ctc_decode: no reading of " + std::to_string(steps) + " frames has " +
                                std::to_string(min_length) + " to " + std::to_string(max_length) + " digits");
  std::vector<int64_t> labels(static_cast<size_t>(steps));
  for (int64_t t = steps - 1, state = best; t >= 0; --t) {
    labels[size_t(t)] = state % n;
    state = back[size_t(t * states + state)];
  }
  return collapse(labels, lp, n);
}

}  // namespace

CtcReading ctc_decode(const torch::Tensor& log_probs, int64_t min_length, int64_t max_length) {
  if (log_probs.dim() != 2 || log_probs.size(1) != kCtcClasses)
    throw std::invalid_argument("ctc_decode expects log-probabilities [T,11]");
  const auto lp = log_probs.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return decode_frames(lp.data_ptr<float>(), lp.size(0), min_length, max_length);
}

std::vector<CtcReading> ctc_decode_batch(const torch::Tensor& log_probs, int64_t min_length, int64_t max_length) {
  if (log_probs.dim() != 3 || log_probs.size(2) != kCtcClasses)
    throw std::invalid_argument("ctc_decode_batch expects log-probabilities [T,B,11]");
  // One copy with each sequence's frames together ([B,T,11]), not one per sequence.
  const auto lp = log_probs.detach().to(torch::kCPU, torch::kFloat).permute({1, 0, 2}).contiguous();
  const int64_t steps = lp.size(1);
  const float* base = lp.data_ptr<float>();
  std::vector<CtcReading> out;
  out.reserve(size_t(lp.size(0)));
  for (int64_t b = 0; b < lp.size(0); ++b)
    out.push_back(decode_frames(base + b * steps * kCtcClasses, steps, min_length, max_length));
  return out;
}

namespace {

torch::Tensor ctc_loss_of(const torch::Tensor& log_probs, const std::vector<std::string>& texts,
                          torch::nn::functional::CTCLossFuncOptions::reduction_t reduction) {
  const int64_t batch = log_probs.size(1);
  if (int64_t(texts.size()) != batch)
    throw std::invalid_argument("captcha CTC loss: " + std::to_string(texts.size()) + " texts for a batch of " +
                                std::to_string(batch));
  std::vector<int64_t> targets, target_lengths, input_lengths(static_cast<size_t>(batch), log_probs.size(0));
  for (const auto& text : texts) {
    for (const char ch : text) {
      if (ch < '0' || ch > '9') throw std::invalid_argument("captcha CTC loss: '" + text + "' is not all digits");
      targets.push_back(ch - '0');
    }
    target_lengths.push_back(int64_t(text.size()));
  }
  namespace F = torch::nn::functional;
  return F::ctc_loss(log_probs, torch::tensor(targets, torch::kLong).to(log_probs.device()),
                     torch::tensor(input_lengths, torch::kLong), torch::tensor(target_lengths, torch::kLong),
                     F::CTCLossFuncOptions().blank(kCtcBlank).zero_infinity(true).reduction(reduction));
}

}  // namespace

torch::Tensor captcha_ctc_loss(const torch::Tensor& log_probs, const std::vector<std::string>& texts) {
  return ctc_loss_of(log_probs, texts, torch::kMean);
}

torch::Tensor captcha_ctc_losses(const torch::Tensor& log_probs, const std::vector<std::string>& texts) {
  return ctc_loss_of(log_probs, texts, torch::kNone);
}

}  // namespace digitnet
