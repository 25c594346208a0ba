// Captcha generation speed: the full domain-randomised renderer on all cores, in memory, against
// the plainest captcha (one cv::putText of the digits on a white image) measured in the same run.
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/captcha.h"

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-captcha-vision", [&] {
    cxxopts::Options opts("digitnet-bench-captcha-vision", "Captchas/s of the synthetic captcha renderer.");
    opts.add_options()
      ("count", "captchas to render", cxxopts::value<int64_t>()->default_value("10000"))
      ("threads", "render threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int64_t count = args["count"].as<int64_t>();
    int threads = args["threads"].as<int>();
    if (threads <= 0) threads = digitnet::available_cores();
    const digitnet::CaptchaGenerator generator(digitnet::CaptchaOptions{});
    generator.generate(0);  // fonts of the main thread loaded outside the timing

    std::atomic<int64_t> next{0};
    std::atomic<int64_t> pixels{0};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int64_t i; (i = next++) < count;) pixels += int64_t(generator.generate(uint64_t(i)).image.total());
      });
    for (auto& t : pool) t.join();
    const double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double full_rate = double(count) / full_s;

    // Reference: the plainest captcha, one thread per core as above.
    next = 0;
    const auto t1 = std::chrono::steady_clock::now();
    pool.clear();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int64_t i; (i = next++) < count;) {
          cv::Mat img(60, 160, CV_8UC3, cv::Scalar(255, 255, 255));
          cv::putText(img, std::to_string(100000 + i), {10, 45}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(0, 0, 0), 2,
                      cv::LINE_AA);
          pixels += int64_t(img.total());
        }
      });
    for (auto& t : pool) t.join();
    const double ref_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const double ref_rate = double(count) / ref_s;

    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("captchas_per_s", full_rate)
                       .set("plain_puttext_per_s", ref_rate)
                       .set("ratio", full_rate / ref_rate)
                       .set("threads", threads)
                       .set("fonts", int64_t(generator.font_count()))
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("captcha renderer, 160x60, 4-8 digits, %d threads, %zu TrueType fonts\n", threads,
                generator.font_count());
    std::printf("  domain-randomised captchas: %7lld in %6.2f s = %8.0f captchas/s (goal: 2000)\n",
                static_cast<long long>(count), full_s, full_rate);
    std::printf("  plain cv::putText (ref):    %7lld in %6.2f s = %8.0f captchas/s\n", static_cast<long long>(count),
                ref_s, ref_rate);
    std::printf("  ratio: %.3fx of the plainest captcha's speed\n", full_rate / ref_rate);
    return 0;
  });
}
