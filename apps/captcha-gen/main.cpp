// digitnet-captcha-gen: synthetic numeric captchas with their labels, for training sets and tests.
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/vision/captcha.h"

namespace {

// "4-8" -> {4, 8}, "6" -> {6, 6}.
std::pair<int, int> parse_range(const std::string& text, const std::string& flag) {
  const auto dash = text.find('-');
  const auto one = [&](const std::string& s) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (s.empty() || used != s.size()) throw std::invalid_argument(flag + " must be N or MIN-MAX, not '" + text + "'");
    return v;
  };
  if (dash == std::string::npos) return {one(text), one(text)};
  return {one(text.substr(0, dash)), one(text.substr(dash + 1))};
}

// "160x60" -> {160, 60}; the range is the renderer's to check.
std::pair<int, int> parse_size(const std::string& text) {
  const auto x = text.find('x');
  const auto side = [&](const std::string& s) {
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::invalid_argument("--size must be WxH, e.g. 160x60, not '" + text + "'");
    return std::stoi(s);
  };
  if (x == std::string::npos) return {side(""), 0};
  return {side(text.substr(0, x)), side(text.substr(x + 1))};
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-captcha-gen", [&] {
    cxxopts::Options opts("digitnet-captcha-gen",
                          "Write synthetic numeric captchas as DIR/<index>_<digits>.png plus DIR/labels.csv.");
    opts.add_options()
      ("n,count", "number of captchas", cxxopts::value<int64_t>())
      ("o,out", "output folder (created if missing)", cxxopts::value<std::string>())
      ("seed", "generator seed: the same seed writes the same files", cxxopts::value<uint64_t>()->default_value("0"))
      ("length", "digits per captcha: N or MIN-MAX", cxxopts::value<std::string>()->default_value("4-8"))
      ("size", "image size WxH", cxxopts::value<std::string>()->default_value("160x60"))
      ("exclude", "style families never used, comma-separated", cxxopts::value<std::string>()->default_value(""))
      ("require", "style families always used, comma-separated", cxxopts::value<std::string>()->default_value(""))
      ("font-dir", "the folder searched (recursively) for TrueType faces; families go by Debian's package folders and file names (captcha.h), so one face in its package's folder, with its family required (--require more), draws that face alone", cxxopts::value<std::string>()->default_value("/usr/share/fonts"))
      ("other-fonts", "also draw TrueType fonts under /usr/share/fonts of packages other than those setup.sh installs (family ttf-other)")
      ("mirror-1-7", "share (0..1) of the 1s leaning clockwise and 7s leaning anticlockwise past 6 degrees (shapes of the other digit) turned the other way instead", cxxopts::value<double>()->default_value("0"))
      ("mirror-1-7-footless", "that share in the faces whose 1 has no foot (--list-fonts says which; Hershey faces and handwriting count as footless), in place of --mirror-1-7 there", cxxopts::value<double>())
      ("handwriting", "an MNIST folder (data/mnist): --handwriting-share of captchas draw its train split's handwritten digits (family handwriting)", cxxopts::value<std::string>())
      ("handwriting-share", "share (0..1) of captchas drawn in handwriting with --handwriting", cxxopts::value<double>()->default_value("0.15"))
      ("sheet", "also write all captchas tiled into one PNG (FILE)", cxxopts::value<std::string>())
      ("threads", "generator threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("list-families", "print the style families and exit")
      ("list-fonts", "print each TrueType face under --font-dir as FAMILY<tab>FILE<tab>footed-1|footless-1 and exit")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    if (args.count("list-families")) {
      for (const auto& f : digitnet::captcha_families()) std::cout << f.category << ' ' << f.name << '\n';
      return digitnet::cli::kOk;
    }
    const std::filesystem::path font_dir = args["font-dir"].as<std::string>();
    std::error_code font_ec;
    if (args.count("font-dir") && !std::filesystem::is_directory(font_dir, font_ec))
      throw std::runtime_error("--font-dir: no folder " + font_dir.string());
    if (args.count("list-fonts")) {
      for (const auto& f : digitnet::find_captcha_fonts(font_dir)) std::cout << f.family << '\t' << f.path << '\t'
                  << (digitnet::one_has_foot(f.path) ? "footed-1" : "footless-1") << '\n';
      return digitnet::cli::kOk;
    }
    if (!args.count("count")) throw std::invalid_argument("--count is required (see --help)");
    if (!args.count("out")) throw std::invalid_argument("--out is required (see --help)");
    const int64_t count = args["count"].as<int64_t>();
    if (count < 1 || count > 10'000'000) throw std::invalid_argument("--count must be between 1 and 10000000");

    digitnet::CaptchaOptions options;
    options.seed = args["seed"].as<uint64_t>();
    std::tie(options.min_length, options.max_length) = parse_range(args["length"].as<std::string>(), "--length");
    std::tie(options.width, options.height) = parse_size(args["size"].as<std::string>());
    options.exclude = digitnet::parse_captcha_families(args["exclude"].as<std::string>(), "--exclude");
    options.require = digitnet::parse_captcha_families(args["require"].as<std::string>(), "--require");
    options.other_fonts = args.count("other-fonts") > 0;
    options.font_dir = font_dir;
    options.mirror_confusing_leans = args["mirror-1-7"].as<double>();
    if (!(options.mirror_confusing_leans >= 0 && options.mirror_confusing_leans <= 1))
      throw std::invalid_argument("--mirror-1-7 must be a share within 0..1");
    if (args.count("mirror-1-7-footless")) {
      options.mirror_footless_leans = args["mirror-1-7-footless"].as<double>();
      if (!(*options.mirror_footless_leans >= 0 && *options.mirror_footless_leans <= 1))
        throw std::invalid_argument("--mirror-1-7-footless must be a share within 0..1");
    }
    if (args.count("handwriting")) options.handwriting_dir = args["handwriting"].as<std::string>();
    options.handwriting_share = args["handwriting-share"].as<double>();
    if (!(options.handwriting_share >= 0 && options.handwriting_share <= 1))
      throw std::invalid_argument("--handwriting-share must be a share within 0..1");
    if (args.count("handwriting-share") && !args.count("handwriting"))
      throw std::invalid_argument("--handwriting-share needs --handwriting: an MNIST folder");
    int threads = args["threads"].as<int>();
    if (threads < 0 || threads > 256) throw std::invalid_argument("--threads must be between 0 and 256");
    if (threads == 0) threads = digitnet::available_cores();
    const digitnet::CaptchaGenerator generator(options);
    // Without this the renderer would quietly fall back to OpenCV's Hershey faces.
    if (args.count("font-dir") && generator.font_count() == 0)
      throw std::runtime_error("--font-dir: " + options.font_dir.string() +
                               " holds no TrueType face that draws digits in an allowed family");

    const std::filesystem::path out = args["out"].as<std::string>();
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (!std::filesystem::is_directory(out))
      throw std::runtime_error("cannot create output folder " + out.string());

    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> texts(static_cast<size_t>(count));
    std::vector<digitnet::Captcha> kept;  // for --sheet
    const bool sheet = args.count("sheet") > 0;
    if (sheet) kept.resize(static_cast<size_t>(count));
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::string failure;
    std::mutex failure_mutex;
    const auto work = [&] {
      for (int64_t i; (i = next++) < count && !failed;) {
        try {
          auto c = generator.generate(static_cast<uint64_t>(i));
          const auto file = out / (std::to_string(i) + "_" + c.text + ".png");
          if (!cv::imwrite(file.string(), c.image)) throw std::runtime_error("cannot write " + file.string());
          texts[static_cast<size_t>(i)] = c.text;
          if (sheet) kept[static_cast<size_t>(i)] = std::move(c);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          if (!failed.exchange(true)) failure = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (failed) throw std::runtime_error(failure);

    const auto labels = out / "labels.csv";
    {
      std::ofstream csv(labels.string() + ".tmp", std::ios::binary);
      csv << "file,digits\n";
      for (int64_t i = 0; i < count; ++i)
        csv << i << '_' << texts[static_cast<size_t>(i)] << ".png," << texts[static_cast<size_t>(i)] << '\n';
      if (!csv.flush()) throw std::runtime_error("cannot write " + labels.string());
    }
    std::filesystem::rename(labels.string() + ".tmp", labels);
    if (sheet) {
      const auto file = args["sheet"].as<std::string>();
      if (!cv::imwrite(file, digitnet::captcha_sheet(kept, 6))) throw std::runtime_error("cannot write " + file);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "wrote %lld captchas to %s in %.2f s (%.0f/s, %d threads, %zu TrueType fonts)\n",
                 static_cast<long long>(count), out.string().c_str(), s, double(count) / s, threads,
                 generator.font_count());
    return digitnet::cli::kOk;
  });
}
