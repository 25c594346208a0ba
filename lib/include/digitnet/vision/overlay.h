#pragma once
// Drawing readings on a frame: a box per number with its text and confidence above it, thin
// boxes per digit, '?' digits in orange, and an FPS counter in the corner.

#include <opencv2/core.hpp>

#include <vector>

#include "digitnet/vision/reader.h"

namespace digitnet::vision {

struct OverlayOptions {
  bool digit_boxes = true;
  bool confidences = true;
};

// Draws on `frame` (BGR or grey; grey is converted to BGR in place).
void draw_readings(cv::Mat& frame, const std::vector<ReadString>& strings, const OverlayOptions& options = {});

// "12.3 fps" (and `extra`, e.g. "paused") in the top-left corner.
void draw_fps(cv::Mat& frame, double fps, const std::string& extra = "");

}  // namespace digitnet::vision
