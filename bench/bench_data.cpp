// Loading an IDX dataset folder (gzip) against the same folder uncompressed, measured in the same
// run: the ratio is what gzip costs on top of reading and checking the bytes.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>

#include "common/cli.h"
#include "digitnet/datasets.h"
#include "digitnet/idx.h"
#include "digitnet/json.h"

namespace {

// Best of `reps` runs of load_idx_folder, in seconds.
double best_load_s(const std::filesystem::path& dir, int reps, digitnet::DatasetSplits& out) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    out = digitnet::load_idx_folder(dir);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-bench-data", [&] {
    cxxopts::Options opts("digitnet-bench-data", "Time to load an IDX dataset folder, gzip against uncompressed.");
    opts.add_options()
      ("d,data-dir", "dataset folder", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("reps", "runs per variant (the best counts)", cxxopts::value<int>()->default_value("3"))
      ("json", "print one JSON object")
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv);
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const int reps = args["reps"].as<int>();
    if (reps < 1) throw std::invalid_argument("--reps must be at least 1");
    std::filesystem::path dir = args["data-dir"].as<std::string>();
    // scripts/bench.sh runs every benchmark from the repository root: without a download,
    // measure the committed fixture rather than fail the whole run.
    if (!args.count("data-dir") && !std::filesystem::exists(dir) && std::filesystem::exists("tests/data/mnist-tiny")) {
      std::cerr << "digitnet-bench-data: " << dir.string()
                << " not found (run scripts/get-data.sh), measuring tests/data/mnist-tiny\n";
      dir = "tests/data/mnist-tiny";
    }

    digitnet::DatasetSplits gz;
    const double gz_s = best_load_s(dir, reps, gz);

    // The reference: the same data written uncompressed to a temporary folder.
    std::random_device rd;
    const auto raw_dir = std::filesystem::temp_directory_path() / ("digitnet-bench-data-" + std::to_string(rd()));
    std::filesystem::create_directories(raw_dir);
    struct Cleanup {
      std::filesystem::path p;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    } cleanup{raw_dir};
    const auto dst = raw_dir / gz.name;
    std::filesystem::create_directories(dst);
    for (const auto& [split, d] : {std::pair{"train", &gz.train}, std::pair{"t10k", &gz.test}}) {
      digitnet::write_idx(dst / (std::string(split) + "-images-idx3-ubyte"), d->images);
      digitnet::write_idx(dst / (std::string(split) + "-labels-idx1-ubyte"), d->labels.to(torch::kByte));
    }
    digitnet::DatasetSplits raw;
    const double raw_s = best_load_s(dst, reps, raw);

    const auto images = gz.train.size() + gz.test.size();
    const double mb = double(images) * double(gz.train.images[0].numel()) / 1e6;
    if (args.count("json")) {
      std::cout << digitnet::Json::object()
                       .set("dataset", gz.name)
                       .set("images", images)
                       .set("gzip_seconds", gz_s)
                       .set("raw_seconds", raw_s)
                       .set("gzip_mb_per_s", mb / gz_s)
                       .set("ratio", gz_s / raw_s)
                       .dump()
                << '\n';
      return 0;
    }
    std::printf("load_idx_folder %s: %lld images (%.1f MB of pixels), best of %d\n", dir.string().c_str(),
                static_cast<long long>(images), mb, reps);
    std::printf("  gzip:         %8.1f ms = %6.0f MB/s\n", 1e3 * gz_s, mb / gz_s);
    std::printf("  uncompressed: %8.1f ms = %6.0f MB/s (reference)\n", 1e3 * raw_s, mb / raw_s);
    std::printf("  ratio: gzip takes %.1fx the time of uncompressed\n", gz_s / raw_s);
    return 0;
  });
}
