// digitnet-cam's headless pipeline (segment, canonicalise, classify, smooth) on a generated
// 640x480 video with 10 to 20 digits in view: frames/s and p50/p95 latency, with all candidates
// of a frame in ONE batched forward, against the reference of one forward per candidate,
// measured in the same run. Targets: >= 30 frames/s and p95 < 50 ms on 2 cores.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/checkpoint.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/models.h"
#include "digitnet/vision/reader.h"
#include "digitnet/vision/scene.h"

namespace dv = digitnet::vision;
using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  double fps = 0, p50_ms = 0, p95_ms = 0, digits_per_frame = 0;
};

Run run(dv::DigitReader& reader, const std::vector<dv::Scene>& frames) {
  dv::ReadingSmoother smoother;
  std::vector<double> ms;
  size_t digits = 0;
  const auto start = Clock::now();
  for (const auto& f : frames) {
    const auto t0 = Clock::now();
    const auto reading = reader.read(f.image);
    const auto shown = smoother.update(reading.strings);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    digits += size_t(reading.inputs.size(0));
  }
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(ms.begin(), ms.end());
  Run r;
  r.fps = double(frames.size()) / total;
  r.p50_ms = ms[ms.size() / 2];
  r.p95_ms = ms[std::min(ms.size() - 1, size_t(0.95 * double(ms.size())))];
  r.digits_per_frame = double(digits) / double(frames.size());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-cam-vision", [&] {
    cxxopts::Options opts("digitnet-bench-cam-vision", "Headless reading speed on a generated 640x480 video.");
    opts.add_options()
      ("c,checkpoint", "reader checkpoint (default: models/mnist-reader.pt)", cxxopts::value<std::string>())
      ("frames", "frames in the video", cxxopts::value<int>()->default_value("150"))
      ("threads", "CPU threads for the model (0: all cores; 1 is fastest for the small batches of a frame, and OpenMP barriers stall when the cores are shared)", cxxopts::value<int>()->default_value("1"))
      ("grid", "digit images (default: tests/data/vision/heldout-digits.png)", cxxopts::value<std::string>())
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    std::cerr << digitnet::describe_device(torch::kCPU, threads) << '\n';
    const std::string grid = args.count("grid") ? args["grid"].as<std::string>()
                                                : std::string(DIGITNET_SOURCE_DIR) + "/tests/data/vision/heldout-digits.png";
    const auto bank = dv::load_digit_grid(grid);
    dv::SceneOptions options;
    options.min_lines = options.max_lines = 3;
    options.max_numbers_per_line = 2;
    options.min_digits = 2;
    options.max_digits = 5;
    // A sheet with 10 to 20 digits in view.
    std::vector<dv::Scene> frames;
    for (uint64_t seed = 1;; ++seed) {
      frames = dv::make_video(bank, options, args["frames"].as<int>(), seed);
      const auto text = frames[0].text();
      const auto digits = std::count_if(text.begin(), text.end(), [](char c) { return c != ' '; });
      if (digits >= 10 && digits <= 20) break;
    }
    std::filesystem::path checkpoint =
        args.count("checkpoint") ? std::filesystem::path(args["checkpoint"].as<std::string>()) : dv::default_reader_checkpoint();
    std::error_code ec;
    if (!std::filesystem::exists(checkpoint, ec)) {
      std::cerr << "no " << checkpoint.string() << ": timing a randomly initialised model\n";
      digitnet::MnistNet net;
      checkpoint = std::filesystem::temp_directory_path() / "digitnet-bench-cam.pt";
      digitnet::save_checkpoint(checkpoint, *net, digitnet::new_manifest("mnist"));
    }
    dv::DigitReader reader(checkpoint);
    run(reader, std::vector<dv::Scene>(frames.begin(), frames.begin() + std::min<size_t>(10, frames.size())));  // warm-up
    const Run batched = run(reader, frames);
    reader.options().batched = false;
    const Run single = run(reader, frames);
    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("frames", int64_t(frames.size()))
                       .set("digits_per_frame", batched.digits_per_frame)
                       .set("fps", batched.fps)
                       .set("p50_ms", batched.p50_ms)
                       .set("p95_ms", batched.p95_ms)
                       .set("reference_fps", single.fps)
                       .set("reference_p95_ms", single.p95_ms)
                       .set("ratio", batched.fps / single.fps)
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("cam pipeline, 640x480, %zu frames, %.1f digit candidates per frame, %d threads\n", frames.size(),
                batched.digits_per_frame, threads);
    std::printf("  one batched forward per frame: %6.1f frames/s, latency p50 %5.1f ms, p95 %5.1f ms\n", batched.fps,
                batched.p50_ms, batched.p95_ms);
    std::printf("  one forward per candidate:     %6.1f frames/s, latency p50 %5.1f ms, p95 %5.1f ms\n", single.fps,
                single.p50_ms, single.p95_ms);
    std::printf("  ratio: %.2fx  (targets: >= 30 frames/s, p95 < 50 ms)\n", batched.fps / single.fps);
    return 0;
  });
}
