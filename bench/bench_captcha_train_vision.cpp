// Captcha training throughput: CaptchaTask's background render queue against rendering each
// batch inline, measured in the same run, plus how long the loop waited for data. (Models are
// trained by `digitnet-train --task captcha`; scripts/train-captcha.sh.)
#include <torch/types.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/captcha_task.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-captcha-train-vision", [&] {
    cxxopts::Options opts("digitnet-bench-captcha-train-vision",
                          "Captcha training samples/s with the background render queue against inline rendering.");
    opts.add_options()
      ("batches", "batches per epoch", cxxopts::value<int64_t>()->default_value("20"))
      ("batch-size", "captchas per batch", cxxopts::value<int64_t>()->default_value("64"))
      ("lr", "peak learning rate", cxxopts::value<double>()->default_value("0.003"))
      ("weight-decay", "AdamW weight decay", cxxopts::value<double>()->default_value("0.0001"))
      ("channels", "CaptchaNet channels", cxxopts::value<int64_t>()->default_value("16"))
      ("hidden", "CaptchaNet GRU units", cxxopts::value<int64_t>()->default_value("96"))
      ("workers", "render threads", cxxopts::value<int>()->default_value("1"))
      ("val", "validation captchas", cxxopts::value<int64_t>()->default_value("1000"))
      ("heldout", "validation captchas per held-out family", cxxopts::value<int64_t>()->default_value("300"))
      ("seed", "seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("threads", "LibTorch threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    std::cerr << digitnet::describe_device(torch::kCPU, threads) << '\n';
    digitnet::CaptchaTaskOptions o;
    o.batches_per_epoch = args["batches"].as<int64_t>();
    o.batch_size = args["batch-size"].as<int64_t>();
    o.model.channels = args["channels"].as<int64_t>();
    o.model.hidden = args["hidden"].as<int64_t>();
    o.workers = args["workers"].as<int>();
    o.val_count = args["val"].as<int64_t>();
    o.heldout_count = args["heldout"].as<int64_t>();
    o.seed = args["seed"].as<uint64_t>();
    const uint64_t seed = args["seed"].as<uint64_t>();
    digitnet::seed_everything(seed);
    digitnet::CaptchaTask task(o);
    auto& net = task.net();
    const double lr = args["lr"].as<double>();
    torch::optim::AdamW opt(net->parameters(),
                            torch::optim::AdamWOptions(lr).weight_decay(args["weight-decay"].as<double>()));

    // The same number of batches through the queue and rendered inline.
    net->train();
    const auto step = [&](torch::Tensor loss) {
      opt.zero_grad();
      loss.backward();
      opt.step();
    };
    task.begin_epoch(0, seed);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t samples = 0;
    for (int64_t b = 0; b < o.batches_per_epoch; ++b) {
      int64_t n = 0;
      step(task.batch_loss(b, n));
      samples += n;
    }
    const double queued_s = seconds_since(t0);
    const double wait_s = task.data_wait_seconds();
    const auto t1 = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < o.batches_per_epoch; ++b) {
      auto batch = task.make_batch(seed + 1, b);
      step(digitnet::captcha_ctc_loss(net->forward(batch.images), batch.texts));
    }
    const double inline_s = seconds_since(t1);
    const double q_rate = double(samples) / queued_s, i_rate = double(samples) / inline_s;
    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("queued_samples_per_s", q_rate)
                       .set("inline_samples_per_s", i_rate)
                       .set("ratio", q_rate / i_rate)
                       .set("data_wait_s", wait_s)
                       .set("train_s", queued_s)
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("captcha training, batch %lld, %lld batches, %d threads, %d render worker(s)\n",
                static_cast<long long>(o.batch_size), static_cast<long long>(o.batches_per_epoch), threads,
                o.workers);
    std::printf("  background queue: %8.1f samples/s, waited %.2f s of %.2f s for data\n", q_rate, wait_s,
                queued_s);
    std::printf("  inline rendering: %8.1f samples/s (ref)\n", i_rate);
    std::printf("  ratio: %.2fx\n", q_rate / i_rate);
    return 0;
  });
}
