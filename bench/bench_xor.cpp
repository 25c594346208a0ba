// XOR success-rate table: all trials as batched tensors (run_xor_trials) against one network
// after another (run_xor_trials_sequential, the plain LibTorch way), measured in the same run.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/xor.h"

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-xor", [&] {
    cxxopts::Options opts("digitnet-bench-xor", "Trainings/s of the batched XOR trials against one network at a time.");
    opts.add_options()
      ("trials", "batched trials per hidden size", cxxopts::value<int64_t>()->default_value("1000"))
      ("reference-trials", "one-at-a-time trials per hidden size", cxxopts::value<int64_t>()->default_value("10"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    const auto device = digitnet::select_device(args["device"].as<std::string>());
    std::cerr << digitnet::describe_device(device, threads) << '\n';

    const auto time = [&](auto&& fn) {
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    digitnet::XorTrialsConfig config;  // hidden 2,4,6; 1000 epochs of 4 SGD steps
    config.trials = args["trials"].as<int64_t>();
    digitnet::XorTrials batched;
    const double batched_s = time([&] { batched = digitnet::run_xor_trials(config, device); });
    const double batched_rate = double(config.trials * 3) / batched_s;

    auto ref_config = config;
    ref_config.trials = args["reference-trials"].as<int64_t>();
    const double ref_s = time([&] { digitnet::run_xor_trials_sequential(ref_config, device); });
    const double ref_rate = double(ref_config.trials * 3) / ref_s;

    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("batched_trainings_per_s", batched_rate)
                       .set("batched_seconds", batched_s)
                       .set("sequential_trainings_per_s", ref_rate)
                       .set("ratio", batched_rate / ref_rate)
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("xor trials (hidden 2,4,6; 1000 epochs x 4 SGD steps per training)\n");
    std::printf("  batched tensors:       %6lld trainings in %6.2f s = %8.0f trainings/s\n",
                static_cast<long long>(config.trials * 3), batched_s, batched_rate);
    std::printf("  one network at a time: %6lld trainings in %6.2f s = %8.1f trainings/s\n",
                static_cast<long long>(ref_config.trials * 3), ref_s, ref_rate);
    std::printf("  ratio: %.0fx\n", batched_rate / ref_rate);
    std::printf("  success rates: 2 -> %.1f%%, 4 -> %.1f%%, 6 -> %.1f%%\n", 100 * batched.rate(0),
                100 * batched.rate(1), 100 * batched.rate(2));
    return 0;
  });
}
