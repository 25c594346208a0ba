#include "digitnet/vision/preprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace digitnet::vision {
namespace {

// Median of 8-bit values through a histogram (no sorting, no allocation).
int median_of(const int* hist, int count) {
  if (count <= 0) return 0;
  int seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += hist[v];
    if (2 * seen >= count) return v;
  }
  return 255;
}

// True when the ink is darker than the background: the border (mostly background) is lighter
// than the region's mean (which the ink pulls towards its own level).
bool ink_is_dark(const cv::Mat& grey) {
  int hist[256] = {0};
  int n = 0;
  const int rows = grey.rows, cols = grey.cols;
  for (int x = 0; x < cols; ++x) {
    ++hist[grey.at<uint8_t>(0, x)];
    ++hist[grey.at<uint8_t>(rows - 1, x)];
    n += 2;
  }
  for (int y = 1; y + 1 < rows; ++y) {
    ++hist[grey.at<uint8_t>(y, 0)];
    ++hist[grey.at<uint8_t>(y, cols - 1)];
    n += 2;
  }
  const double border = median_of(hist, n);
  return border > cv::mean(grey)[0];
}

}  // namespace

cv::Mat to_grey8(const cv::Mat& image) {
  if (image.empty()) throw std::invalid_argument("empty image");
  cv::Mat grey;
  if (image.channels() == 3)
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  else if (image.channels() == 4)
    cv::cvtColor(image, grey, cv::COLOR_BGRA2GRAY);
  else if (image.channels() == 1)
    grey = image;
  else
    throw std::invalid_argument("images must have 1, 3 or 4 channels, not " +
                                std::to_string(image.channels()));
  if (grey.depth() == CV_8U) return grey;
  cv::Mat out;
  if (grey.depth() == CV_16U)
    grey.convertTo(out, CV_8U, 1.0 / 257.0);
  else if (grey.depth() == CV_32F || grey.depth() == CV_64F)
    grey.convertTo(out, CV_8U, 255.0);
  else
    grey.convertTo(out, CV_8U);
  return out;
}

bool canonicalize_into(const cv::Mat& region, cv::Mat& out, Polarity polarity, const cv::Rect& core) {
  if (out.rows != kCanvasSize || out.cols != kCanvasSize || out.type() != CV_32F)
    throw std::invalid_argument("canonicalize_into needs a 28x28 CV_32F output");
  out.setTo(0.0f);
  if (region.empty() || region.rows < 2 || region.cols < 2) return false;
  const cv::Mat grey = to_grey8(region);

  // Polarity: make the ink bright.
  const bool dark = polarity == Polarity::kDarkInk ||
                    (polarity == Polarity::kAuto && ink_is_dark(grey));
  cv::Mat ink8;
  if (dark)
    cv::bitwise_not(grey, ink8);
  else
    ink8 = grey;

  // Contrast: ink level -> 1, paper + a third of the range -> 0.
  double darkest = 0, lightest = 0;
  cv::minMaxLoc(ink8, &darkest, &lightest);
  if (lightest - darkest < 24.0) return false;  // flat: no ink
  cv::Mat binary;
  const double t = cv::threshold(ink8, binary, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  int hist_hi[256] = {0}, hist_lo[256] = {0};
  int n_hi = 0, n_lo = 0;
  for (int y = 0; y < ink8.rows; ++y) {
    const uint8_t* p = ink8.ptr<uint8_t>(y);
    for (int x = 0; x < ink8.cols; ++x) {
      if (p[x] > t) {
        ++hist_hi[p[x]];
        ++n_hi;
      } else {
        ++hist_lo[p[x]];
        ++n_lo;
      }
    }
  }
  const double ink = median_of(hist_hi, n_hi), paper = median_of(hist_lo, n_lo);
  if (n_hi == 0 || n_lo == 0 || ink - paper < 16.0) return false;
  const double lo = paper + (ink - paper) / 3.0;
  cv::Mat norm;
  ink8.convertTo(norm, CV_32F, 1.0 / (ink - lo), -lo / (ink - lo));
  cv::max(norm, 0.0, norm);
  cv::min(norm, 1.0, norm);

  // Ink components; drop specks and fragments that stay in the outer margin (a neighbour's
  // stroke entering the box), keep everything else (broken strokes of the same digit).
  cv::Mat strong = norm > 0.5f;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(strong, labels, stats, centroids, 8, CV_32S);
  if (n <= 1) return false;
  const auto rect_of = [&](int i) {
    return cv::Rect(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                    stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
  };
  // With a core: a component belongs to the digit when at least half of its box lies in the
  // core grown by a tenth of its size (strokes thickened by the threshold). Without one: when
  // it reaches inside the outer tenth of the region.
  const cv::Rect within = core.empty()
                              ? cv::Rect(std::max(1, region.cols / 10), std::max(1, region.rows / 10),
                                         std::max(1, region.cols - 2 * std::max(1, region.cols / 10)),
                                         std::max(1, region.rows - 2 * std::max(1, region.rows / 10)))
                              : cv::Rect(core.x - core.width / 10 - 1, core.y - core.height / 10 - 1,
                                         core.width + 2 * (core.width / 10) + 2, core.height + 2 * (core.height / 10) + 2);
  const auto inside = [&](int i) {
    const cv::Rect r = rect_of(i);
    return core.empty() ? !(r & within).empty() : 2 * (r & within).area() >= r.area();
  };
  // The digit's main stroke: the largest component inside (the largest of all if none is).
  int largest = -1;
  for (int i = 1; i < n; ++i)
    if (inside(i) && (largest < 0 || stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA)))
      largest = i;
  if (largest < 0) {
    largest = 1;
    for (int i = 2; i < n; ++i)
      if (stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA)) largest = i;
  }
  const int largest_area = stats.at<int>(largest, cv::CC_STAT_AREA);
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  cv::Rect box;
  for (int i = 1; i < n; ++i) {
    const cv::Rect r = rect_of(i);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    const bool speck = area * 20 < largest_area;
    if (speck || (i != largest && !inside(i))) continue;
    keep[static_cast<size_t>(i)] = 1;
    box = box.empty() ? r : (box | r);
  }
  cv::Mat mask(labels.size(), CV_8U);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) m[x] = keep[static_cast<size_t>(l[x])] ? 255 : 0;
  }
  // Anti-aliased edges around the kept strokes belong to them.
  cv::dilate(mask, mask, cv::Mat(), cv::Point(-1, -1), 1);
  box = cv::Rect(box.x - 1, box.y - 1, box.width + 2, box.height + 2) & cv::Rect(0, 0, norm.cols, norm.rows);
  cv::Mat digit;
  norm(box).copyTo(digit, mask(box));

  // Longest side to 20 px, aspect kept.
  const double scale = double(kDigitBox) / std::max(box.width, box.height);
  const int w = std::clamp(int(std::lround(box.width * scale)), 1, kDigitBox);
  const int h = std::clamp(int(std::lround(box.height * scale)), 1, kDigitBox);
  cv::Mat small;
  cv::resize(digit, small, cv::Size(w, h), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);

  // Centre of mass to the centre of the 28x28 canvas. Summed here rather than with
  // cv::moments, which takes a 2-column float matrix (a thin 1 scaled to 2x20) for a list of
  // points and returns a polygon's moments.
  double m00 = 0.0, m10 = 0.0, m01 = 0.0;
  for (int y = 0; y < small.rows; ++y) {
    const float* p = small.ptr<float>(y);
    for (int x = 0; x < small.cols; ++x) {
      m00 += p[x];
      m10 += double(x) * p[x];
      m01 += double(y) * p[x];
    }
  }
  if (m00 <= 1e-6) return false;
  const double cx = m10 / m00, cy = m01 / m00;
  const int ox = std::clamp(int(std::lround(kCanvasSize / 2.0 - 0.5 - cx)), 0, kCanvasSize - w);
  const int oy = std::clamp(int(std::lround(kCanvasSize / 2.0 - 0.5 - cy)), 0, kCanvasSize - h);
  small.copyTo(out(cv::Rect(ox, oy, w, h)));
  return true;
}

cv::Mat canonicalize(const cv::Mat& region, Polarity polarity) {
  cv::Mat out(kCanvasSize, kCanvasSize, CV_32F);
  canonicalize_into(region, out, polarity);
  return out;
}

torch::Tensor canonicalize_tensor(const cv::Mat& region, Polarity polarity) {
  auto t = torch::zeros({1, kCanvasSize, kCanvasSize}, torch::kFloat32);
  cv::Mat out(kCanvasSize, kCanvasSize, CV_32F, t.data_ptr<float>());
  canonicalize_into(region, out, polarity);
  return t;
}

torch::Tensor canonicalize_batch(const cv::Mat& image, const std::vector<cv::Rect>& boxes,
                                 Polarity polarity, const std::vector<cv::Rect>& cores) {
  if (!cores.empty() && cores.size() != boxes.size())
    throw std::invalid_argument("canonicalize_batch: one core per box, or none");
  const auto n = static_cast<int64_t>(boxes.size());
  auto t = torch::zeros({n, 1, kCanvasSize, kCanvasSize}, torch::kFloat32);
  if (n == 0) return t;
  const cv::Mat grey = to_grey8(image);
  const cv::Rect whole(0, 0, grey.cols, grey.rows);
  float* base = t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const cv::Rect r = boxes[static_cast<size_t>(i)] & whole;
    cv::Mat out(kCanvasSize, kCanvasSize, CV_32F, base + i * kCanvasSize * kCanvasSize);
    const cv::Rect core = cores.empty() ? cv::Rect() : cores[static_cast<size_t>(i)] - r.tl();
    if (r.width >= 2 && r.height >= 2) canonicalize_into(grey(r), out, polarity, core);
  }
  return t;
}

cv::Mat tensor_to_image(const torch::Tensor& digit) {
  const auto t = digit.detach().to(torch::kCPU, torch::kFloat32).reshape({kCanvasSize, kCanvasSize}).contiguous();
  const cv::Mat view(kCanvasSize, kCanvasSize, CV_32F, const_cast<float*>(t.data_ptr<float>()));
  cv::Mat out;
  view.convertTo(out, CV_8U, 255.0);
  return out;
}

}  // namespace digitnet::vision
