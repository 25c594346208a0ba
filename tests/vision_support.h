#pragma once
// Shared by the vision tests: the committed held-out digits, a throwaway checkpoint, folders of
// plain captchas in one face.

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <string>

#include "digitnet/checkpoint.h"
#include "digitnet/models.h"
#include "digitnet/vision/captcha.h"
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

// Plain captchas (solid paper, filled ink, no warp, noise, glyph or finish family) in one face
// alone: `face` under /usr/share/fonts, linked at the same path below a folder of its own. With
// `noise`, every captcha has that noise family (captcha.h) and no other.
inline void write_one_face_captchas(const std::filesystem::path& dir, const std::filesystem::path& fonts,
                                    const std::string& face, const std::string& family, int count,
                                    int min_length = 4, int max_length = 6, const std::string& noise = "") {
  std::filesystem::create_directories((fonts / face).parent_path());
  std::filesystem::create_symlink(std::filesystem::path("/usr/share/fonts") / face, fonts / face);
  digitnet::CaptchaOptions o;
  o.seed = 7;
  o.font_dir = fonts;
  o.min_length = min_length;
  o.max_length = max_length;
  o.mirror_confusing_leans = 1.0;  // no 1 turned into a 7's shape, nor a 7 into a 1's
  o.require = {family, "solid", "fill"};
  if (!noise.empty()) o.require.push_back(noise);
  for (const auto& f : digitnet::captcha_families())
    if (f.category == "glyph" || f.category == "warp" || (f.category == "noise" && f.name != noise) ||
        f.category == "finish" ||
        (f.category == "background" && f.name != "solid") || (f.category == "ink" && f.name != "fill"))
      o.exclude.push_back(f.name);
  const digitnet::CaptchaGenerator gen(o);
  for (int i = 0; i < count; ++i) {
    const auto c = gen.generate(uint64_t(i));
    cv::imwrite((dir / (std::to_string(i) + "_" + c.text + ".png")).string(), c.image);
  }
}

}  // namespace digitnet::test
