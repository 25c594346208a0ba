#include "digitnet/vision/segment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "digitnet/vision/preprocess.h"

namespace digitnet::vision {
namespace {

struct Part {
  cv::Rect box;
  int ink = 0;  // pixels
  bool alive = true;
};

int overlap_1d(int a0, int a1, int b0, int b1) { return std::max(0, std::min(a1, b1) - std::max(a0, b0)); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Parts of one digit: one above the other (a 5's detached bar, a broken 4) or one inside the
// other, together no larger than `max_side` each way (so that the strokes of a paper edge or
// a shadow cannot grow, merge by merge, into a box that swallows the digits inside it).
bool same_digit(const Part& a, const Part& b, double max_side) {
  const cv::Rect& p = a.box.area() < b.box.area() ? a.box : b.box;
  const cv::Rect& q = a.box.area() < b.box.area() ? b.box : a.box;
  const cv::Rect whole = p | q;
  if (whole.width > max_side || whole.height > max_side) return false;
  if ((p & q) == p) return true;
  const int xo = overlap_1d(p.x, p.br().x, q.x, q.br().x);
  if (xo < 0.5 * std::min(p.width, q.width)) return false;
  const int gap = std::max(p.y, q.y) - std::min(p.br().y, q.br().y);  // < 0: they overlap
  const cv::Rect u = p | q;
  return gap <= 0.2 * q.height && u.height <= 1.5 * q.height && u.width <= 1.3 * u.height;
}

// Ink pixels in each column of `box`.
std::vector<int> column_ink(const cv::Mat& binary, const cv::Rect& box) {
  const cv::Mat roi = binary(box);
  std::vector<int> column(static_cast<size_t>(box.width), 0);
  for (int y = 0; y < roi.rows; ++y) {
    const uint8_t* p = roi.ptr<uint8_t>(y);
    for (int x = 0; x < roi.cols; ++x) column[static_cast<size_t>(x)] += p[x] ? 1 : 0;
  }
  return column;
}

// Splits a candidate of several touching digits at the columns with the least ink.
std::vector<cv::Rect> split_touching(const cv::Mat& binary, const cv::Rect& box, double split_width) {
  if (box.width <= split_width * box.height) return {box};
  const std::vector<int> column = column_ink(binary, box);
  const double typical = std::max(1.0, median(std::vector<double>(column.begin(), column.end())));
  const int n = std::clamp(int(std::lround(box.width / (0.68 * box.height))), 2, 8);
  std::vector<int> cuts;
  double worst = 0;
  const double piece = double(box.width) / n;
  for (int k = 1; k < n; ++k) {
    const int centre = int(std::lround(k * piece));
    const int lo = std::max(1, int(centre - 0.35 * piece)), hi = std::min(box.width - 2, int(centre + 0.35 * piece));
    int best = centre;
    for (int x = lo; x <= hi; ++x)
      if (column[static_cast<size_t>(x)] < column[static_cast<size_t>(best)]) best = x;
    cuts.push_back(best);
    worst = std::max(worst, column[static_cast<size_t>(best)] / typical);
  }
  // A single wide digit (a broad 0 or 2) has no thin waist: keep it unless it is very wide.
  if (worst > 0.6 && box.width < 2.0 * box.height) return {box};
  std::vector<cv::Rect> out;
  int start = 0;
  cuts.push_back(box.width);
  for (const int cut : cuts) {
    if (cut - start >= 2) {
      const cv::Rect strip(box.x + start, box.y, cut - start, box.height);
      const cv::Rect ink = cv::boundingRect(binary(strip));
      if (!ink.empty()) out.emplace_back(strip.x + ink.x, strip.y + ink.y, ink.width, ink.height);
    }
    start = cut;
  }
  return out.empty() ? std::vector<cv::Rect>{box} : out;
}

// The two pieces of a candidate cut at its thinnest column in the middle 30-70%, when both
// pieces are digit-sized; empty when there is no such cut.
std::pair<cv::Rect, cv::Rect> pair_hypothesis(const cv::Mat& binary, const cv::Rect& box) {
  const std::vector<int> column = column_ink(binary, box);
  const int lo = std::max(1, int(0.3 * box.width)), hi = std::min(box.width - 2, int(0.7 * box.width));
  if (hi <= lo) return {};
  int cut = lo;
  for (int x = lo; x <= hi; ++x)
    if (column[static_cast<size_t>(x)] < column[static_cast<size_t>(cut)]) cut = x;
  const auto piece = [&](int x0, int x1) {
    const cv::Rect strip(box.x + x0, box.y, x1 - x0, box.height);
    const cv::Rect ink = cv::boundingRect(binary(strip));
    return ink.empty() ? cv::Rect() : cv::Rect(strip.x + ink.x, strip.y + ink.y, ink.width, ink.height);
  };
  const cv::Rect left = piece(0, cut), right = piece(cut, box.width);
  const auto digit_sized = [&](const cv::Rect& r) { return r.height >= 0.6 * box.height && r.width >= 0.15 * box.height; };
  if (!digit_sized(left) || !digit_sized(right)) return {};
  return {left, right};
}

}  // namespace

cv::Rect pad_box(const cv::Rect& box, double fraction, const cv::Size& bounds) {
  const int m = int(std::lround(fraction * std::max(box.width, box.height)));
  // Pad to a square around the digit so thin digits (1, 7) keep their context.
  const int side = std::max(box.width, box.height) + 2 * m;
  const cv::Rect r(box.x + box.width / 2 - side / 2, box.y + box.height / 2 - side / 2, side, side);
  return r & cv::Rect(0, 0, bounds.width, bounds.height);
}

Segmentation segment_digits(const cv::Mat& image, const SegmentOptions& options) {
  Segmentation result;
  if (image.empty()) return result;
  cv::Mat grey = to_grey8(image);
  double scale = 1.0;
  if (std::max(grey.cols, grey.rows) > options.max_side) {
    scale = double(options.max_side) / std::max(grey.cols, grey.rows);
    cv::Mat small;
    cv::resize(grey, small, cv::Size(), scale, scale, cv::INTER_AREA);
    grey = small;
  }
  const int rows = grey.rows, cols = grey.cols;

  // Ink darker than its surroundings; a mostly dark picture is light ink on a dark board.
  cv::Mat work;
  cv::GaussianBlur(grey, work, cv::Size(3, 3), 0);
  if (cv::mean(work)[0] < 100) cv::bitwise_not(work, work);
  const int block = (std::max(15, std::min(rows, cols) / 12)) | 1;
  cv::Mat binary;
  cv::adaptiveThreshold(work, binary, 255, cv::ADAPTIVE_THRESH_MEAN_C, cv::THRESH_BINARY_INV, block, 10);

  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  std::vector<Part> parts;
  for (int i = 1; i < n; ++i) {
    Part p;
    p.box = cv::Rect(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                     stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
    p.ink = stats.at<int>(i, cv::CC_STAT_AREA);
    if (p.ink < 6 || std::max(p.box.width, p.box.height) < 3) continue;       // specks
    // Edges and ruled lines: too tall, or wide and flat. (A wide part that is not flat may be a
    // close-up digit; a frame around the page fails the fill test below.)
    if (p.box.height > options.max_digit_height * rows ||
        (p.box.width > 0.5 * cols && p.box.height < 0.5 * p.box.width))
      continue;
    parts.push_back(p);
  }
  if (parts.size() > 2000) {  // a noise storm: keep the largest
    std::partial_sort(parts.begin(), parts.begin() + 2000, parts.end(),
                      [](const Part& a, const Part& b) { return a.ink > b.ink; });
    parts.resize(2000);
  }

  // Broken strokes: merge parts of one digit until nothing changes. A digit is at most about
  // twice the typical height of the digit-sized parts.
  std::vector<double> part_heights;
  for (const auto& p : parts)
    if (p.box.height >= options.min_digit_height && p.box.width <= 2 * p.box.height) part_heights.push_back(p.box.height);
  const double max_side = part_heights.empty() ? double(std::max(rows, cols)) : 2.0 * median(part_heights);
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!parts[i].alive) continue;
      for (size_t j = i + 1; j < parts.size(); ++j) {
        if (!parts[j].alive || !same_digit(parts[i], parts[j], max_side)) continue;
        parts[i].box |= parts[j].box;
        parts[i].ink += parts[j].ink;
        parts[j].alive = false;
        merged = true;
      }
    }
  }

  // Digit-like shapes only.
  std::vector<Part> cands;
  for (const auto& p : parts) {
    if (!p.alive) continue;
    const cv::Rect& b = p.box;
    const double fill = double(p.ink) / std::max(1, b.area());
    if (b.height < options.min_digit_height || b.height > options.max_digit_height * rows) continue;
    // A 1 drawn as one straight stroke is all ink; anything wider that is, is a blob.
    const bool stroke = b.width <= 0.3 * b.height;
    if (b.width > 5.0 * b.height || fill < 0.06 || (fill > 0.85 && !stroke)) continue;
    // A solid blob shows only its outline in the adaptive threshold: judge its darkness directly.
    cv::Mat dark;
    cv::threshold(work(b), dark, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
    if (!stroke && cv::countNonZero(dark) > 0.75 * b.area()) continue;
    cands.push_back(p);
  }
  std::vector<double> heights;
  for (const auto& c : cands) heights.push_back(c.box.height);
  const double typical_h = median(heights);
  std::vector<cv::Rect> boxes;
  std::vector<std::pair<cv::Rect, cv::Rect>> pairs;  // per box: its split hypothesis, if any
  for (const auto& c : cands) {
    if (c.box.height < 0.45 * typical_h) continue;  // dots, commas, specks beside digits
    // Paper edges, shadows and table borders: far taller than the digits, or strokes at the
    // frame's edge unlike the digits in view. A digit-shaped candidate at the edge stays (a
    // tightly cropped scan), and so does a lone one.
    const cv::Rect& b = c.box;
    if (cands.size() > 1) {
      if (b.height > 2.2 * typical_h) continue;
      const bool at_edge = b.x <= 0 || b.y <= 0 || b.br().x >= cols || b.br().y >= rows;
      const bool digit_like = b.height >= 0.7 * typical_h && b.height <= 1.4 * typical_h && b.width >= 0.3 * b.height;
      if (at_edge && !digit_like) continue;
    }
    const auto pieces = split_touching(binary, c.box, options.split_width);
    for (const auto& r : pieces) {
      if (r.height < 0.45 * typical_h && r.height < options.min_digit_height) continue;
      boxes.push_back(r);
      pairs.emplace_back();
      if (pieces.size() == 1 && r.width >= options.maybe_pair_width * r.height) pairs.back() = pair_hypothesis(binary, r);
    }
  }
  if (static_cast<int>(boxes.size()) > options.max_candidates) {
    std::vector<size_t> keep(boxes.size());
    std::iota(keep.begin(), keep.end(), size_t{0});
    std::partial_sort(keep.begin(), keep.begin() + options.max_candidates, keep.end(),
                      [&](size_t a, size_t b) { return boxes[a].area() > boxes[b].area(); });
    keep.resize(static_cast<size_t>(options.max_candidates));
    std::vector<cv::Rect> kept_boxes;
    std::vector<std::pair<cv::Rect, cv::Rect>> kept_pairs;
    for (const size_t k : keep) {
      kept_boxes.push_back(boxes[k]);
      kept_pairs.push_back(pairs[k]);
    }
    boxes.swap(kept_boxes);
    pairs.swap(kept_pairs);
  }

  // Lines: walk left to right, each box joins the line whose rightmost box it overlaps most.
  std::vector<int> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return boxes[size_t(a)].x < boxes[size_t(b)].x; });
  std::vector<std::vector<int>> lines;
  for (const int i : order) {
    const cv::Rect& b = boxes[size_t(i)];
    int best = -1;
    double best_overlap = 0;
    for (size_t l = 0; l < lines.size(); ++l) {
      const cv::Rect& last = boxes[size_t(lines[l].back())];
      const double o = overlap_1d(b.y, b.br().y, last.y, last.br().y) / double(std::min(b.height, last.height));
      if (o >= 0.4 && o > best_overlap) {
        best_overlap = o;
        best = int(l);
      }
    }
    if (best < 0) {
      lines.push_back({i});
    } else {
      lines[size_t(best)].push_back(i);
    }
  }
  const auto centre_y = [&](const std::vector<int>& line) {
    double s = 0;
    for (const int i : line) s += boxes[size_t(i)].y + boxes[size_t(i)].height / 2.0;
    return s / double(line.size());
  };
  std::sort(lines.begin(), lines.end(),
            [&](const std::vector<int>& a, const std::vector<int>& b) { return centre_y(a) < centre_y(b); });

  // Strings: a wide gap ends a number.
  for (size_t l = 0; l < lines.size(); ++l) {
    const auto& line = lines[l];
    std::vector<double> hs;
    for (const int i : line) hs.push_back(boxes[size_t(i)].height);
    const double h = median(hs);
    DigitString current;
    current.line = int(l);
    for (const int i : line) {
      const cv::Rect& b = boxes[size_t(i)];
      if (!current.digits.empty() && b.x - current.box.br().x > options.string_gap * h) {
        result.strings.push_back(current);
        current = DigitString{};
        current.line = int(l);
      }
      current.box = current.digits.empty() ? b : (current.box | b);
      current.digits.push_back(i);
    }
    if (!current.digits.empty()) result.strings.push_back(current);
  }

  // Back to the caller's coordinates, boxes renumbered in reading order.
  const auto unscale = [&](const cv::Rect& r) {
    if (scale == 1.0) return r;
    const int x0 = int(std::floor(r.x / scale)), y0 = int(std::floor(r.y / scale));
    const int x1 = int(std::ceil(r.br().x / scale)), y1 = int(std::ceil(r.br().y / scale));
    return cv::Rect(x0, y0, x1 - x0, y1 - y0) & cv::Rect(0, 0, image.cols, image.rows);
  };
  for (auto& s : result.strings) {
    for (auto& i : s.digits) {
      result.boxes.push_back(unscale(boxes[size_t(i)]));
      const auto& [left, right] = pairs[size_t(i)];
      if (!left.empty()) result.splits.push_back({int(result.boxes.size()) - 1, unscale(left), unscale(right)});
      i = int(result.boxes.size()) - 1;
    }
    s.box = unscale(s.box);
  }
  return result;
}

}  // namespace digitnet::vision
