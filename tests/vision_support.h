#pragma once
// Shared by the vision tests: the committed held-out digits and a throwaway checkpoint.

#include <filesystem>
#include <string>

#include "digitnet/checkpoint.h"
#include "digitnet/models.h"
#include "digitnet/vision/scene.h"

namespace digitnet::test {

// MNIST test-split digits (never trained on), 30 per class: tests/data/vision/heldout-digits.png.
inline const vision::DigitBank& heldout_bank() {
  static const vision::DigitBank bank =
      vision::load_digit_grid(std::filesystem::path(DIGITNET_TEST_DATA) / "vision" / "heldout-digits.png");
  return bank;
}

// A randomly initialised MnistNet saved as a reader checkpoint (for plumbing tests).
inline void save_random_reader(const std::filesystem::path& file, double temperature = 1.0) {
  torch::manual_seed(0);
  MnistNet net;
  auto m = new_manifest("mnist");
  m["model.channels"] = std::to_string(net->options().channels);
  m["model.hidden"] = std::to_string(net->options().hidden);
  m["temperature"] = std::to_string(temperature);
  save_checkpoint(file, *net, m);
}

// The shipped reader model, or "" when the source tree has none.
inline std::string shipped_model() {
  const auto p = std::filesystem::path(DIGITNET_SOURCE_DIR) / "models" / "mnist-reader.pt";
  return std::filesystem::exists(p) ? p.string() : std::string();
}

}  // namespace digitnet::test
