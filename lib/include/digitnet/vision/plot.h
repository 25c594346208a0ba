#pragma once
// Pictures of results, drawn with OpenCV: training curves and grids of mistakes.

#include "digitnet/trainer.h"

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace digitnet::vision {

// Loss (train, and test when recorded) and test accuracy per epoch, as a PNG.
// Throws std::runtime_error when the file cannot be written.
void write_training_curves(const std::filesystem::path& file, const std::vector<EpochStats>& history);

struct Mistake {
  torch::Tensor image;  // uint8 [28,28] (or float 0..1)
  int64_t truth = 0;
  int64_t predicted = 0;
  double confidence = 0.0;
};

// The mistakes as a grid of enlarged digits captioned "true->predicted confidence%".
void write_mistake_grid(const std::filesystem::path& file, const std::vector<Mistake>& mistakes,
                        int columns = 10);

struct CaptchaMistake {
  cv::Mat image;  // as read (grey, BGR or BGRA)
  std::string truth, read;
  double confidence = 0.0;
};

// Captchas read wrong, each scaled to 60 pixels high (at most 240 wide) and captioned
// "truth -> read confidence%". Throws std::invalid_argument for no mistakes, std::runtime_error
// when the file cannot be written.
void write_captcha_mistake_grid(const std::filesystem::path& file, const std::vector<CaptchaMistake>& mistakes,
                                int columns = 4);

}  // namespace digitnet::vision
