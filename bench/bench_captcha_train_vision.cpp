// Captcha training throughput: CaptchaTask's background render queue against rendering each
// batch inline, measured in the same run, plus how long the loop waited for data.
//
// TEMPORARY: until digitnet::train() (lib/src/trainer.cpp) lands on main, `--out DIR` also
// runs a full training with a minimal local loop (AdamW, one-cycle, per-epoch evaluation,
// DIR/model.pt after every epoch) to produce models/captcha.pt. Once the trainer is merged,
// `digitnet-train --task captcha` replaces this path and it will be removed.
#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/captcha_task.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One-cycle: linear warm-up over the first 10% from lr/25 to lr, then cosine down to lr/1000.
double one_cycle(double lr, int64_t step, int64_t total) {
  const double p = double(step) / double(std::max<int64_t>(1, total));
  if (p < 0.1) return lr / 25 + (lr - lr / 25) * p / 0.1;
  const double q = (p - 0.1) / 0.9;
  return lr / 1000 + (lr - lr / 1000) * 0.5 * (1 + std::cos(3.14159265358979 * q));
}

std::string format_eval(const std::map<std::string, double>& eval) {
  std::string s;
  char buf[96];
  for (const auto& [k, v] : eval) {
    std::snprintf(buf, sizeof buf, "%s%s %.4f", s.empty() ? "" : "  ", k.c_str(), v);
    s += buf;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-captcha-train-vision", [&] {
    cxxopts::Options opts("digitnet-bench-captcha-train-vision",
                          "Captcha training samples/s with the background render queue against inline rendering;\n"
                          "with --out, a full training run (temporary, until digitnet-train --task captcha).");
    opts.add_options()
      ("batches", "batches per epoch", cxxopts::value<int64_t>()->default_value("20"))
      ("epochs", "epochs (with --out)", cxxopts::value<int64_t>()->default_value("1"))
      ("batch-size", "captchas per batch", cxxopts::value<int64_t>()->default_value("64"))
      ("lr", "peak learning rate", cxxopts::value<double>()->default_value("0.003"))
      ("weight-decay", "AdamW weight decay", cxxopts::value<double>()->default_value("0.0001"))
      ("channels", "CaptchaNet channels", cxxopts::value<int64_t>()->default_value("16"))
      ("hidden", "CaptchaNet GRU units", cxxopts::value<int64_t>()->default_value("96"))
      ("workers", "render threads", cxxopts::value<int>()->default_value("1"))
      ("val", "validation captchas", cxxopts::value<int64_t>()->default_value("1000"))
      ("heldout", "validation captchas per held-out family", cxxopts::value<int64_t>()->default_value("300"))
      ("seed", "seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("out", "train fully and write DIR/model.pt", cxxopts::value<std::string>())
      ("threads", "LibTorch threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print one JSON object (benchmark mode)")
      ("h,help", "show this help");
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << '\n';
      return 0;
    }
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

    if (!args.count("out")) {
      // Benchmark: the same number of batches through the queue and rendered inline.
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
    }

    const std::filesystem::path out = args["out"].as<std::string>();
    const int64_t epochs = args["epochs"].as<int64_t>();
    const int64_t total = epochs * o.batches_per_epoch;
    const auto start = std::chrono::steady_clock::now();
    digitnet::Json history = digitnet::Json::array();
    for (int64_t e = 0; e < epochs; ++e) {
      net->train();
      task.begin_epoch(e, seed);
      double loss_sum = 0;
      int64_t seen = 0;
      const auto te = std::chrono::steady_clock::now();
      for (int64_t b = 0; b < o.batches_per_epoch; ++b) {
        const double now_lr = one_cycle(lr, e * o.batches_per_epoch + b, total);
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(now_lr);
        torch::manual_seed(seed * 1000003 + uint64_t(e * o.batches_per_epoch + b));
        int64_t n = 0;
        auto loss = task.batch_loss(b, n);
        opt.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(net->parameters(), 5.0);
        opt.step();
        loss_sum += loss.item<double>() * double(n);
        seen += n;
        if ((b + 1) % 50 == 0)
          std::fprintf(stderr, "epoch %lld batch %lld/%lld loss %.4f lr %.5f %.0f samples/s wait %.1fs\n",
                       static_cast<long long>(e + 1), static_cast<long long>(b + 1),
                       static_cast<long long>(o.batches_per_epoch), loss_sum / double(seen), now_lr,
                       double(seen) / seconds_since(te), task.data_wait_seconds());
      }
      const double train_s = seconds_since(te);
      net->eval();
      std::map<std::string, double> eval;
      {
        torch::NoGradGuard no_grad;
        eval = task.evaluate();
      }
      auto manifest = task.manifest();
      manifest["seed"] = std::to_string(seed);
      manifest["epochs"] = std::to_string(e + 1) + "/" + std::to_string(epochs);
      manifest["lr"] = std::to_string(lr);
      manifest["batch_size"] = std::to_string(o.batch_size);
      for (const auto& [k, v] : eval) manifest["eval." + k] = std::to_string(v);
      digitnet::save_checkpoint(out / "model.pt", *net, manifest);
      std::fprintf(stderr, "epoch %lld/%lld  train loss %.4f  %s  %.0f samples/s  data wait %.1f s  elapsed %.0f s\n",
                   static_cast<long long>(e + 1), static_cast<long long>(epochs), loss_sum / double(seen),
                   format_eval(eval).c_str(), double(seen) / train_s, task.data_wait_seconds(), seconds_since(start));
      digitnet::Json row = digitnet::Json::object().set("epoch", e + 1).set("train_loss", loss_sum / double(seen));
      for (const auto& [k, v] : eval) row.set(k, v);
      row.set("samples_per_s", double(seen) / train_s).set("data_wait_s", task.data_wait_seconds());
      history.push(row);
      std::ofstream(out / "metrics.json") << history.dump(2) << '\n';
    }
    return 0;
  });
}
