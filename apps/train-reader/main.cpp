// digitnet-train-reader: trains the camera-robust digit reader (models/mnist-reader.pt).
// The training data is MNIST's train split through vision/reader_data.h (camera degradations,
// then THE canonicalisation of preprocess.h); 10% of the train split is kept aside to report
// accuracy and fit the temperature; the test split is never touched (it is for the honest
// evaluation on scenes). Stand-in until digitnet-train can train on the IDX folder that
// reader_data.h writes; the loop is the same recipe: AdamW, warm-up then cosine decay.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <torch/torch.h>

#include "common/cli.h"
#include "digitnet/checkpoint.h"
#include "digitnet/device.h"
#include "digitnet/models.h"
#include "digitnet/vision/reader_data.h"

namespace fs = std::filesystem;

namespace {

// An uncompressed IDX file of uint8 (images [N,28,28] or labels [N]), every header field checked.
torch::Tensor read_raw_idx(const fs::path& file, int dims) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + " not found (run scripts/get-data.sh, then gunzip)");
  std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), {});
  const size_t header = 4 + 4 * size_t(dims);
  if (buf.size() < header || buf[0] != 0 || buf[1] != 0 || buf[2] != 0x08 || buf[3] != dims)
    throw std::runtime_error(file.string() + ": not an uncompressed uint8 IDX file with " + std::to_string(dims) +
                             " dimensions");
  std::vector<int64_t> shape;
  size_t count = 1;
  for (int d = 0; d < dims; ++d) {
    const uint8_t* p = buf.data() + 4 + 4 * d;
    shape.push_back(int64_t(p[0]) << 24 | int64_t(p[1]) << 16 | int64_t(p[2]) << 8 | p[3]);
    count *= size_t(shape.back());
  }
  if (buf.size() != header + count) throw std::runtime_error(file.string() + ": length does not match its header");
  if (dims == 3 && (shape[1] != 28 || shape[2] != 28)) throw std::runtime_error(file.string() + ": images must be 28x28");
  return torch::from_blob(buf.data() + header, shape, torch::kUInt8).clone();
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-train-reader", [&] {
    cxxopts::Options opts("digitnet-train-reader", "Train the camera-robust digit reader.");
    opts.add_options()
      ("d,data-dir", "folder with uncompressed train-images-idx3-ubyte and train-labels-idx1-ubyte",
       cxxopts::value<std::string>())
      ("o,out", "checkpoint to write", cxxopts::value<std::string>()->default_value("models/mnist-reader.pt"))
      ("epochs", "epochs", cxxopts::value<int>()->default_value("8"))
      ("copies", "degraded copies of every digit", cxxopts::value<int>()->default_value("4"))
      ("lr", "peak learning rate", cxxopts::value<double>()->default_value("0.003"))
      ("seed", "seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("threads", "CPU threads (0: all cores)", cxxopts::value<int>()->default_value("0"))
      ("h,help", "show this help");
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << '\n';
      return digitnet::cli::kOk;
    }
    if (!args.count("data-dir")) throw std::invalid_argument("--data-dir is required");
    const int epochs = args["epochs"].as<int>(), copies = args["copies"].as<int>();
    if (epochs < 1 || epochs > 1000) throw std::invalid_argument("--epochs must be 1..1000");
    const double peak = args["lr"].as<double>();
    const uint64_t seed = args["seed"].as<uint64_t>();
    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    std::cerr << digitnet::describe_device(torch::kCPU, threads) << '\n';
    digitnet::seed_everything(seed);

    const fs::path dir = args["data-dir"].as<std::string>();
    const auto images = read_raw_idx(dir / "train-images-idx3-ubyte", 3);
    const auto labels = read_raw_idx(dir / "train-labels-idx1-ubyte", 1).to(torch::kInt64);
    if (images.size(0) != labels.size(0)) throw std::runtime_error("image and label counts differ in " + dir.string());
    const int64_t n = images.size(0), nv = n / 10;
    const auto t0 = std::chrono::steady_clock::now();
    const auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto [tx, ty] = digitnet::vision::make_reader_data(images.slice(0, 0, n - nv), labels.slice(0, 0, n - nv),
                                                       {copies, true, seed + 1});
    auto [vx, vy] = digitnet::vision::make_reader_data(images.slice(0, n - nv), labels.slice(0, n - nv), {2, true, seed + 2});
    std::fprintf(stderr, "data: %lld training and %lld validation inputs in %.1f s\n", (long long)tx.size(0),
                 (long long)vx.size(0), since());

    digitnet::MnistNet net;
    torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(peak).weight_decay(5e-4));
    const int64_t bs = 128, nb = (tx.size(0) + bs - 1) / bs, total = epochs * nb;
    const auto txf = tx.to(torch::kFloat32).div_(255).unsqueeze(1);
    const auto vxf = vx.to(torch::kFloat32).div_(255).unsqueeze(1);
    int64_t step = 0;
    for (int e = 0; e < epochs; ++e) {
      net->train();
      const auto perm = torch::randperm(tx.size(0), torch::kInt64);
      double sum = 0;
      for (int64_t b = 0; b < nb; ++b, ++step) {
        // Warm-up over the first quarter, then cosine decay to zero.
        const double frac = double(step) / double(total);
        const double lr = frac < 0.25 ? peak * (0.1 + 0.9 * frac / 0.25)
                                      : peak * 0.5 * (1 + std::cos(M_PI * (frac - 0.25) / 0.75));
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        const auto idx = perm.slice(0, b * bs, std::min((b + 1) * bs, tx.size(0)));
        const auto loss = torch::cross_entropy_loss(net->forward(txf.index_select(0, idx)), ty.index_select(0, idx));
        opt.zero_grad();
        loss.backward();
        opt.step();
        sum += loss.item<double>();
      }
      net->eval();
      torch::NoGradGuard no_grad;
      const double acc = (net->forward(vxf).argmax(1) == vy).to(torch::kFloat64).mean().item<double>();
      std::fprintf(stderr, "epoch %d/%d: loss %.4f, validation accuracy %.4f, %.0f s\n", e + 1, epochs, sum / nb, acc,
                   since());
    }
    // Temperature: the T that minimises the validation NLL of softmax(logits / T).
    net->eval();
    torch::NoGradGuard no_grad;
    const auto logits = net->forward(vxf);
    double best_t = 1.0, best_nll = 1e30;
    for (double t = 0.5; t <= 4.0 + 1e-9; t += 0.05) {
      const double nll = torch::cross_entropy_loss(logits / t, vy).item<double>();
      if (nll < best_nll) {
        best_nll = nll;
        best_t = t;
      }
    }
    auto manifest = digitnet::new_manifest("mnist");
    manifest["model.channels"] = std::to_string(net->options().channels);
    manifest["model.hidden"] = std::to_string(net->options().hidden);
    char t_text[32];
    std::snprintf(t_text, sizeof t_text, "%.2f", best_t);
    manifest["temperature"] = t_text;
    manifest["data"] = "reader: " + dir.string() + " train split, " + std::to_string(copies) + " degraded copies";
    manifest["seed"] = std::to_string(seed);
    const fs::path out = args["out"].as<std::string>();
    digitnet::save_checkpoint(out, *net, manifest);
    std::printf("wrote %s (temperature %.2f, validation NLL %.4f)\n", out.string().c_str(), best_t, best_nll);
    return digitnet::cli::kOk;
  });
}
