#include "digitnet/xor.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>

namespace digitnet {
namespace {

constexpr int64_t kMaxHidden = 4096;
constexpr int64_t kMaxEpochs = 1'000'000;
constexpr int64_t kMaxTrials = 1'000'000;
// Trials x widest hidden layer: above this the batched tensors would not fit in memory.
constexpr int64_t kMaxTrialUnits = 20'000'000;

// Draws that give the same numbers with every standard library (std::uniform_*_distribution
// and std::shuffle do not).
class RunRng {
 public:
  explicit RunRng(uint64_t seed) : gen_(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(gen_() >> 11) * 0x1.0p-53;
  }
  // The 4 row indices in a fresh random order (Fisher-Yates).
  std::array<int, 4> shuffled_rows() {
    std::array<int, 4> order{0, 1, 2, 3};
    for (int i = 3; i > 0; --i) std::swap(order[i], order[gen_() % static_cast<uint64_t>(i + 1)]);
    return order;
  }

 private:
  std::mt19937_64 gen_;
};

XorWeights draw_initial(int64_t hidden, XorInit init, RunRng& rng) {
  XorWeights w;
  w.w1.assign(2, std::vector<double>(hidden, 0.0));
  w.b1.assign(hidden, 0.0);
  w.w2.assign(hidden, 0.0);
  if (init == XorInit::kKeras) {
    // Glorot uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); biases stay zero.
    const double l1 = std::sqrt(6.0 / double(2 + hidden));
    for (auto& row : w.w1)
      for (auto& v : row) v = rng.uniform(-l1, l1);
    const double l2 = std::sqrt(6.0 / double(hidden + 1));
    for (auto& v : w.w2) v = rng.uniform(-l2, l2);
  } else {
    const double l1 = 1.0 / std::sqrt(2.0);
    for (auto& row : w.w1)
      for (auto& v : row) v = rng.uniform(-l1, l1);
    for (auto& v : w.b1) v = rng.uniform(-l1, l1);
    const double l2 = 1.0 / std::sqrt(double(hidden));
    for (auto& v : w.w2) v = rng.uniform(-l2, l2);
    w.b2 = rng.uniform(-l2, l2);
  }
  return w;
}

void set_weights(XorNetImpl& net, const XorWeights& w) {
  torch::NoGradGuard no_grad;
  const int64_t h = net.options().hidden;
  auto w1 = torch::empty({h, 2}, torch::kDouble);  // Linear stores [out, in] = W1 transposed
  auto b1 = torch::empty({h}, torch::kDouble);
  auto w2 = torch::empty({1, h}, torch::kDouble);
  for (int64_t j = 0; j < h; ++j) {
    w1[j][0] = w.w1[0][j];
    w1[j][1] = w.w1[1][j];
    b1[j] = w.b1[j];
    w2[0][j] = w.w2[j];
  }
  net.hidden->weight.copy_(w1);
  net.hidden->bias.copy_(b1);
  net.output->weight.copy_(w2);
  net.output->bias.fill_(w.b2);
}

void validate_common(int64_t epochs, double lr) {
  if (epochs < 1 || epochs > kMaxEpochs)
    throw std::invalid_argument("--epochs must be between 1 and " + std::to_string(kMaxEpochs) +
                                ", not " + std::to_string(epochs));
  if (!(lr > 0.0) || !std::isfinite(lr) || lr >= 100.0)
    throw std::invalid_argument("--lr must be a positive number below 100");
}

void validate_hidden(int64_t hidden) {
  if (hidden < 1 || hidden > kMaxHidden)
    throw std::invalid_argument("--hidden must be between 1 and " + std::to_string(kMaxHidden) +
                                ", not " + std::to_string(hidden));
}

constexpr float kRowX0[4] = {0, 0, 1, 1};
constexpr float kRowX1[4] = {0, 1, 0, 1};
constexpr float kRowY[4] = {0, 1, 1, 0};

}  // namespace

XorInit parse_xor_init(const std::string& name) {
  if (name == "keras") return XorInit::kKeras;
  if (name == "torch") return XorInit::kTorch;
  throw std::invalid_argument("--init must be keras or torch, not '" + name + "'");
}

std::string to_string(XorInit init) { return init == XorInit::kKeras ? "keras" : "torch"; }

void validate(const XorConfig& config) {
  validate_hidden(config.hidden);
  validate_common(config.epochs, config.lr);
}

void validate(const XorTrialsConfig& config) {
  if (config.hidden_sizes.empty()) throw std::invalid_argument("--hidden needs at least one size");
  int64_t widest = 0;
  for (const auto h : config.hidden_sizes) {
    validate_hidden(h);
    widest = std::max(widest, h);
  }
  validate_common(config.epochs, config.lr);
  if (config.trials < 1 || config.trials > kMaxTrials)
    throw std::invalid_argument("--trials must be between 1 and " + std::to_string(kMaxTrials) +
                                ", not " + std::to_string(config.trials));
  if (config.trials * int64_t(config.hidden_sizes.size()) * widest > kMaxTrialUnits)
    throw std::invalid_argument("--trials x hidden sizes x widest layer is above " +
                                std::to_string(kMaxTrialUnits) + " units: too large to hold");
}

torch::Tensor xor_inputs() { return torch::tensor({0.f, 0.f, 0.f, 1.f, 1.f, 0.f, 1.f, 1.f}).view({4, 2}); }
torch::Tensor xor_targets() { return torch::tensor({0.f, 1.f, 1.f, 0.f}).view({4, 1}); }

XorWeights extract_weights(XorNetImpl& net) {
  const int64_t h = net.options().hidden;
  const auto w1 = net.hidden->weight.detach().to(torch::kCPU, torch::kDouble);
  const auto b1 = net.hidden->bias.detach().to(torch::kCPU, torch::kDouble);
  const auto w2 = net.output->weight.detach().to(torch::kCPU, torch::kDouble);
  XorWeights w;
  w.w1.assign(2, std::vector<double>(h));
  w.b1.resize(h);
  w.w2.resize(h);
  for (int64_t j = 0; j < h; ++j) {
    w.w1[0][j] = w1[j][0].item<double>();
    w.w1[1][j] = w1[j][1].item<double>();
    w.b1[j] = b1[j].item<double>();
    w.w2[j] = w2[0][j].item<double>();
  }
  w.b2 = net.output->bias.detach().to(torch::kCPU, torch::kDouble).item<double>();
  return w;
}

std::array<double, 4> manual_forward(const XorWeights& w) {
  std::array<double, 4> out{};
  for (int r = 0; r < 4; ++r) {
    double z = w.b2;
    for (size_t j = 0; j < w.b1.size(); ++j) {
      const double pre = kRowX0[r] * w.w1[0][j] + kRowX1[r] * w.w1[1][j] + w.b1[j];
      z += (pre > 0.0 ? pre : 0.0) * w.w2[j];
    }
    out[r] = 1.0 / (1.0 + std::exp(-z));
  }
  return out;
}

void initialise_xor_net(XorNetImpl& net, XorInit init, uint64_t seed) {
  RunRng rng(seed);
  set_weights(net, draw_initial(net.options().hidden, init, rng));
}

bool xor_solved(const std::array<double, 4>& p) {
  for (int r = 0; r < 4; ++r)
    if ((p[r] > 0.5) != (kRowY[r] > 0.5f)) return false;
  return true;
}

XorRun train_xor(XorNetImpl& net, const XorConfig& config, const torch::Device& device,
                 const std::function<void(int64_t, double)>& on_epoch) {
  validate(config);
  if (net.options().hidden != config.hidden)
    throw std::invalid_argument("network has " + std::to_string(net.options().hidden) +
                                " hidden neurons, the run asks for " + std::to_string(config.hidden));
  RunRng rng(config.seed);
  set_weights(net, draw_initial(config.hidden, config.init, rng));
  net.to(device);
  net.train();

  const auto x = xor_inputs().to(device);
  const auto y = xor_targets().to(device);
  std::array<torch::Tensor, 4> xs, ys;
  for (int r = 0; r < 4; ++r) {
    xs[r] = x.narrow(0, r, 1);
    ys[r] = y.narrow(0, r, 1);
  }
  torch::optim::SGD optimizer(net.parameters(), torch::optim::SGDOptions(config.lr));
  XorRun run;
  run.epoch_loss.reserve(config.epochs);
  for (int64_t epoch = 0; epoch < config.epochs; ++epoch) {
    auto epoch_loss = torch::zeros({}, torch::TensorOptions().device(device));
    for (const int r : rng.shuffled_rows()) {
      optimizer.zero_grad();
      // Sigmoid + binary cross-entropy, computed together from the logit for stability.
      auto loss = torch::binary_cross_entropy_with_logits(net.logits(xs[r]), ys[r]);
      loss.backward();
      optimizer.step();
      epoch_loss += loss.detach();
    }
    run.epoch_loss.push_back(epoch_loss.item<double>() / 4.0);
    if (on_epoch) on_epoch(epoch + 1, run.epoch_loss.back());
  }
  torch::NoGradGuard no_grad;
  net.eval();
  const auto p = net.forward(x).to(torch::kCPU, torch::kDouble);
  for (int r = 0; r < 4; ++r) run.predictions[r] = p[r][0].item<double>();
  run.success = xor_solved(run.predictions);
  return run;
}

XorTrials run_xor_trials(const XorTrialsConfig& config, const torch::Device& device) {
  validate(config);
  torch::NoGradGuard no_grad;
  const int64_t groups = static_cast<int64_t>(config.hidden_sizes.size());
  const int64_t n = config.trials * groups;
  int64_t width = 0;
  for (const auto h : config.hidden_sizes) width = std::max(width, h);

  // Per-trial parameters, hidden layers zero-padded to `width`. A padded unit has zero
  // weights and bias, so its pre-activation is exactly 0, its ReLU gradient is 0, and it
  // stays zero for ever: the padded net computes exactly what the narrow one does.
  auto w10 = torch::zeros({n, width});  // W1 row of input x0
  auto w11 = torch::zeros({n, width});  // W1 row of input x1
  auto b1 = torch::zeros({n, width});
  auto w2 = torch::zeros({n, width});
  auto b2 = torch::zeros({n});
  std::vector<RunRng> rngs;
  rngs.reserve(static_cast<size_t>(n));
  {
    auto a10 = w10.accessor<float, 2>();
    auto a11 = w11.accessor<float, 2>();
    auto ab1 = b1.accessor<float, 2>();
    auto aw2 = w2.accessor<float, 2>();
    auto ab2 = b2.accessor<float, 1>();
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t k = 0; k < config.trials; ++k) {
        const int64_t t = g * config.trials + k;
        rngs.emplace_back(config.seed + static_cast<uint64_t>(k));
        const auto w = draw_initial(config.hidden_sizes[g], config.init, rngs.back());
        for (int64_t j = 0; j < config.hidden_sizes[g]; ++j) {
          a10[t][j] = static_cast<float>(w.w1[0][j]);
          a11[t][j] = static_cast<float>(w.w1[1][j]);
          ab1[t][j] = static_cast<float>(w.b1[j]);
          aw2[t][j] = static_cast<float>(w.w2[j]);
        }
        ab2[t] = static_cast<float>(w.b2);
      }
    }
  }
  w10 = w10.to(device);
  w11 = w11.to(device);
  b1 = b1.to(device);
  w2 = w2.to(device);
  b2 = b2.to(device);

  // One epoch of rows for every trial: [4 steps, n trials, (x0, x1, y)].
  auto rows = torch::empty({4, n, 3});
  const float lr = static_cast<float>(config.lr);
  for (int64_t epoch = 0; epoch < config.epochs; ++epoch) {
    float* r = rows.data_ptr<float>();
    for (int64_t t = 0; t < n; ++t) {
      const auto order = rngs[static_cast<size_t>(t)].shuffled_rows();
      for (int s = 0; s < 4; ++s) {
        float* cell = r + (s * n + t) * 3;
        cell[0] = kRowX0[order[s]];
        cell[1] = kRowX1[order[s]];
        cell[2] = kRowY[order[s]];
      }
    }
    const auto batch = rows.to(device);
    for (int s = 0; s < 4; ++s) {
      const auto step = batch[s];
      const auto x0 = step.select(1, 0).unsqueeze(1);
      const auto x1 = step.select(1, 1).unsqueeze(1);
      const auto y = step.select(1, 2);
      // Forward: h = relu(x0*W1[0] + x1*W1[1] + b1), z = h.W2 + b2.
      const auto pre = torch::addcmul(torch::addcmul(b1, x0, w10), x1, w11);
      const auto h = torch::relu(pre);
      const auto z = (h * w2).sum(1).add_(b2);
      // Backward of binary cross-entropy through the sigmoid: dL/dz = sigmoid(z) - y.
      const auto dz = torch::sigmoid(z).sub_(y).unsqueeze(1);
      const auto dpre = (w2 * dz).mul_(pre.gt(0));
      // SGD, every gradient taken from the weights before this step.
      w2.sub_(h * dz, lr);
      b2.sub_(dz.squeeze(1), lr);
      w10.sub_(x0 * dpre, lr);
      w11.sub_(x1 * dpre, lr);
      b1.sub_(dpre, lr);
    }
  }

  // Outputs for the four rows: [n, 4].
  std::vector<torch::Tensor> outs;
  for (int r = 0; r < 4; ++r) {
    const auto pre = b1 + kRowX0[r] * w10 + kRowX1[r] * w11;
    outs.push_back(torch::sigmoid((torch::relu(pre) * w2).sum(1) + b2));
  }
  const auto p = torch::stack(outs, 1).to(torch::kCPU, torch::kDouble).contiguous();
  const auto ap = p.accessor<double, 2>();

  XorTrials result;
  result.hidden_sizes = config.hidden_sizes;
  result.trials = config.trials;
  result.successes.assign(static_cast<size_t>(groups), 0);
  result.predictions.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    auto& pred = result.predictions[static_cast<size_t>(t)];
    for (int r = 0; r < 4; ++r) pred[r] = ap[t][r];
    if (xor_solved(pred)) ++result.successes[static_cast<size_t>(t / config.trials)];
  }
  return result;
}

XorTrials run_xor_trials_sequential(const XorTrialsConfig& config, const torch::Device& device) {
  validate(config);
  XorTrials result;
  result.hidden_sizes = config.hidden_sizes;
  result.trials = config.trials;
  for (const auto h : config.hidden_sizes) {
    int64_t ok = 0;
    for (int64_t k = 0; k < config.trials; ++k) {
      XorNet net(XorNetOptions{h});
      const XorConfig run{h, config.epochs, config.lr, config.seed + static_cast<uint64_t>(k), config.init};
      const auto out = train_xor(*net, run, device);
      result.predictions.push_back(out.predictions);
      ok += out.success ? 1 : 0;
    }
    result.successes.push_back(ok);
  }
  return result;
}

double tutorial_success_rate(int64_t hidden) {
  switch (hidden) {
    case 2: return 0.2;
    case 4: return 0.6;
    case 6: return 0.9;
    default: return 0.0;
  }
}

std::string xor_summary(XorNetImpl& net) {
  const int64_t h = net.options().hidden;
  const int64_t p1 = net.hidden->weight.numel() + net.hidden->bias.numel();
  const int64_t p2 = net.output->weight.numel() + net.output->bias.numel();
  const std::string rule(65, '_'), thick(65, '=');
  char line[160];
  std::ostringstream out;
  out << "Model: \"xor\"\n" << rule << '\n';
  std::snprintf(line, sizeof line, " %-32s%-20s%s\n", "Layer (type)", "Output Shape", "Param #");
  out << line << thick << '\n';
  const std::string l1 = "hidden (Linear 2->" + std::to_string(h) + ", relu)";
  const std::string l2 = "output (Linear " + std::to_string(h) + "->1, sigmoid)";
  std::snprintf(line, sizeof line, " %-32s%-20s%lld\n", l1.c_str(),
                ("(None, " + std::to_string(h) + ")").c_str(), static_cast<long long>(p1));
  out << line;
  std::snprintf(line, sizeof line, " %-32s%-20s%lld\n", l2.c_str(), "(None, 1)",
                static_cast<long long>(p2));
  out << line << thick << '\n';
  out << "Total params: " << count_parameters(net) << '\n'
      << "Trainable params: " << count_parameters(net) << '\n'
      << "Non-trainable params: 0\n"
      << rule << '\n';
  return out.str();
}

}  // namespace digitnet
