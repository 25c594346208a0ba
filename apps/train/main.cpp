// digitnet-train: trains a model with the one training loop (trainer.h), with progress on
// stderr, a checkpoint every epoch, metrics.json, curves.png, Ctrl-C to stop and --resume.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/trainer.h"
#ifdef DIGITNET_HAVE_OPENCV
#include "digitnet/vision/plot.h"
#endif

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  if (g_stop.load()) std::_Exit(130);  // a second Ctrl-C ends at once
  g_stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// One progress line, redrawn in place on a terminal.
class ProgressLine {
 public:
  ProgressLine() : tty_(::isatty(STDERR_FILENO) != 0) {}
  void update(const digitnet::TrainProgress& p) {
    if (!tty_) return;
    const int width = 24;
    const int filled = static_cast<int>(double(width) * double(p.batch) / double(std::max<int64_t>(1, p.batches)));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(static_cast<size_t>(width), '.');
    std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f img/s  ETA %s",
                 static_cast<long long>(p.epoch), static_cast<long long>(p.epochs), bar.c_str(),
                 static_cast<long long>(p.batch), static_cast<long long>(p.batches), p.loss, p.samples_per_s,
                 digitnet::cli::format_duration(p.eta_s).c_str());
    dirty_ = true;
  }
  void clear() {
    if (dirty_) std::fputs("\r\033[K", stderr);
    dirty_ = false;
  }

 private:
  bool tty_;
  bool dirty_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-train", [&] {
    cxxopts::Options opts("digitnet-train",
                          "Train a digit model. Writes OUT/model.pt (a checkpoint after every epoch),\n"
                          "OUT/metrics.json and OUT/curves.png; Ctrl-C saves and stops, --resume continues.");
    opts.add_options()
      ("task", "mnist (digits from an IDX folder: MNIST, Fashion-MNIST, ...)", cxxopts::value<std::string>()->default_value("mnist"))
      ("d,data-dir", "dataset folder (IDX files)", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("o,out", "run folder", cxxopts::value<std::string>()->default_value("runs/mnist"))
      ("epochs", "epochs", cxxopts::value<int64_t>()->default_value("30"))
      ("batch-size", "images per batch", cxxopts::value<int64_t>()->default_value("128"))
      ("lr", "peak learning rate (AdamW, one-cycle schedule)", cxxopts::value<double>()->default_value("0.003"))
      ("weight-decay", "AdamW weight decay", cxxopts::value<double>()->default_value("0.0005"))
      ("augment", "none | mnist (random affine) | camera (affine, stroke width, blur, contrast, noise)", cxxopts::value<std::string>()->default_value("mnist"))
      ("channels", "MnistNet width (filters of the first convolution)", cxxopts::value<int64_t>()->default_value("32"))
      ("hidden", "MnistNet dense layer size", cxxopts::value<int64_t>()->default_value("128"))
      ("resume", "continue the run in --out where it stopped")
      ("seed", "random seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("auto"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print a JSON summary on stdout at the end")
      ("h,help", "show this help");
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << '\n';
      return digitnet::cli::kOk;
    }
    if (!args.unmatched().empty())
      throw std::invalid_argument("unexpected argument '" + args.unmatched().front() + "'");
    const auto task_name = args["task"].as<std::string>();
    if (task_name != "mnist") throw std::invalid_argument("--task must be mnist, not '" + task_name + "'");

    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    const auto device = digitnet::select_device(args["device"].as<std::string>());
    std::cerr << digitnet::describe_device(device, threads) << '\n';

    digitnet::TrainOptions options;
    options.epochs = args["epochs"].as<int64_t>();
    options.lr = args["lr"].as<double>();
    options.weight_decay = args["weight-decay"].as<double>();
    options.batch_size = args["batch-size"].as<int64_t>();
    options.seed = args["seed"].as<uint64_t>();
    options.out_dir = args["out"].as<std::string>();
    options.resume = args.count("resume") > 0;
    options.stop = &g_stop;

    digitnet::DigitTaskOptions task_options;
    task_options.batch_size = options.batch_size;
    task_options.augment = args["augment"].as<std::string>();
    task_options.model.channels = args["channels"].as<int64_t>();
    task_options.model.hidden = args["hidden"].as<int64_t>();
    digitnet::augment_preset(task_options.augment);  // a bad name is a usage error before loading data

    const auto data_dir = args["data-dir"].as<std::string>();
    const auto data = digitnet::load_idx_folder(data_dir);
    std::cerr << "data: " << data.name << " from " << data_dir << ", " << data.train.size() << " train / "
              << data.test.size() << " test images\n";
    digitnet::seed_everything(options.seed);  // the model's initial weights
    digitnet::DigitTask task(data, task_options, device);
    std::cerr << "model: MnistNet (" << task_options.model.channels << " channels, " << task_options.model.hidden
              << " hidden), " << digitnet::count_parameters(*task.net()) << " parameters; " << options.epochs
              << " epochs of " << task.batches_per_epoch() << " batches; augment " << task_options.augment << '\n';

    install_signal_handlers();
    ProgressLine progress;
    digitnet::TrainCallbacks callbacks;
    callbacks.on_progress = [&](const digitnet::TrainProgress& p) { progress.update(p); };
    callbacks.on_epoch = [&](const digitnet::EpochStats& s, const std::vector<digitnet::EpochStats>& history) {
      progress.clear();
      std::fprintf(stderr, "epoch %lld/%lld  loss %.4f  test accuracy %.2f%%  %.0f img/s  %.1f s (total %s)\n",
                   static_cast<long long>(s.epoch), static_cast<long long>(options.epochs), s.train_loss,
                   100.0 * s.eval.at("accuracy"), s.samples_per_s, s.seconds,
                   digitnet::cli::format_duration(s.elapsed_s).c_str());
#ifdef DIGITNET_HAVE_OPENCV
      digitnet::vision::write_training_curves(options.out_dir / "curves.png", history);
#else
      (void)history;
#endif
    };
    const auto result = digitnet::train(task, options, callbacks);
    progress.clear();

    if (result.interrupted) {
      std::cerr << "interrupted: saved " << result.checkpoint.string() << " after epoch "
                << result.history.size() << "; continue with the same flags and --resume\n";
      return 130;
    }
    const auto& last = result.history.back();
    digitnet::CheckpointReader saved(result.checkpoint);
    const auto temperature = saved.get("temperature");
    std::cerr << "done: test accuracy " << 100.0 * last.eval.at("accuracy") << "% after " << last.epoch
              << " epochs, " << digitnet::cli::format_duration(last.elapsed_s) << "; " << result.checkpoint.string()
              << " (temperature " << temperature << ")\n";
    if (args.count("json"))
      std::cout << digitnet::Json::object()
                       .set("checkpoint", result.checkpoint.string())
                       .set("accuracy", last.eval.at("accuracy"))
                       .set("epochs", last.epoch)
                       .set("seconds", last.elapsed_s)
                       .set("temperature", std::stod(temperature))
                       .set("history", digitnet::history_json(result.history))
                       .dump()
                << '\n';
    return digitnet::cli::kOk;
  });
}
