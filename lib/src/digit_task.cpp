#include "digitnet/digit_task.h"

#include "digitnet/device.h"
#include "digitnet/metrics.h"

#include <torch/torch.h>

#include <random>
#include <type_traits>
#include <stdexcept>

namespace digitnet {
namespace {

torch::Tensor to_input(const torch::Tensor& images) {
  // uint8 [B,H,W] -> float [B,1,H,W] in 0..1; float input is taken as already scaled.
  if (images.scalar_type() == torch::kByte) return images.unsqueeze(1).to(torch::kFloat).div_(255.0);
  return images.dim() == 3 ? images.unsqueeze(1) : images;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

DigitTask::DigitTask(const DatasetSplits& data, const DigitTaskOptions& options, const torch::Device& device)
    : options_(options), augment_(augment_preset(options.augment)), device_(device), data_name_(data.name) {
  if (options.batch_size < 1 || options.batch_size > 65536)
    throw std::invalid_argument("--batch-size must be between 1 and 65536, not " +
                                std::to_string(options.batch_size));
  if (!(options.label_smoothing >= 0.0 && options.label_smoothing < 1.0))
    throw std::invalid_argument("label smoothing must be in [0, 1)");
  if (data.train.size() == 0) throw std::runtime_error("the training set of " + data.name + " is empty");
  if (data.train.images.size(1) != 28 || data.train.images.size(2) != 28)
    throw std::runtime_error("MnistNet needs 28x28 images; " + data.name + " has " +
                             std::to_string(data.train.images.size(1)) + "x" +
                             std::to_string(data.train.images.size(2)));
  train_images_ = data.train.images.to(device);
  train_labels_ = data.train.labels.to(device);
  test_images_ = data.test.images.to(device);
  test_labels_ = data.test.labels.to(device);
  net_ = MnistNet(options.model);
  net_->to(device);
}

int64_t DigitTask::batches_per_epoch() {
  return (train_labels_.size(0) + options_.batch_size - 1) / options_.batch_size;
}

void DigitTask::begin_epoch(int64_t /*epoch*/, uint64_t seed) {
  // A Fisher-Yates shuffle from a standard-specified engine: the order depends on the seed
  // alone, on every platform, LibTorch version and device.
  const int64_t n = train_labels_.size(0);
  auto order = torch::arange(n, torch::kLong);
  int64_t* p = order.data_ptr<int64_t>();
  std::mt19937_64 gen(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[gen() % static_cast<uint64_t>(i + 1)]);
  order_ = order.to(device_);
}

torch::Tensor DigitTask::batch_loss(int64_t index, int64_t& samples) {
  const int64_t n = train_labels_.size(0);
  const int64_t start = index * options_.batch_size;
  const int64_t len = std::min(options_.batch_size, n - start);
  const auto idx = order_.narrow(0, start, len);
  auto x = to_input(train_images_.index_select(0, idx));
  x = augment_batch(x, augment_);
  samples = len;
  return torch::nn::functional::cross_entropy(
      net_->forward(x), train_labels_.index_select(0, idx),
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(options_.label_smoothing));
}

std::map<std::string, double> DigitTask::evaluate() {
  const auto logits = predict_logits(*net_, test_images_, device_, options_.eval_batch_size);
  const auto labels = test_labels_.to(torch::kCPU);
  if (labels.size(0) == 0) return {{"accuracy", 0.0}};
  return {{"accuracy", logits.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>()},
          {"loss", torch::nn::functional::cross_entropy(logits, labels).item<double>()}};
}

void DigitTask::finish() {
  if (test_labels_.size(0) == 0) return;
  const auto logits = predict_logits(*net_, test_images_, device_, options_.eval_batch_size);
  temperature_ = fit_temperature(logits, test_labels_.to(torch::kCPU));
}

Manifest DigitTask::manifest() {
  Manifest m = new_manifest("mnist");
  write_model_options(m, options_.model);
  m["data.name"] = data_name_;
  m["data.train_size"] = std::to_string(train_labels_.size(0));
  m["data.test_size"] = std::to_string(test_labels_.size(0));
  m["train.augment"] = options_.augment;
  m["train.label_smoothing"] = fmt(options_.label_smoothing);
  m["input"] = "1x28x28 float 0..1, white ink on black";
  m["temperature"] = fmt(temperature_);
  m["device"] = device_.str();
  return m;
}

torch::Tensor predict_logits(MnistNetImpl& net, const torch::Tensor& images, const torch::Device& device,
                             int64_t batch_size) {
  torch::InferenceMode guard;
  const bool was_training = net.is_training();
  net.eval();
  const int64_t n = images.size(0);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < n; start += batch_size) {
    const auto x = to_input(images.narrow(0, start, std::min(batch_size, n - start)).to(device));
    parts.push_back(net.forward(x).to(torch::kCPU));
  }
  net.train(was_training);
  return parts.empty() ? torch::zeros({0, 10}) : torch::cat(parts);
}

void write_model_options(Manifest& m, const MnistNetOptions& o) {
  m["model.arch"] = "MnistNet";
  m["model.channels"] = std::to_string(o.channels);
  m["model.hidden"] = std::to_string(o.hidden);
  m["model.dropout"] = fmt(o.dropout);
  m["model.mean"] = fmt(o.mean);
  m["model.std"] = fmt(o.std);
}

MnistNetOptions read_model_options(const CheckpointReader& reader) {
  // Keys a checkpoint does not record keep MnistNetOptions' defaults (MNIST normalisation).
  MnistNetOptions o;
  const auto& m = reader.manifest();
  const auto number = [&](const char* key, auto& target) {
    const auto it = m.find(key);
    if (it == m.end()) return;
    try {
      size_t used = 0;
      const double v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument(key);
      target = static_cast<std::remove_reference_t<decltype(target)>>(v);
    } catch (const std::logic_error&) {  // std::stod on a bad value
      throw std::runtime_error(std::string("checkpoint model option '") + key + "' is not a number: '" +
                               it->second + "'");
    }
  };
  number("model.channels", o.channels);
  number("model.hidden", o.hidden);
  number("model.dropout", o.dropout);
  number("model.mean", o.mean);
  number("model.std", o.std);
  return o;
}

LoadedDigitModel load_digit_model(const std::filesystem::path& file, const torch::Device& device) {
  CheckpointReader reader(file);
  reader.expect_kind("mnist");
  LoadedDigitModel m;
  m.manifest = reader.manifest();
  m.net = MnistNet(read_model_options(reader));
  reader.load_weights(*m.net);
  m.net->to(device);
  use_channels_last(*m.net);
  m.net->eval();
  const auto t = m.manifest.find("temperature");
  if (t != m.manifest.end()) {
    try {
      m.temperature = std::stod(t->second);
    } catch (const std::logic_error&) {
      throw std::runtime_error("checkpoint " + file.string() + " has a bad temperature '" + t->second + "'");
    }
    if (!(m.temperature > 0.0 && m.temperature < 1000.0))
      throw std::runtime_error("checkpoint " + file.string() + " has a bad temperature " + t->second);
  }
  return m;
}

}  // namespace digitnet
