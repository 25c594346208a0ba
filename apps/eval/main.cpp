// digitnet-eval: scores a checkpoint on a test set: accuracy, confusion matrix, per-class
// precision/recall/F1, calibration, speed; optionally a picture of the worst mistakes.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/metrics.h"
#ifdef DIGITNET_HAVE_OPENCV
#include "digitnet/vision/plot.h"
#endif

namespace {

// The checkpoint to score when none is named: the default training run's, else the shipped one.
std::string default_checkpoint() {
  if (std::filesystem::exists("runs/mnist/model.pt")) return "runs/mnist/model.pt";
  return digitnet::cli::find_model("models/mnist.pt");
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-eval", [&] {
    cxxopts::Options opts("digitnet-eval", "Score a checkpoint on a test set.");
    opts.add_options()
      ("c,checkpoint", "checkpoint file (default: runs/mnist/model.pt, else models/mnist.pt)", cxxopts::value<std::string>())
      ("d,data-dir", "dataset folder (IDX files)", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("split", "t10k (test) or train", cxxopts::value<std::string>()->default_value("t10k"))
      ("batch-size", "images per forward pass", cxxopts::value<int64_t>()->default_value("1000"))
      ("mistakes", "write a PNG grid of the most confidently wrong digits", cxxopts::value<std::string>())
      ("top", "how many mistakes to draw", cxxopts::value<int64_t>()->default_value("50"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("auto"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print the results as one JSON object")
      ("h,help", "show this help");
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << '\n';
      return digitnet::cli::kOk;
    }
    if (!args.unmatched().empty())
      throw std::invalid_argument("unexpected argument '" + args.unmatched().front() + "'");
    const auto split = args["split"].as<std::string>();
    if (split != "t10k" && split != "train") throw std::invalid_argument("--split must be t10k or train");
    const int64_t batch = args["batch-size"].as<int64_t>();
    if (batch < 1 || batch > 100000) throw std::invalid_argument("--batch-size must be between 1 and 100000");
    const int64_t top = args["top"].as<int64_t>();
    if (top < 1 || top > 10000) throw std::invalid_argument("--top must be between 1 and 10000");
#ifndef DIGITNET_HAVE_OPENCV
    if (args.count("mistakes")) throw std::invalid_argument("--mistakes needs a build with OpenCV");
#endif

    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    const auto device = digitnet::select_device(args["device"].as<std::string>());
    std::cerr << digitnet::describe_device(device, threads) << '\n';

    const auto checkpoint = args.count("checkpoint") ? args["checkpoint"].as<std::string>() : default_checkpoint();
    auto model = digitnet::load_digit_model(checkpoint, device);
    const auto data_dir = args["data-dir"].as<std::string>();
    const auto data = digitnet::load_idx_split(data_dir, split);
    if (data.size() == 0) throw std::runtime_error(data_dir + ": the " + split + " split is empty");

    // Warm up once (first-call allocations), then time the whole set.
    digitnet::predict_logits(*model.net, data.images.narrow(0, 0, std::min<int64_t>(batch, data.size())), device, batch);
    const auto t0 = std::chrono::steady_clock::now();
    const auto logits = digitnet::predict_logits(*model.net, data.images, device, batch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = double(data.size()) / seconds;
    const auto report = digitnet::classification_report(logits, data.labels, model.temperature);

    if (args.count("mistakes")) {
#ifdef DIGITNET_HAVE_OPENCV
      const auto probs = torch::softmax(logits / model.temperature, 1);
      const auto best = probs.max(1);
      const torch::Tensor conf = std::get<0>(best), pred = std::get<1>(best);
      const auto wrong = pred.ne(data.labels).nonzero().flatten();
      const auto order = conf.index_select(0, wrong).argsort(0, /*descending=*/true);
      std::vector<digitnet::vision::Mistake> mistakes;
      for (int64_t i = 0; i < std::min<int64_t>(top, order.size(0)); ++i) {
        const int64_t k = wrong[order[i].item().toLong()].item().toLong();
        mistakes.push_back({data.images[k], data.labels[k].item().toLong(), pred[k].item().toLong(),
                            conf[k].item().toDouble()});
      }
      digitnet::vision::write_mistake_grid(args["mistakes"].as<std::string>(), mistakes);
      std::cerr << "wrote " << mistakes.size() << " mistakes to " << args["mistakes"].as<std::string>() << '\n';
#endif
    }

    if (args.count("json")) {
      auto j = digitnet::report_json(report);
      j.set("checkpoint", checkpoint)
          .set("data_dir", data_dir)
          .set("split", split)
          .set("images_per_s", rate)
          .set("device", device.str());
      std::cout << j.dump() << '\n';
      return digitnet::cli::kOk;
    }
    std::printf("checkpoint: %s (trained on %s, temperature %.3f)\n", checkpoint.c_str(),
                model.manifest.count("data.name") ? model.manifest.at("data.name").c_str() : "?", model.temperature);
    std::printf("test set:   %s/%s, %lld images\n", data_dir.c_str(), split.c_str(), static_cast<long long>(data.size()));
    std::printf("accuracy:   %.2f%% (%lld/%lld)\n", 100.0 * report.accuracy, static_cast<long long>(report.correct),
                static_cast<long long>(report.samples));
    std::printf("calibration: expected calibration error %.2f%%, loss %.4f\n", 100.0 * report.ece, report.loss);
    std::printf("speed:      %.0f images/s on %s\n\n", rate, device.str().c_str());
    std::printf("%s", digitnet::report_text(report).c_str());
    return digitnet::cli::kOk;
  });
}
