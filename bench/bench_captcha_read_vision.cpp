// Captcha reading speed: batched reading (CaptchaReader, 64 inputs per forward pass) against one
// captcha per forward pass, measured in the same run, and the latency of a single captcha;
// each captcha is read in --views views (3 by default, as the apps read).
// Preprocessing (grey, resize) and decoding are included; image decoding from files is not.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/captcha.h"
#include "digitnet/vision/captcha_reader.h"

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-captcha-read-vision", [&] {
    cxxopts::Options opts("digitnet-bench-captcha-read-vision", "Captchas/s and single-captcha latency of CaptchaReader.");
    opts.add_options()
      ("checkpoint", "captcha checkpoint (an untrained default CaptchaNet when absent)",
       cxxopts::value<std::string>()->default_value("models/captcha.pt"))
      ("views", "views read per captcha (CaptchaReaderOptions::views)", cxxopts::value<int>()->default_value("3"))
      ("count", "captchas to read", cxxopts::value<int64_t>()->default_value("1000"))
      ("threads", "LibTorch threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    std::cerr << digitnet::describe_device(torch::kCPU, threads) << '\n';
    const std::string file = args["checkpoint"].as<std::string>();
    digitnet::CaptchaReaderOptions options;
    options.views = args["views"].as<int>();
    auto reader = std::filesystem::exists(file) ? digitnet::CaptchaReader(file, torch::kCPU, options)
                                                : digitnet::CaptchaReader(digitnet::CaptchaNet(), torch::kCPU, options);
    const int64_t count = args["count"].as<int64_t>();
    if (count < 1 || count > 100000) throw std::invalid_argument("--count must be between 1 and 100000");
    const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
    std::vector<cv::Mat> images;
    for (int64_t i = 0; i < count; ++i) images.push_back(gen.generate(uint64_t(i)).image);
    reader.read(std::vector<cv::Mat>(images.begin(), images.begin() + std::min<int64_t>(count, 64)));  // warm-up

    const auto now = [] { return std::chrono::steady_clock::now(); };
    const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    auto t0 = now();
    reader.read(images);
    const double batched_s = secs(t0, now());
    std::vector<double> single;
    const int64_t singles = std::min<int64_t>(count, 300);
    t0 = now();
    for (int64_t i = 0; i < singles; ++i) {
      const auto s = now();
      reader.read(images[size_t(i)]);
      single.push_back(secs(s, now()) * 1000.0);
    }
    const double single_s = secs(t0, now());
    std::sort(single.begin(), single.end());
    const double batched_rate = double(count) / batched_s, single_rate = double(singles) / single_s;
    const double median_ms = single[single.size() / 2], p95_ms = single[single.size() * 95 / 100];
    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("views", int64_t(options.views))
                       .set("batched_captchas_per_s", batched_rate)
                       .set("single_captchas_per_s", single_rate)
                       .set("ratio", batched_rate / single_rate)
                       .set("single_median_ms", median_ms)
                       .set("single_p95_ms", p95_ms)
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("captcha reading, %s, %lld captchas 160x60, %d views each, %d threads\n",
                std::filesystem::exists(file) ? file.c_str() : "untrained CaptchaNet", static_cast<long long>(count),
                options.views, threads);
    std::printf("  batched (64 inputs/pass):  %8.0f captchas/s (goal: 300)\n", batched_rate);
    std::printf("  one per pass (ref):        %8.0f captchas/s\n", single_rate);
    std::printf("  ratio: %.2fx\n", batched_rate / single_rate);
    std::printf("  single captcha latency: median %.2f ms, p95 %.2f ms (goal: < 10 ms)\n", median_ms, p95_ms);
    return 0;
  });
}
