#pragma once
// Digit candidates in a photo or video frame, grouped into strings (one per written number)
// and lines in reading order. Steps: grey, adaptive threshold (local mean, so uneven light and
// shadows do not matter), connected components, specks and non-digit shapes (paper edges,
// lines, solid blobs) rejected, broken strokes merged (parts of one digit one above the other),
// touching digits split at the thinnest column, then lines (vertical overlap) and strings
// (horizontal gaps wider than a fraction of the digit height).

#include <opencv2/core.hpp>

#include <vector>

namespace digitnet::vision {

struct SegmentOptions {
  int min_digit_height = 10;         // px in the working image
  double max_digit_height = 0.9;     // fraction of the image height (a close-up of one digit too)
  int max_side = 1280;               // larger images are segmented on a downscaled copy
  double string_gap = 0.9;           // a gap wider than this times the digit height ends a number
  double split_width = 1.2;         // candidates wider than this times their height are split
  double maybe_pair_width = 0.7;    // narrower ones down to this get a split hypothesis
  int max_candidates = 200;          // the rest (largest first) are dropped
};

struct DigitString {
  std::vector<int> digits;  // indices into Segmentation::boxes, left to right
  cv::Rect box;
  int line = 0;             // 0-based, top to bottom
};

// A candidate that may be two touching digits (a 7 leaning on a 1): the pieces it would be
// cut into at its thinnest column. The reader lets the classifier decide.
struct SplitHypothesis {
  int box = -1;  // index into Segmentation::boxes
  cv::Rect left, right;
};

struct Segmentation {
  std::vector<cv::Rect> boxes;        // one per digit candidate, in image coordinates
  std::vector<DigitString> strings;   // reading order: line by line, left to right
  std::vector<SplitHypothesis> splits;
};

// Candidates and strings of `image` (any depth/channels, either polarity).
Segmentation segment_digits(const cv::Mat& image, const SegmentOptions& options = {});

// A box grown by `fraction` of its larger side on every side (the crop handed to
// preprocess.h, so that anti-aliased edges are not cut), clipped to `bounds`.
cv::Rect pad_box(const cv::Rect& box, double fraction, const cv::Size& bounds);

}  // namespace digitnet::vision
