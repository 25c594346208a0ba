#pragma once
// Realistic generated scenes of handwritten numbers, shared by the tests, the benchmark and
// the evaluation: MNIST digit images written in ink on a sheet of paper, photographed under
// perspective, uneven light, blur, sensor noise and JPEG compression; 1 to 3 lines of numbers
// of 2 to 6 digits, with the truth (text and box of every number). Also the camera-like
// degradation of single digits used to build the reader's training data.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace digitnet::vision {

// Digit images to write numbers with: 8-bit grey, white ink on black (MNIST's form).
struct DigitBank {
  std::vector<cv::Mat> images;
  std::vector<int> labels;  // 0..9
  size_t size() const { return images.size(); }
};

// A grid image (10 rows, one per digit class 0..9; every cell 28x28, white on black), as
// committed under tests/data/vision. Throws std::runtime_error naming the file when unreadable.
DigitBank load_digit_grid(const std::filesystem::path& file);
// Writes `bank` as such a grid with `per_class` cells a row (classes with fewer stay black).
void save_digit_grid(const std::filesystem::path& file, const DigitBank& bank, int per_class);

struct SceneOptions {
  int width = 640, height = 480;
  int min_lines = 1, max_lines = 3;
  int min_digits = 2, max_digits = 6;  // per number
  int max_numbers_per_line = 1;        // numbers side by side in a line
  double min_digit_height = 0.09, max_digit_height = 0.16;  // fraction of the frame height
  double perspective = 0.06;  // corner jitter, fraction of the frame size
  double max_rotation_deg = 4.0;
  double light = 0.45;        // depth of the uneven-light gradient (0: flat)
  double max_blur_sigma = 1.2;
  double noise_sigma = 6.0;   // grey levels
  int min_jpeg_quality = 55;  // 0: no JPEG round trip
  bool allow_touching = true;  // now and then two neighbouring digits touch
};

struct TruthNumber {
  std::string text;
  cv::Rect box;  // in the frame
  int line = 0;
};

struct Scene {
  cv::Mat image;  // BGR, options.width x options.height
  std::vector<TruthNumber> numbers;  // reading order: lines top to bottom, left to right
  std::string text() const;          // the numbers joined by spaces
};

// One scene drawn from `bank` (the digits are picked at random), fully determined by `seed`.
Scene make_scene(const DigitBank& bank, const SceneOptions& options, uint64_t seed);

// A short video: one sheet of numbers seen by a slowly moving, slightly shaking camera,
// `frames` frames. Every frame has its own noise; the truth boxes follow the sheet.
std::vector<Scene> make_video(const DigitBank& bank, const SceneOptions& options, int frames, uint64_t seed);

// Writes frames as an MJPG .avi (fps frames per second). Throws std::runtime_error on failure.
void write_video(const std::filesystem::path& file, const std::vector<Scene>& frames, double fps = 15.0);

// One MNIST digit (28x28, white on black) as a camera would show it in a crop around the
// digit: dark ink on lit paper, random stroke width, scale, slight rotation, blur, contrast,
// light gradient, noise, crop offset (sometimes with a neighbour's stroke at the edge).
// Returns 8-bit grey; canonicalise it to get a training input.
cv::Mat degrade_digit(const cv::Mat& digit, std::mt19937_64& rng, const cv::Mat* neighbour = nullptr);

}  // namespace digitnet::vision
