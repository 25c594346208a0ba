// MNIST benchmarks, each against a reference measured in the same run on the same data:
//  1. pipeline: images/s of the official LibTorch example's network (batch 64) trained through
//     the straightforward recipe (torch::data Dataset + Normalize + Stack + DataLoader, default
//     threads) and through digitnet's loop (in-memory tensors, batches sliced by index, all cores);
//  2. time to accuracy: digitnet-train's defaults against the official example's recipe
//     (SGD lr 0.01 momentum 0.5, batch 64), wall time to 98% and 99% test accuracy;
//  3. evaluation images/s: predict_logits against a DataLoader loop with batch 1000.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/json.h"
#include "digitnet/trainer.h"
#include "support_bench.h"

#include <torch/torch.h>

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The network of LibTorch's official MNIST example.
struct ExampleNetImpl : torch::nn::Module {
  ExampleNetImpl()
      : conv1(torch::nn::Conv2dOptions(1, 10, 5)), conv2(torch::nn::Conv2dOptions(10, 20, 5)), fc1(320, 50), fc2(50, 10) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("conv2_drop", conv2_drop);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));
    x = torch::relu(torch::max_pool2d(conv2_drop->forward(conv2->forward(x)), 2));
    x = x.flatten(1);  // the example's view({-1, 320}), which would refuse channels-last input
    x = torch::relu(fc1->forward(x));
    x = torch::dropout(x, 0.5, is_training());
    return torch::log_softmax(fc2->forward(x), 1);
  }
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Dropout2d conv2_drop;
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(ExampleNet);

// What torch::data::datasets::MNIST does, for any image count: one example per index.
class TensorMnist : public torch::data::datasets::Dataset<TensorMnist> {
 public:
  explicit TensorMnist(const digitnet::Dataset& d)
      : images_(d.images.unsqueeze(1).to(torch::kFloat).div_(255)), labels_(d.labels) {}
  torch::data::Example<> get(size_t i) override { return {images_[int64_t(i)], labels_[int64_t(i)]}; }
  torch::optional<size_t> size() const override { return size_t(labels_.size(0)); }

 private:
  torch::Tensor images_, labels_;
};

auto reference_loader(const digitnet::Dataset& d, int64_t batch) {
  auto ds = TensorMnist(d).map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
                .map(torch::data::transforms::Stack<>());
  return torch::data::make_data_loader<torch::data::samplers::RandomSampler>(std::move(ds), batch);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The reference recipe: one epoch, returns images/s.
double reference_epoch(ExampleNet& net, torch::optim::SGD& opt, const digitnet::Dataset& train) {
  auto loader = reference_loader(train, 64);
  net->train();
  const auto t0 = Clock::now();
  int64_t seen = 0;
  for (auto& batch : *loader) {
    opt.zero_grad();
    auto loss = torch::nll_loss(net->forward(batch.data), batch.target);
    loss.backward();
    opt.step();
    seen += batch.data.size(0);
  }
  return double(seen) / since(t0);
}

double reference_accuracy(ExampleNet& net, const digitnet::Dataset& test) {
  torch::NoGradGuard g;
  net->eval();
  auto loader = reference_loader(test, 1000);
  int64_t correct = 0;
  for (auto& batch : *loader) correct += net->forward(batch.data).argmax(1).eq(batch.target).sum().item<int64_t>();
  return double(correct) / double(test.size());
}

// digitnet's loop with the example network: batches sliced from in-memory uint8 tensors.
class ExampleTask : public digitnet::TrainTask {
 public:
  ExampleTask(const digitnet::DatasetSplits& d) : images_(d.train.images), labels_(d.train.labels) {}
  torch::nn::Module& model() override { return *net_; }
  int64_t batches_per_epoch() override { return (labels_.size(0) + 63) / 64; }
  void begin_epoch(int64_t, uint64_t seed) override {
    torch::manual_seed(seed);
    order_ = torch::randperm(labels_.size(0));
  }
  torch::Tensor batch_loss(int64_t i, int64_t& n) override {
    const auto idx = order_.narrow(0, i * 64, std::min<int64_t>(64, labels_.size(0) - i * 64));
    n = idx.size(0);
    const auto x = images_.index_select(0, idx).unsqueeze(1).to(torch::kFloat).div_(255).sub_(0.1307).div_(0.3081);
    return torch::nll_loss(net_->forward(x), labels_.index_select(0, idx));
  }
  std::map<std::string, double> evaluate() override { return {{"accuracy", 0.0}}; }
  digitnet::Manifest manifest() override { return digitnet::new_manifest("bench"); }

 private:
  torch::Tensor images_, labels_, order_;
  ExampleNet net_;
};

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-mnist", [&] {
    cxxopts::Options opts("digitnet-bench-mnist", "MNIST pipeline, time-to-accuracy and evaluation benchmarks.");
    opts.add_options()
      ("d,data-dir", "dataset folder", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("epochs", "digitnet-train epochs for time to accuracy", cxxopts::value<int64_t>()->default_value("40"))
      ("reference-epochs", "epochs of the official recipe", cxxopts::value<int64_t>()->default_value("10"))
      ("pipeline-epochs", "epochs each side of the pipeline comparison trains", cxxopts::value<int64_t>()->default_value("3"))
      ("threads", "threads for digitnet's runs (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("skip-accuracy", "only the pipeline and evaluation speed")
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const auto data = digitnet::load_idx_folder(args["data-dir"].as<std::string>());
    const int cores = digitnet::configure_threads(args["threads"].as<int>());
    auto out = digitnet::Json::object().set("data", data.name).set("train_images", data.train.size()).set("cores", cores);
    std::printf("data: %s, %lld train / %lld test images, %d cores\n", data.name.c_str(),
                static_cast<long long>(data.train.size()), static_cast<long long>(data.test.size()), cores);

    // 1. Pipeline efficiency, same network and batch size.
    torch::set_num_threads(1);  // LibTorch's default on Debian, as the recipe's users run it
    torch::manual_seed(0);
    ExampleNet ref_net;
    torch::optim::SGD ref_opt(ref_net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));
    // Each side trains `pipeline_epochs` epochs; the median epoch's rate is compared, which
    // leaves out warm-up and a noisy neighbour's burst alike.
    const int64_t pipeline_epochs = args["pipeline-epochs"].as<int64_t>();
    if (pipeline_epochs < 1 || pipeline_epochs > 100) throw std::invalid_argument("--pipeline-epochs must be in 1..100");
    std::vector<double> ref_rates, our_rates;
    for (int64_t e = 0; e < pipeline_epochs; ++e) ref_rates.push_back(reference_epoch(ref_net, ref_opt, data.train));
    digitnet::configure_threads(cores);
    ExampleTask task(data);
    digitnet::TrainOptions o;
    o.epochs = pipeline_epochs;
    o.batch_size = 64;
    o.out_dir = digitnet::bench::temp_dir("pipeline");
    for (const auto& h : digitnet::train(task, o).history) our_rates.push_back(h.samples_per_s);
    const double ref_rate = median(ref_rates), our_rate = median(our_rates);
    std::printf("\n1. training pipeline, official example network, batch 64 (images/s)\n");
    std::printf("   torch::data recipe (DataLoader, Normalize, Stack, default threads): %8.0f\n", ref_rate);
    std::printf("   digitnet loop (in-memory slices, %d threads):                       %8.0f\n", cores, our_rate);
    std::printf("   ratio: %.2fx (target >= 2x)\n", our_rate / ref_rate);
    out.set("pipeline", digitnet::Json::object()
                            .set("reference_images_per_s", ref_rate)
                            .set("digitnet_images_per_s", our_rate)
                            .set("ratio", our_rate / ref_rate));

    // 3. Evaluation speed with digitnet's MnistNet, laid out as load_digit_model lays it out;
    // the median of three passes over the test set on each side.
    torch::manual_seed(0);
    digitnet::MnistNet net;
    digitnet::use_channels_last(*net);
    net->eval();
    std::vector<double> eval_rates, ref_eval_rates;
    digitnet::predict_logits(*net, data.test.images, torch::kCPU);
    for (int i = 0; i < 3; ++i) {
      const auto t0 = Clock::now();
      digitnet::predict_logits(*net, data.test.images, torch::kCPU);
      eval_rates.push_back(double(data.test.size()) / since(t0));
    }
    torch::set_num_threads(1);
    reference_accuracy(ref_net, data.test);
    for (int i = 0; i < 3; ++i) {
      const auto t0 = Clock::now();
      reference_accuracy(ref_net, data.test);
      ref_eval_rates.push_back(double(data.test.size()) / since(t0));
    }
    const double eval_rate = median(eval_rates), ref_eval_rate = median(ref_eval_rates);
    digitnet::configure_threads(cores);
    std::printf("\n2. evaluation (images/s)\n");
    std::printf("   official example network, DataLoader batch 1000, default threads: %8.0f\n", ref_eval_rate);
    std::printf("   digitnet MnistNet, predict_logits batch 1000, %d threads:           %8.0f\n", cores, eval_rate);
    std::printf("   ratio: %.2fx (target: >= 20000 images/s)\n", eval_rate / ref_eval_rate);
    out.set("eval", digitnet::Json::object()
                        .set("reference_images_per_s", ref_eval_rate)
                        .set("digitnet_images_per_s", eval_rate)
                        .set("ratio", eval_rate / ref_eval_rate));

    if (!args.count("skip-accuracy")) {
      // Time to accuracy: the official recipe, then digitnet-train's defaults.
      const int64_t ref_epochs = args["reference-epochs"].as<int64_t>();
      torch::set_num_threads(1);
      torch::manual_seed(1);
      ExampleNet fresh;
      torch::optim::SGD opt(fresh->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));
      double ref_elapsed = 0, ref_t98 = -1, ref_t99 = -1, ref_acc = 0;
      std::printf("\n3. time to accuracy\n   official recipe:");
      for (int64_t e = 1; e <= ref_epochs; ++e) {
        const auto t = Clock::now();
        reference_epoch(fresh, opt, data.train);
        ref_acc = reference_accuracy(fresh, data.test);
        ref_elapsed += since(t);
        if (ref_acc >= 0.98 && ref_t98 < 0) ref_t98 = ref_elapsed;
        if (ref_acc >= 0.99 && ref_t99 < 0) ref_t99 = ref_elapsed;
        std::printf(" %.2f%%", 100 * ref_acc);
        std::fflush(stdout);
      }
      std::printf("\n   -> %.2f%% after %lld epochs, %.1f s; 98%% at %s, 99%% at %s\n", 100 * ref_acc,
                  static_cast<long long>(ref_epochs), ref_elapsed,
                  ref_t98 < 0 ? "never" : (std::to_string(int(ref_t98 + 0.5)) + " s").c_str(),
                  ref_t99 < 0 ? "never" : (std::to_string(int(ref_t99 + 0.5)) + " s").c_str());

      digitnet::configure_threads(cores);
      digitnet::seed_everything(0);
      digitnet::DigitTask ours(data, {}, torch::kCPU);
      digitnet::TrainOptions to;
      to.epochs = args["epochs"].as<int64_t>();
      to.out_dir = digitnet::bench::temp_dir("accuracy");
      double t98 = -1, t99 = -1;
      std::printf("   digitnet-train defaults:");
      const auto res = digitnet::train(ours, to, {nullptr, [&](const digitnet::EpochStats& s, const auto&) {
        const double acc = s.eval.at("accuracy");
        if (acc >= 0.98 && t98 < 0) t98 = s.elapsed_s;
        if (acc >= 0.99 && t99 < 0) t99 = s.elapsed_s;
        std::printf(" %.2f%%", 100 * acc);
        std::fflush(stdout);
      }});
      const auto& last = res.history.back();
      std::printf("\n   -> %.2f%% after %lld epochs, %.1f s; 98%% at %s, 99%% at %s\n", 100 * last.eval.at("accuracy"),
                  static_cast<long long>(last.epoch), last.elapsed_s,
                  t98 < 0 ? "never" : (std::to_string(int(t98 + 0.5)) + " s").c_str(),
                  t99 < 0 ? "never" : (std::to_string(int(t99 + 0.5)) + " s").c_str());
      out.set("time_to_accuracy",
              digitnet::Json::object()
                  .set("reference_final_accuracy", ref_acc)
                  .set("reference_seconds", ref_elapsed)
                  .set("reference_seconds_to_98", ref_t98 < 0 ? digitnet::Json() : digitnet::Json(ref_t98))
                  .set("digitnet_final_accuracy", last.eval.at("accuracy"))
                  .set("digitnet_seconds", last.elapsed_s)
                  .set("digitnet_seconds_to_98", t98 < 0 ? digitnet::Json() : digitnet::Json(t98))
                  .set("digitnet_seconds_to_99", t99 < 0 ? digitnet::Json() : digitnet::Json(t99)));
    }
    if (args.count("json")) std::cout << out.dump() << '\n';
    return 0;
  });
}
