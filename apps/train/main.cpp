// digitnet-train: trains a model with the one training loop (trainer.h), with progress on
// stderr, a checkpoint every epoch, metrics.json, curves.png, Ctrl-C to stop and --resume.
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/trainer.h"
#ifdef DIGITNET_HAVE_OPENCV
#include "digitnet/vision/captcha_task.h"
#include "digitnet/vision/plot.h"
#include "digitnet/vision/reader_data.h"
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

#ifdef DIGITNET_HAVE_OPENCV
// The captcha task `o` describes, announced on stderr in one line.
std::unique_ptr<digitnet::CaptchaTask> make_captcha_task(const digitnet::CaptchaTaskOptions& o, int64_t epochs, uint64_t seed,
                                                         const std::string& held_out, const std::string& exclude) {
  digitnet::seed_everything(seed);  // the model's initial weights
  auto t = std::make_unique<digitnet::CaptchaTask>(o);
  std::cerr << "model: CaptchaNet (" << t->options().model.channels << " channels, " << t->options().model.hidden
            << " GRU units), " << digitnet::count_parameters(*t->net()) << " parameters; " << epochs
            << " epochs of " << t->batches_per_epoch() << " batches of " << o.batch_size
            << " captchas rendered on the fly; held out: " << held_out
            << (o.exclude.empty() ? "" : "; excluded: " + exclude)
            << (!o.init_checkpoint.empty() && o.finetune_dir.empty() ? "; starting from " + o.init_checkpoint.string() : "")
            << (o.finetune_dir.empty() || o.self_train ? "" : "; fine-tuning on " + std::to_string(t->real_train_count()) +
                                                  " real captchas from " + o.finetune_dir.string())
            << (o.self_train ? "; self-training on " + std::to_string(t->self_labelled()) + " of the " +
                                   std::to_string(t->self_train_files()) + " captchas in " + o.finetune_dir.string() +
                                   " that it reads at least " + std::to_string(int(std::lround(100 * o.self_train_confidence))) +
                                   "% sure (a fifth kept for validation)"
                             : "")
            << '\n';
  return t;
}

// --average A.pt,B.pt,...: the mean of the checkpoints' weights, scored on the validation sets
// that `o` renders, written to OUT/model.pt and OUT/metrics.json (one entry, epoch 0).
int average_captcha_models(const std::string& list, digitnet::CaptchaTaskOptions o, const std::filesystem::path& out,
                           bool json) {
  std::vector<std::filesystem::path> files;
  for (size_t start = 0; start <= list.size();) {
    const auto comma = std::min(list.find(',', start), list.size());
    if (comma > start) files.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  if (files.size() < 2) throw std::invalid_argument("--average needs two checkpoints or more, comma-separated");
  const auto checkpoint = out / "model.pt";
  if (std::filesystem::exists(checkpoint))
    throw std::runtime_error(checkpoint.string() + " exists: choose another --out");
  o.init_checkpoint = files.front();  // the model's options, checked against every other file
  digitnet::CaptchaTask task(o);
  digitnet::average_checkpoints(files, task.model());
  std::cerr << "model: CaptchaNet (" << task.options().model.channels << " channels, " << task.options().model.hidden
            << " GRU units), the mean of " << files.size() << " checkpoints' weights; scoring it\n";
  const auto t0 = std::chrono::steady_clock::now();
  task.model().eval();
  digitnet::EpochStats stats;
  {
    torch::NoGradGuard no_grad;
    stats.eval = task.evaluate();
  }
  stats.seconds = stats.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto manifest = task.manifest();
  manifest.erase("initialised_from");
  manifest["averaged_from"] = list;
  std::filesystem::create_directories(out);
  digitnet::save_checkpoint(checkpoint, task.model(), manifest);
  digitnet::write_metrics(out / "metrics.json", {stats}, manifest, true);
  std::fprintf(stderr, "done: validation accuracy %.2f%%  characters %.2f%%  held-out families %.2f%%; %s\n",
               100.0 * stats.eval.at("accuracy"), 100.0 * stats.eval.at("char_accuracy"),
               100.0 * (stats.eval.count("heldout_accuracy") ? stats.eval.at("heldout_accuracy") : 0.0),
               checkpoint.string().c_str());
  if (json) {
    digitnet::Json eval = digitnet::Json::object();
    for (const auto& [k, v] : stats.eval) eval.set(k, v);
    std::cout << digitnet::Json::object()
                     .set("checkpoint", checkpoint.string())
                     .set("averaged", int64_t(files.size()))
                     .set("eval", eval)
                     .dump()
              << '\n';
  }
  return digitnet::cli::kOk;
}
#endif

// Trains `task` as `options` say, with a progress line, one line per epoch and curves.png;
// prints where the model went and, with `json`, a summary on stdout. 130 when interrupted.
int train_and_report(digitnet::TrainTask& task, const digitnet::TrainOptions& options, bool captcha, const char* scored,
                     bool json) {
  ProgressLine progress;
  digitnet::TrainCallbacks callbacks;
  callbacks.on_progress = [&](const digitnet::TrainProgress& p) { progress.update(p); };
  callbacks.on_epoch = [&](const digitnet::EpochStats& s, const std::vector<digitnet::EpochStats>& history) {
    progress.clear();
    std::fprintf(stderr, "epoch %lld/%lld  loss %.4f  %s accuracy %.2f%%  %.0f img/s  %.1f s (total %s)\n",
                 static_cast<long long>(s.epoch), static_cast<long long>(options.epochs), s.train_loss, scored,
                 100.0 * s.eval.at("accuracy"), s.samples_per_s, s.seconds,
                 digitnet::cli::format_duration(s.elapsed_s).c_str());
    if (captcha)
      std::fprintf(stderr, "  characters %.2f%%  held-out families %.2f%%  waited for data %.2f s\n",
                   100.0 * s.eval.at("char_accuracy"),
                   100.0 * (s.eval.count("heldout_accuracy") ? s.eval.at("heldout_accuracy") : 0.0), s.data_wait_s);
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
  const auto temperature = captcha ? std::string("1") : saved.get("temperature");  // captchas: CTC, no temperature
  std::cerr << "done: " << scored << " accuracy " << 100.0 * last.eval.at("accuracy") << "% after " << last.epoch
            << " epochs, " << digitnet::cli::format_duration(last.elapsed_s) << "; " << result.checkpoint.string()
            << " (temperature " << temperature << ")\n";
  if (json)
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
}

#ifdef DIGITNET_HAVE_OPENCV
// --self-train --rounds N: round r reads the folder with round r-1's model (the first round
// with --finetune's) and fine-tunes that model on its sure readings, into OUT/round-r; the
// last round writes OUT itself. A better model labels more of the folder, and rightly, so each
// round learns from more. --resume continues each round where it stopped (a finished round
// only reports itself again).
int self_train_in_rounds(digitnet::CaptchaTaskOptions o, const digitnet::TrainOptions& options, int64_t rounds,
                         const std::string& held_out, const std::string& exclude, bool json) {
  std::vector<digitnet::TrainOptions> each(static_cast<size_t>(rounds), options);
  for (size_t r = 0; r + 1 < each.size(); ++r) each[r].out_dir = options.out_dir / ("round-" + std::to_string(r + 1));
  for (auto& round : each) {  // refused before any round trains
    const auto file = round.out_dir / "model.pt";
    round.resume = std::filesystem::exists(file);
    if (round.resume && !options.resume)
      throw std::runtime_error(file.string() + " exists: pass --resume to continue that run, or choose another --out");
  }
  if (options.resume && !each.front().resume)
    throw std::runtime_error("--resume: no checkpoint at " + (each.front().out_dir / "model.pt").string());
  install_signal_handlers();
  for (size_t r = 0; r < each.size(); ++r) {
    std::cerr << "round " << r + 1 << "/" << rounds << ": " << o.init_checkpoint.string() << " labels "
              << o.finetune_dir.string() << '\n';
    const auto task = make_captcha_task(o, options.epochs, options.seed, held_out, exclude);
    const int code = train_and_report(*task, each[r], true, "test", json && r + 1 == each.size());
    if (code != digitnet::cli::kOk) return code;
    o.init_checkpoint = each[r].out_dir / "model.pt";
  }
  return digitnet::cli::kOk;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-train", [&] {
    cxxopts::Options opts("digitnet-train",
                          "Train a digit model. Writes OUT/model.pt (a checkpoint after every epoch),\n"
                          "OUT/metrics.json and OUT/curves.png; Ctrl-C saves and stops, --resume continues.");
    opts.add_options()
      ("task", "mnist (digits from an IDX folder: MNIST, Fashion-MNIST, ...) | reader (the photo reader's model: the folder's train split degraded as cameras do and canonicalised, 10% kept for validation) | captcha (endless synthetic captchas)", cxxopts::value<std::string>()->default_value("mnist"))
      ("d,data-dir", "dataset folder (IDX files; for captcha: real captchas for --finetune, labelled unless --self-train)", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("o,out", "run folder (default runs/<task>)", cxxopts::value<std::string>()->default_value("runs/mnist"))
      ("epochs", "epochs (reader and captcha default 8, --self-train 2 a round)", cxxopts::value<int64_t>()->default_value("40"))
      ("batch-size", "images per batch (captcha default 64)", cxxopts::value<int64_t>()->default_value("128"))
      ("lr", "peak learning rate (AdamW, one-cycle schedule)", cxxopts::value<double>()->default_value("0.003"))
      ("weight-decay", "AdamW weight decay", cxxopts::value<double>()->default_value("0.0005"))
      ("augment", "none | mnist (random affine) | camera (affine, stroke width, blur, contrast, noise); reader default none", cxxopts::value<std::string>()->default_value("mnist"))
      ("copies", "reader: camera-degraded copies of every training digit", cxxopts::value<int>()->default_value("4"))
      ("channels", "MnistNet width (filters of the first convolution; CaptchaNet default 16)", cxxopts::value<int64_t>()->default_value("32"))
      ("hidden", "MnistNet dense layer size (CaptchaNet GRU units, default 96)", cxxopts::value<int64_t>()->default_value("128"))
      ("finetune", "captcha: start from CHECKPOINT and adapt it to the labelled captchas in --data-dir (unlabelled with --self-train)", cxxopts::value<std::string>())
      ("self-train", "captcha: with --finetune, the captchas in --data-dir need no labels: the checkpoint reads them, and those it reads at least --self-train-min sure are trained on with its readings as labels")
      ("self-train-min", "captcha: confidence (0..1] a reading needs to label its captcha for --self-train", cxxopts::value<double>()->default_value("0.95"))
      ("rounds", "captcha: --self-train this many times (1-10, default 3), each round's model labelling the folder again for the next; rounds before the last go to OUT/round-N", cxxopts::value<int64_t>())
      ("init", "captcha: start from CHECKPOINT's weights and keep training on synthetic captchas", cxxopts::value<std::string>())
      ("average", "captcha: no training; OUT/model.pt is the mean of the weights of these checkpoints (A.pt,B.pt,...: runs started from one model), scored on the validation sets", cxxopts::value<std::string>())
      ("held-out", "captcha: style families kept out of training and scored apart", cxxopts::value<std::string>()->default_value("freefont,grid,perspective"))
      ("exclude", "captcha: style families never drawn, in training or validation", cxxopts::value<std::string>()->default_value(""))
      ("other-fonts", "captcha: also draw TrueType fonts under /usr/share/fonts of packages other than those setup.sh installs (family ttf-other)")
      ("mirror-1-7", "captcha: share (0..1) of the 1s leaning clockwise and 7s leaning anticlockwise past 6 degrees (shapes of the other digit) turned the other way instead", cxxopts::value<double>()->default_value("0"))
      ("mirror-1-7-footless", "captcha: that share in the faces whose 1 has no foot (Roboto, Open Sans, Cantarell; Hershey, handwriting), in place of --mirror-1-7 there", cxxopts::value<double>())
      ("handwriting", "captcha: an MNIST folder (data/mnist); --handwriting-share of captchas draw its train split's handwritten digits", cxxopts::value<std::string>())
      ("handwriting-share", "captcha: share (0..1) of captchas drawn in handwriting with --handwriting", cxxopts::value<double>()->default_value("0.15"))
      ("length", "captcha: digits per training captcha, MIN-MAX", cxxopts::value<std::string>()->default_value("4-8"))
      ("batches", "captcha: batches per epoch (--self-train default 150)", cxxopts::value<int64_t>()->default_value("450"))
      ("val", "captcha: fixed in-style validation captchas (a third as many per held-out family)", cxxopts::value<int64_t>()->default_value("1000"))
      ("resume", "continue the run in --out where it stopped")
      ("seed", "random seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("auto"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print a JSON summary on stdout at the end")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const auto task_name = args["task"].as<std::string>();
    if (task_name != "mnist" && task_name != "reader" && task_name != "captcha")
      throw std::invalid_argument("--task must be mnist, reader or captcha, not '" + task_name + "'");
    const bool captcha = task_name == "captcha", reader = task_name == "reader";
#ifndef DIGITNET_HAVE_OPENCV
    if (captcha || reader) throw std::invalid_argument("--task " + task_name + " needs a build with OpenCV");
#endif
    if (!reader && args.count("copies")) throw std::invalid_argument("--copies is only for --task reader");
    if (!captcha) {
      for (const char* flag : {"finetune", "init", "average", "held-out", "exclude", "other-fonts", "mirror-1-7", "mirror-1-7-footless",
                               "handwriting", "handwriting-share", "length", "batches", "val", "self-train", "self-train-min", "rounds"})
        if (args.count(flag)) throw std::invalid_argument(std::string("--") + flag + " is only for --task captcha");
    } else if (args.count("augment")) {
      throw std::invalid_argument("--augment is only for --task mnist (captchas are randomised as rendered)");
    } else if (args.count("data-dir") && !args.count("finetune")) {
      throw std::invalid_argument("--task captcha reads --data-dir only with --finetune CHECKPOINT");
    } else if (args.count("finetune") && !args.count("data-dir")) {
      throw std::invalid_argument(args.count("self-train") ? "--finetune needs --data-dir: a folder of the site's captchas"
                                                           : "--finetune needs --data-dir: a folder of labelled real captchas");
    } else if ((args.count("self-train") || args.count("self-train-min")) && !args.count("finetune")) {
      throw std::invalid_argument("--self-train needs --finetune CHECKPOINT (the model that labels --data-dir) and --data-dir");
    } else if ((args.count("self-train-min") || args.count("rounds")) && !args.count("self-train")) {
      throw std::invalid_argument(std::string(args.count("rounds") ? "--rounds" : "--self-train-min") +
                                  " is only for --self-train");
    } else if (args.count("rounds") && (args["rounds"].as<int64_t>() < 1 || args["rounds"].as<int64_t>() > 10)) {
      throw std::invalid_argument("--rounds must be between 1 and 10, not " + std::to_string(args["rounds"].as<int64_t>()));
    } else if (args.count("average") && (args.count("init") || args.count("finetune") || args.count("resume") ||
                                         args.count("channels") || args.count("hidden"))) {
      throw std::invalid_argument(
          "--average trains nothing: it takes no --init, --finetune or --resume, and the model's size from its files");
    } else if (args.count("finetune") && args.count("init")) {
      throw std::invalid_argument("--init and --finetune both name a starting checkpoint: give one");
    } else if ((args.count("finetune") || args.count("init")) && (args.count("channels") || args.count("hidden"))) {
      throw std::invalid_argument("--channels and --hidden come from the starting checkpoint with --init or --finetune");
    }
    // Flags whose defaults are MNIST's take the captcha task's own unless given.
    const auto given_or = [&](const char* flag, int64_t captcha_default) {
      return captcha && !args.count(flag) ? captcha_default : args[flag].as<int64_t>();
    };

    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    const auto device = digitnet::select_device(args["device"].as<std::string>());
    std::cerr << digitnet::describe_device(device, threads) << '\n';

    digitnet::TrainOptions options;
    // Self-training defaults to short rounds: 3 rounds of 2 epochs of 150 batches read a site's
    // fresh captchas better than one round of 8 of 450, in a quarter of the time (BENCHMARKS.md).
    const bool self_train = args.count("self-train") > 0;
    options.epochs = reader && !args.count("epochs") ? 8 : given_or("epochs", self_train ? 2 : 8);
    options.lr = args["lr"].as<double>();
    options.weight_decay = args["weight-decay"].as<double>();
    options.batch_size = given_or("batch-size", 64);
    options.seed = args["seed"].as<uint64_t>();
    options.out_dir = args.count("out") ? args["out"].as<std::string>() : "runs/" + task_name;
    options.resume = args.count("resume") > 0;
    options.stop = &g_stop;
    digitnet::check_train_options(options);

    std::unique_ptr<digitnet::TrainTask> task_ptr;
#ifdef DIGITNET_HAVE_OPENCV
    if (captcha) {
      digitnet::CaptchaTaskOptions o;
      o.batch_size = options.batch_size;
      o.batches_per_epoch = self_train ? given_or("batches", 150) : args["batches"].as<int64_t>();
      o.model.channels = given_or("channels", o.model.channels);
      o.model.hidden = given_or("hidden", o.model.hidden);
      o.held_out = digitnet::parse_captcha_families(args["held-out"].as<std::string>(), "--held-out");
      o.exclude = digitnet::parse_captcha_families(args["exclude"].as<std::string>(), "--exclude");
      o.other_fonts = args.count("other-fonts") > 0;
      o.mirror_confusing_leans = args["mirror-1-7"].as<double>();
      if (!(o.mirror_confusing_leans >= 0 && o.mirror_confusing_leans <= 1))
        throw std::invalid_argument("--mirror-1-7 must be a share within 0..1");
      if (args.count("mirror-1-7-footless")) {
        o.mirror_footless_leans = args["mirror-1-7-footless"].as<double>();
        if (!(*o.mirror_footless_leans >= 0 && *o.mirror_footless_leans <= 1))
          throw std::invalid_argument("--mirror-1-7-footless must be a share within 0..1");
      }
      if (args.count("handwriting")) o.handwriting_dir = args["handwriting"].as<std::string>();
      o.handwriting_share = args["handwriting-share"].as<double>();
      if (!(o.handwriting_share >= 0 && o.handwriting_share <= 1))
        throw std::invalid_argument("--handwriting-share must be a share within 0..1");
      if (args.count("handwriting-share") && !args.count("handwriting"))
        throw std::invalid_argument("--handwriting-share needs --handwriting: an MNIST folder");
      const auto length = args["length"].as<std::string>();
      const auto dash = length.find('-');
      try {
        o.min_length = std::stoi(length.substr(0, dash));
        o.max_length = dash == std::string::npos ? o.min_length : std::stoi(length.substr(dash + 1));
      } catch (const std::exception&) {
        throw std::invalid_argument("--length must be N or MIN-MAX, not '" + length + "'");
      }
      o.val_count = args["val"].as<int64_t>();
      o.heldout_count = std::max<int64_t>(1, o.val_count / 3);
      o.seed = options.seed;
      o.device = device;
      if (args.count("finetune")) {
        o.init_checkpoint = args["finetune"].as<std::string>();
        o.finetune_dir = args["data-dir"].as<std::string>();
        o.self_train = self_train;
        o.self_train_confidence = args["self-train-min"].as<double>();
        if (!(o.self_train_confidence > 0 && o.self_train_confidence <= 1))
          throw std::invalid_argument("--self-train-min must be a confidence within (0, 1]");
      } else if (args.count("init")) {
        o.init_checkpoint = args["init"].as<std::string>();
      }
      if (args.count("average"))
        return average_captcha_models(args["average"].as<std::string>(), o, options.out_dir, args.count("json") > 0);
      const int64_t rounds = !self_train ? 1 : args.count("rounds") ? args["rounds"].as<int64_t>() : 3;
      if (rounds > 1)
        return self_train_in_rounds(o, options, rounds, args["held-out"].as<std::string>(),
                                    args["exclude"].as<std::string>(), args.count("json") > 0);
      task_ptr = make_captcha_task(o, options.epochs, options.seed, args["held-out"].as<std::string>(),
                                   args["exclude"].as<std::string>());
    }
#endif
    digitnet::DigitTaskOptions task_options;
    digitnet::DatasetSplits data;  // outlives the task, which reads from it
    if (!captcha) {
      task_options.batch_size = options.batch_size;
      task_options.augment = reader && !args.count("augment") ? "none" : args["augment"].as<std::string>();
      task_options.model.channels = args["channels"].as<int64_t>();
      task_options.model.hidden = args["hidden"].as<int64_t>();
      digitnet::augment_preset(task_options.augment);  // a bad name is a usage error before loading data

      const auto data_dir = args["data-dir"].as<std::string>();
      data = digitnet::load_idx_folder(data_dir);
      std::cerr << "data: " << data.name << " from " << data_dir << ", " << data.train.size() << " train / "
                << data.test.size() << " test images\n";
#ifdef DIGITNET_HAVE_OPENCV
      if (reader) {
        const int copies = args["copies"].as<int>();
        if (copies < 1 || copies > 100) throw std::invalid_argument("--copies must be between 1 and 100");
        const auto t0 = std::chrono::steady_clock::now();
        data = digitnet::vision::make_reader_splits(data, {copies, true, options.seed});
        std::cerr << "reader data: " << data.train.size() << " training and " << data.test.size()
                  << " validation inputs (the test split is not used) in "
                  << digitnet::cli::format_duration(
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count())
                  << '\n';
      }
#endif
      digitnet::seed_everything(options.seed);  // the model's initial weights
      auto t = std::make_unique<digitnet::DigitTask>(data, task_options, device);
      std::cerr << "model: MnistNet (" << task_options.model.channels << " channels, " << task_options.model.hidden
                << " hidden), " << digitnet::count_parameters(*t->net()) << " parameters; " << options.epochs
                << " epochs of " << t->batches_per_epoch() << " batches; augment " << task_options.augment << '\n';
      task_ptr = std::move(t);
    }
    install_signal_handlers();
    const char* scored = reader ? "validation" : "test";  // the reader never sees the test split
    return train_and_report(*task_ptr, options, captcha, scored, args.count("json") > 0);
  });
}
