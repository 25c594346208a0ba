#pragma once
// DigitReader: loads an MNIST checkpoint once, then reads strings of digits from images.
// Per image: segment.h finds the candidates, preprocess.h canonicalises all of them straight
// into one [N,1,28,28] tensor, and ONE forward pass under torch::InferenceMode classifies them.
// Confidence is softmax(logits / T) with the temperature T fitted at training time (manifest
// key "temperature"; 1 when absent). A digit below `min_confidence` is shown as '?'; a string
// whose mean confidence is below `reject_confidence` is dropped as a non-digit.

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "digitnet/json.h"
#include "digitnet/vision/segment.h"

namespace digitnet::vision {

struct ReaderOptions {
  double min_confidence = 0.5;     // below: the digit reads '?'
  double reject_confidence = 0.35;  // mean of a string below this: dropped
  double crop_padding = 0.15;      // of the candidate's larger side, on every side
  bool batched = true;             // false: one forward per candidate (the benchmark's reference)
  std::string device = "cpu";      // auto | cpu | cuda
  SegmentOptions segment;
};

struct ReadDigit {
  int digit = -1;  // 0..9, or -1 when unsure ('?')
  cv::Rect box;
  double confidence = 0.0;  // of the most likely class
};

struct ReadString {
  std::string text;  // digits, '?' where unsure
  cv::Rect box;
  double confidence = 0.0;  // product of the digit confidences
  int line = 0;
  std::vector<ReadDigit> digits;
};

struct Reading {
  std::vector<ReadString> strings;
  torch::Tensor inputs;  // [N,1,28,28]: exactly what the model saw, one per candidate
  std::string text() const;  // the strings joined by spaces
};

// The checkpoint the apps use by default: $DIGITNET_READER_MODEL, else models/mnist-reader.pt
// in the working folder, next to the executable's install prefix (share/digitnet/) or in the
// source tree the executable was built from. Returns the first that exists, else the plain
// "models/mnist-reader.pt" (whose absence the reader then reports).
std::filesystem::path default_reader_checkpoint();

class DigitReader {
 public:
  // Throws std::runtime_error naming the file when the checkpoint is missing, corrupt or not
  // an "mnist" model.
  explicit DigitReader(const std::filesystem::path& checkpoint, ReaderOptions options = {});
  ~DigitReader();
  DigitReader(const DigitReader&) = delete;
  DigitReader& operator=(const DigitReader&) = delete;

  Reading read(const cv::Mat& image);
  // Probabilities [N,10] of canonical inputs [N,1,28,28] (one forward, or one per row when
  // options.batched is false).
  torch::Tensor classify(const torch::Tensor& inputs);

  double temperature() const { return temperature_; }
  const ReaderOptions& options() const { return options_; }
  ReaderOptions& options() { return options_; }
  const torch::Device& device() const { return device_; }

 private:
  struct Model;
  std::unique_ptr<Model> model_;
  ReaderOptions options_;
  torch::Device device_{torch::kCPU};
  double temperature_ = 1.0;
};

// Keeps readings steady over video frames: strings are tracked by box overlap, and each track
// shows the text that won the most confidence over its last `window` frames, so a number that
// stays in view does not flicker between readings. A track that is not seen for `max_missed`
// frames is dropped; a new track is shown from its first frame.
class ReadingSmoother {
 public:
  explicit ReadingSmoother(int window = 8, int max_missed = 3) : window_(window), max_missed_(max_missed) {}
  std::vector<ReadString> update(const std::vector<ReadString>& strings);

 private:
  struct Track {
    ReadString last;
    std::deque<std::pair<std::string, double>> votes;
    int missed = 0;
  };
  int window_, max_missed_;
  std::vector<Track> tracks_;
};

// {"text": ..., "box": [x, y, w, h], "confidence": ..., "digits": [{"digit", "box", "confidence"}]}
Json to_json(const ReadString& s);
Json to_json(const std::vector<ReadString>& strings);
Json box_json(const cv::Rect& r);

}  // namespace digitnet::vision
