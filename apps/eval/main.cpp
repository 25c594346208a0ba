// digitnet-eval: scores a checkpoint on a test set: accuracy, confusion matrix, per-class
// precision/recall/F1, calibration, speed; optionally a picture of the worst mistakes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/metrics.h"
#ifdef DIGITNET_HAVE_OPENCV
#include "digitnet/vision/captcha_reader.h"
#include "digitnet/vision/captcha_site.h"
#include "digitnet/vision/plot.h"
#endif

namespace {

// The checkpoint to score when none is named: the default training run's, else the shipped one.
std::string default_checkpoint() {
  if (std::filesystem::exists("runs/mnist/model.pt")) return "runs/mnist/model.pt";
  return digitnet::cli::find_model("models/mnist.pt");
}

#ifdef DIGITNET_HAVE_OPENCV
// --task captcha: a folder of labelled captchas read whole by CaptchaNet. Exit 1 when any file
// could not be read (each named on its own line on stderr), after printing the scores.
int eval_captcha(const cxxopts::ParseResult& args, const torch::Device& device) {
  if (!args.count("data-dir")) throw std::invalid_argument("--task captcha needs --data-dir: a folder of labelled captchas");
  std::string checkpoint;
  if (args.count("checkpoint")) checkpoint = args["checkpoint"].as<std::string>();
  else checkpoint = std::filesystem::exists("runs/captcha/model.pt") ? "runs/captcha/model.pt"
                                                                    : digitnet::cli::find_model("models/captcha.pt");
  digitnet::CaptchaReaderOptions options;
  options.length = digitnet::parse_captcha_length(args["length"].as<std::string>());
  options.batch_size = std::min<int64_t>(args["batch-size"].as<int64_t>(), 256);
  options.views = args["views"].as<int>();
  if (options.views < 1 || options.views > 3) throw std::invalid_argument("--views must be 1, 2 or 3");
  options.balance_ones_sevens = digitnet::parse_one_seven_balance(args["balance-1-7"].as<std::string>());
  options.retry_below = digitnet::check_retry_below(args["retry-below"].as<double>());
  const auto adapt = digitnet::parse_captcha_adaptation(args["adapt"].as<std::string>());
  options.adapt_output = adapt != digitnet::CaptchaAdaptation::off;
  digitnet::CaptchaReader reader(checkpoint, device, options);
  const auto dir = args["data-dir"].as<std::string>();
  // --adapt auto: the folder's sure readings teach the model its face first (learn_site); the
  // labels are not used until the scoring, but a folder without them is refused before training.
  digitnet::SiteTraining site;
  std::optional<digitnet::CaptchaReader> site_reader;
  if (adapt == digitnet::CaptchaAdaptation::site) {
    digitnet::list_labelled_captchas(dir);
    if (auto net = digitnet::learn_site(reader, checkpoint, dir, {}, &site,
                                        digitnet::cli::batch_counter("digitnet-eval", dir + ": learning its face")))
      site_reader.emplace(std::move(*net), device, options);
  }
  const auto r = digitnet::evaluate_captcha_folder(site_reader ? *site_reader : reader, dir);
  for (const auto& e : r.errors) std::cerr << "digitnet-eval: error: " << e << '\n';
  if (args.count("json")) {
    auto mistakes = digitnet::Json::array();
    for (const auto& m : r.mistakes)
      mistakes.push(digitnet::Json::object()
                        .set("file", m.file.string())
                        .set("truth", m.truth)
                        .set("read", m.read)
                        .set("confidence", m.confidence));
    std::cout << digitnet::Json::object()
                     .set("checkpoint", checkpoint)
                     .set("data_dir", dir)
                     .set("views", int64_t(options.views))
                     .set("length", options.length.automatic ? "auto" : digitnet::to_string(options.length))
                     .set("settled_length", digitnet::to_string(r.settled.length.length))
                     .set("reread", r.settled.length.reread)
                     .set("one_seven_bias", r.settled.balance.bias)
                     .set("rebalanced", r.settled.balance.changed)
                     .set("site_trained_on", site.learned_from)
                     .set("site_seconds", site.seconds)
                     .set("adapted_to", r.settled.adaptation.learned_from)
                     .set("readapted", r.settled.adaptation.changed)
                     .set("captchas", r.total)
                     .set("read", r.read)
                     .set("correct", r.correct)
                     .set("accuracy", r.accuracy())
                     .set("char_accuracy", r.char_accuracy())
                     .set("wrong_length", r.wrong_length)
                     .set("retry", r.retry)
                     .set("answered", r.read - r.retry)
                     .set("answered_accuracy", r.answered_accuracy())
                     .set("errors", int64_t(r.errors.size()))
                     .set("captchas_per_s", r.captchas_per_s())
                     .set("mistakes", mistakes)
                     .dump()
              << '\n';
  } else {
    std::printf("checkpoint:     %s (%d views per captcha)\n", checkpoint.c_str(), options.views);
    if (site.learned_from > 0)
      std::printf("site:           the model trained on %lld sure readings of the folder first (%.1f s)\n",
                  static_cast<long long>(site.learned_from), site.seconds);
    if (r.settled.adaptation.learned_from > 0)
      std::printf("adapted:        output layer refitted to %lld sure readings (%lld readings changed)\n",
                  static_cast<long long>(r.settled.adaptation.learned_from),
                  static_cast<long long>(r.settled.adaptation.changed));
    if (r.settled.balance.bias != 0.0)
      std::printf("1s and 7s:      balanced: bias %+.2f towards the 1 (%lld readings changed)\n",
                  r.settled.balance.bias, static_cast<long long>(r.settled.balance.changed));
    if (options.length.automatic && r.settled.length.length.constrained())
      std::printf("length:         auto: %s (%lld captchas read again with it)\n",
                  digitnet::to_string(r.settled.length.length).c_str(), static_cast<long long>(r.settled.length.reread));
    else if (options.length.automatic)
      std::printf("length:         auto: lengths vary, none imposed\n");
    else
      std::printf("length:         %s\n", digitnet::to_string(options.length).c_str());
    std::printf("captchas:       %s, %lld labelled (%lld unreadable)\n", dir.c_str(), static_cast<long long>(r.total),
                static_cast<long long>(r.errors.size()));
    std::printf("accuracy:       %.2f%% whole strings (%lld/%lld)\n", 100.0 * r.accuracy(),
                static_cast<long long>(r.correct), static_cast<long long>(r.total));
    std::printf("characters:     %.2f%% (%lld/%lld)\n", 100.0 * r.char_accuracy(), static_cast<long long>(r.chars_correct),
                static_cast<long long>(r.chars));
    std::printf("wrong length:   %lld\n", static_cast<long long>(r.wrong_length));
    std::printf("retry:          %lld marked (confidence below %.2f); the other %lld read %.2f%% right\n",
                static_cast<long long>(r.retry), options.retry_below, static_cast<long long>(r.read - r.retry),
                100.0 * r.answered_accuracy());
    std::printf("speed:          %.0f captchas/s (files read, decoded and scored)\n", r.captchas_per_s());
  }
  if (args.count("mistakes")) {  // after the scores: a file that cannot be written loses none
    const auto file = args["mistakes"].as<std::string>();
    auto worst = r.mistakes;  // the most confidently wrong first
    std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
    worst.resize(std::min<size_t>(worst.size(), size_t(args["top"].as<int64_t>())));
    std::vector<digitnet::vision::CaptchaMistake> drawn;
    for (const auto& m : worst) drawn.push_back({digitnet::read_captcha_image(m.file), m.truth, m.read, m.confidence});
    if (drawn.empty()) {
      std::cerr << "digitnet-eval: no mistakes, " << file << " not written\n";
    } else {
      digitnet::vision::write_captcha_mistake_grid(file, drawn);
      std::cerr << "wrote " << drawn.size() << " mistakes to " << file << '\n';
    }
  }
  return r.errors.empty() ? digitnet::cli::kOk : digitnet::cli::kFailure;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-eval", [&] {
    cxxopts::Options opts("digitnet-eval", "Score a checkpoint on a test set.");
    opts.add_options()
      ("task", "mnist (an IDX test set) | captcha (a folder of <anything>_<digits>.<ext> files or a labels.csv)", cxxopts::value<std::string>()->default_value("mnist"))
      ("length", "captcha: digits to read: N, MIN-MAX, any, or auto (when 75% of the folder's confident readings have one length, the others are read again with it)", cxxopts::value<std::string>()->default_value("auto"))
      ("balance-1-7", "captcha: auto: a folder whose readings hold too few 1s against 7s (or too few 7s), beyond chance, is decoded again with the 1 and the 7 weighed to even them; off: as the model reads", cxxopts::value<std::string>()->default_value("auto"))
      ("adapt", "captcha: auto: a folder of one length with 50 or more sure readings (0.95) trains the model on them (60 batches, half its own captchas, about 20 s on 2 cores) and is read again with it, its output layer refitted as with output; output: that refit alone; off: as the model reads. The checkpoint is unchanged", cxxopts::value<std::string>()->default_value("auto"))
      ("retry-below", "captcha: readings less confident than this (0-1) are marked retry: ask the site for another captcha", cxxopts::value<double>()->default_value("0.5"))
      ("views", "captcha: views read per captcha, 1..3 (the image, dark strokes bolder, light strokes bolder); the most confident reading wins", cxxopts::value<int>()->default_value("3"))
      ("c,checkpoint", "checkpoint file (default: runs/mnist/model.pt, else models/mnist.pt)", cxxopts::value<std::string>())
      ("d,data-dir", "dataset folder (IDX files)", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("split", "t10k (test) or train", cxxopts::value<std::string>()->default_value("t10k"))
      ("batch-size", "images per forward pass", cxxopts::value<int64_t>()->default_value("1000"))
      ("mistakes", "write a PNG grid of the most confidently wrong digits (or captchas)", cxxopts::value<std::string>())
      ("top", "how many mistakes to draw", cxxopts::value<int64_t>()->default_value("50"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("auto"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print the results as one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int64_t top = args["top"].as<int64_t>();
    if (top < 1 || top > 10000) throw std::invalid_argument("--top must be between 1 and 10000");
    const auto task_name = args["task"].as<std::string>();
    if (task_name != "mnist" && task_name != "captcha")
      throw std::invalid_argument("--task must be mnist or captcha, not '" + task_name + "'");
    if (task_name == "captcha") {
#ifdef DIGITNET_HAVE_OPENCV
      if (args.count("split")) throw std::invalid_argument("--split is only for --task mnist");
      const int threads = digitnet::configure_threads(args["threads"].as<int>());
      const auto device = digitnet::select_device(args["device"].as<std::string>());
      std::cerr << digitnet::describe_device(device, threads) << '\n';
      return eval_captcha(args, device);
#else
      throw std::invalid_argument("--task captcha needs a build with OpenCV");
#endif
    }
    for (const char* flag : {"length", "views", "balance-1-7", "adapt", "retry-below"})
      if (args.count(flag)) throw std::invalid_argument(std::string("--") + flag + " is only for --task captcha");
    const auto split = args["split"].as<std::string>();
    if (split != "t10k" && split != "train") throw std::invalid_argument("--split must be t10k or train");
    const int64_t batch = args["batch-size"].as<int64_t>();
    if (batch < 1 || batch > 100000) throw std::invalid_argument("--batch-size must be between 1 and 100000");

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
