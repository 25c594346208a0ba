// digitnet-read: handwritten digits in image files and folders, as text or JSON lines.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/captcha_reader.h"
#include "digitnet/vision/captcha_site.h"
#include "digitnet/vision/image_io.h"
#include "digitnet/vision/overlay.h"
#include "digitnet/vision/preprocess.h"
#include "digitnet/vision/reader.h"

namespace fs = std::filesystem;
namespace dv = digitnet::vision;

namespace {

// Files to read: a file as given, a folder's regular files (not recursive, sorted, hidden
// files skipped). Every file of a folder is tried, so a stray non-image is reported, not skipped.
std::vector<fs::path> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> files;
  for (const auto& in : inputs) {
    const fs::path p(in);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> entries;
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.path().filename().string().rfind('.', 0) != 0 && !fs::is_directory(e.path(), ec))
          entries.push_back(e.path());
      std::sort(entries.begin(), entries.end());
      files.insert(files.end(), entries.begin(), entries.end());
    } else {
      files.push_back(p);
    }
  }
  return files;
}

void dump_inputs(const fs::path& dir, const fs::path& file, const dv::Reading& reading) {
  fs::create_directories(dir);
  for (int64_t i = 0; i < reading.inputs.size(0); ++i) {
    const fs::path out = dir / (file.stem().string() + "-" + std::to_string(i) + ".png");
    if (!cv::imwrite(out.string(), dv::tensor_to_image(reading.inputs[i])))
      throw std::runtime_error("cannot write " + out.string());
  }
}

// --captcha: whole-image reading of numeric captchas with CaptchaNet, no segmentation.
int read_captchas(const cxxopts::ParseResult& args) {
  digitnet::CaptchaReaderOptions options;
  options.length = digitnet::parse_captcha_length(args["length"].as<std::string>());
  options.views = args["views"].as<int>();
  if (options.views < 1 || options.views > 3) throw std::invalid_argument("--views must be 1, 2 or 3");
  options.balance_ones_sevens = digitnet::parse_one_seven_balance(args["balance-1-7"].as<std::string>());
  options.retry_below = digitnet::check_retry_below(args["retry-below"].as<double>());
  const auto adapt = digitnet::parse_captcha_adaptation(args["adapt"].as<std::string>());
  options.adapt_output = adapt != digitnet::CaptchaAdaptation::off;
  const int threads = digitnet::configure_threads(args["threads"].as<int>());
  const auto device = digitnet::select_device(args["device"].as<std::string>());
  std::cerr << digitnet::describe_device(device, threads) << '\n';
  const std::string checkpoint = args.count("checkpoint") ? args["checkpoint"].as<std::string>()
                                                          : digitnet::cli::find_model("models/captcha.pt");
  digitnet::CaptchaReader reader(checkpoint, device, options);
  const bool json = args.count("json") > 0;
  // Each folder is one source of captchas, and so are the files named one by one (a shell
  // glob): each balances its 1s and 7s, with --length auto settles on its own length, and
  // unless --adapt off refits the output layer to its sure readings (settle_captcha_folder).
  struct Input {
    std::vector<digitnet::CaptchaFileResult> results;
    std::string error;  // the path does not exist
  };
  const auto names = args["inputs"].as<std::vector<std::string>>();
  std::vector<Input> inputs(names.size());
  const auto report = [](const std::string& source, const digitnet::FolderSettling& settled) {
    if (settled.adaptation.learned_from > 0)
      std::cerr << "digitnet-read: " << source << ": output layer refitted to its " << settled.adaptation.learned_from
                << " sure readings (--adapt); " << settled.adaptation.changed << " readings changed\n";
    if (settled.balance.bias != 0.0)
      std::cerr << "digitnet-read: " << source << ": too few " << (settled.balance.bias > 0 ? "1s against 7s" : "7s against 1s")
                << "; decoded again with --balance-1-7 (bias " << settled.balance.bias << ", " << settled.balance.changed
                << " readings changed)\n";
    if (settled.length.reread > 0)
      std::cerr << "digitnet-read: " << source << ": most confident readings have "
                << digitnet::to_string(settled.length.length) << " digits; " << settled.length.reread
                << " captchas read again with --length " << digitnet::to_string(settled.length.length) << '\n';
  };
  std::vector<digitnet::CaptchaReading*> named;  // the files named one by one, read
  std::vector<std::filesystem::path> named_files;
  for (size_t i = 0; i < names.size(); ++i) {
    try {
      digitnet::FolderSettling settled;
      // --adapt auto: a folder's sure readings teach the model its face first (learn_site).
      std::error_code ec;
      std::optional<digitnet::CaptchaReader> site_reader;
      if (adapt == digitnet::CaptchaAdaptation::site && std::filesystem::is_directory(names[i], ec)) {
        digitnet::SiteTraining site;
        if (auto net = digitnet::learn_site(reader, checkpoint, names[i], {}, &site,
                                            digitnet::cli::batch_counter("digitnet-read", names[i] + ": learning its face"))) {
          site_reader.emplace(std::move(*net), device, options);
          std::cerr << "digitnet-read: " << names[i] << ": the model trained on its " << site.learned_from
                    << " sure readings first (--adapt auto, " << std::lround(site.seconds) << " s)\n";
        }
      }
      inputs[i].results = digitnet::read_captcha_files(site_reader ? *site_reader : reader, names[i], &settled);
      report(names[i], settled);
    } catch (const std::exception& e) {
      inputs[i].error = digitnet::one_line(e);
      continue;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(names[i], ec)) continue;
    for (auto& r : inputs[i].results)
      if (r.ok) {
        named.push_back(&r.reading);
        named_files.push_back(r.file);
      }
  }
  report("the files named", digitnet::settle_captcha_folder(reader, named, [&](size_t k) {
           return digitnet::read_captcha_image(named_files[k]);
         }));

  int failed = 0, total = 0;
  for (const auto& input : inputs) {
    if (!input.error.empty()) {
      std::cerr << "digitnet-read: error: " << input.error << '\n';
      ++failed;
      ++total;
      continue;
    }
    for (const auto& r : input.results) {
      ++total;
      if (!r.ok) {
        std::cerr << "digitnet-read: error: " << r.error << '\n';
        ++failed;
        if (!json) continue;
      }
      if (json) {
        std::cout << digitnet::captcha_result_json(r).dump() << '\n';
      } else {
        char conf[32];
        std::snprintf(conf, sizeof conf, "%.2f", r.reading.confidence);
        std::cout << r.file.string() << ": " << r.reading.text << " (confidence " << conf
                  << (r.reading.retry ? ", retry" : "") << ")\n";
      }
    }
  }
  std::cout.flush();
  if (failed > 0) {
    std::cerr << "digitnet-read: " << failed << " of " << total << " files could not be read\n";
    return digitnet::cli::kFailure;
  }
  return digitnet::cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-read", [&] {
    cxxopts::Options opts("digitnet-read", "Read handwritten digits in image files or folders.");
    opts.positional_help("IMAGE|DIR ...");
    opts.add_options()
      ("c,checkpoint", "reader checkpoint (default: models/mnist-reader.pt; with --captcha models/captcha.pt)", cxxopts::value<std::string>())
      ("captcha", "read numeric captchas: whole images, no segmentation")
      ("length", "with --captcha: digits per captcha: N, MIN-MAX, any, or auto (when 75% of a folder's, or the named files', confident readings have one length, the others are read again with it)", cxxopts::value<std::string>()->default_value("auto"))
      ("balance-1-7", "with --captcha: auto: a folder whose readings hold too few 1s against 7s (or too few 7s), beyond chance, is decoded again with the 1 and the 7 weighed to even them; off: as the model reads", cxxopts::value<std::string>()->default_value("auto"))
      ("adapt", "with --captcha: auto: a folder of one length with 50 or more sure readings (0.95) trains the model on them (60 batches, half its own captchas, about 20 s on 2 cores) and is read again with it, its output layer refitted as with output; output: that refit alone, for a folder or the files named; off: as the model reads. The checkpoint is unchanged", cxxopts::value<std::string>()->default_value("auto"))
      ("retry-below", "with --captcha: readings less confident than this (0-1) are marked retry: ask the site for another captcha", cxxopts::value<double>()->default_value("0.5"))
      ("views", "with --captcha: views read per captcha, 1..3 (the image, dark strokes bolder, light strokes bolder); the most confident reading wins", cxxopts::value<int>()->default_value("3"))
      ("json", "one JSON object per file")
      ("annotate", "write the picture with boxes and readings: a file for one input, else a folder",
       cxxopts::value<std::string>())
      ("dump-inputs", "write the 28x28 inputs the model sees as PNGs into this folder", cxxopts::value<std::string>())
      ("min-confidence", "digits below this read '?'", cxxopts::value<double>()->default_value("0.5"))
      ("max-megapixels", "refuse larger images before decoding", cxxopts::value<double>()->default_value("50"))
      ("max-mb", "refuse larger files", cxxopts::value<double>()->default_value("256"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("threads", "CPU threads for the model (0: all cores; 1 is fastest for the small batches of a frame, and OpenMP barriers stall when the cores are shared)", cxxopts::value<int>()->default_value("1"))
      ("inputs", "images or folders", cxxopts::value<std::vector<std::string>>())
      ("h,help", "show this help");
    opts.parse_positional({"inputs"});
    const auto parsed = digitnet::cli::parse(opts, argc, argv,
                                             "Limits: images above --max-megapixels (default 50) or files above --max-mb"
                                             " (default 256) are refused before decoding.\n"
                                             "Exit code 1 if any file could not be read.\n");
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    if (!args.count("inputs")) throw std::invalid_argument("give at least one IMAGE or DIR (see --help)");
    if (args.count("captcha")) {
      for (const char* flag : {"annotate", "dump-inputs"})
        if (args.count(flag)) throw std::invalid_argument(std::string("--") + flag + " does not apply to --captcha");
      return read_captchas(args);
    }
    for (const char* flag : {"length", "views", "balance-1-7", "adapt", "retry-below"})
      if (args.count(flag)) throw std::invalid_argument(std::string("--") + flag + " applies to --captcha only");
    dv::ImageLimits limits;
    const double mp = args["max-megapixels"].as<double>(), mb = args["max-mb"].as<double>();
    if (!(mp > 0 && mp < 1e5)) throw std::invalid_argument("--max-megapixels must be positive");
    if (!(mb > 0 && mb < 1e6)) throw std::invalid_argument("--max-mb must be positive");
    limits.max_pixels = int64_t(mp * 1e6);
    limits.max_bytes = uintmax_t(mb * 1024 * 1024);

    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    dv::ReaderOptions options;
    options.device = args["device"].as<std::string>();
    options.min_confidence = args["min-confidence"].as<double>();
    const fs::path checkpoint =
        args.count("checkpoint") ? fs::path(args["checkpoint"].as<std::string>()) : dv::default_reader_checkpoint();
    dv::DigitReader reader(checkpoint, options);
    std::cerr << digitnet::describe_device(reader.device(), threads) << '\n';

    const auto files = expand_inputs(args["inputs"].as<std::vector<std::string>>());
    const bool json = args.count("json") > 0;
    fs::path annotate;
    bool annotate_to_folder = false;
    if (args.count("annotate")) {
      annotate = args["annotate"].as<std::string>();
      annotate_to_folder = files.size() != 1 || !dv::has_image_extension(annotate);
      if (annotate_to_folder) fs::create_directories(annotate);
    }
    int failed = 0;
    for (const auto& file : files) {
      cv::Mat image;
      try {
        image = dv::load_image(file, limits);
      } catch (const std::exception& e) {
        std::cerr << "digitnet-read: error: " << digitnet::one_line(e) << '\n';
        ++failed;
        continue;
      }
      const dv::Reading reading = reader.read(image);
      if (json)
        std::cout << digitnet::Json::object()
                         .set("file", file.string())
                         .set("strings", dv::to_json(reading.strings))
                         .dump()
                  << std::endl;
      else
        std::cout << file.string() << ": " << reading.text() << std::endl;
      if (args.count("dump-inputs")) dump_inputs(args["dump-inputs"].as<std::string>(), file, reading);
      if (!annotate.empty()) {
        dv::draw_readings(image, reading.strings);
        const fs::path out = annotate_to_folder ? annotate / (file.stem().string() + ".png") : annotate;
        if (!cv::imwrite(out.string(), image)) throw std::runtime_error("cannot write " + out.string());
      }
    }
    if (failed > 0) {
      std::cerr << "digitnet-read: " << failed << " of " << files.size() << " files could not be read\n";
      return digitnet::cli::kFailure;
    }
    return digitnet::cli::kOk;
  });
}
