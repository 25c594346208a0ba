#include "digitnet/vision/reader.h"

#include <torch/nn/functional/activation.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "digitnet/checkpoint.h"
#include "digitnet/device.h"
#include "digitnet/digit_task.h"
#include "digitnet/models.h"
#include "digitnet/vision/preprocess.h"

namespace digitnet::vision {
namespace {

constexpr double kMergeWidth = 1.3;  // merge hypotheses: at most this wide for their height
constexpr double kShortPiece = 0.6;  // a piece shorter than this share of the whole is a bar or tail
constexpr double kSplitBelow = 0.9;  // split hypotheses: only for a whole less sure than this

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double i = (a & b).area();
  const double u = a.area() + b.area() - i;
  return u > 0 ? i / u : 0.0;
}

}  // namespace

struct DigitReader::Model {
  MnistNet net{nullptr};
};

std::string Reading::text() const {
  std::string s;
  for (const auto& r : strings) s += (s.empty() ? "" : " ") + r.text;
  return s;
}

std::filesystem::path default_reader_checkpoint() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("DIGITNET_READER_MODEL"); env && *env) return env;
  const fs::path rel = fs::path("models") / "mnist-reader.pt";
  std::error_code ec;
  if (fs::exists(rel, ec)) return rel;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (fs::exists(dir / "share" / "digitnet" / "mnist-reader.pt", ec))
        return dir / "share" / "digitnet" / "mnist-reader.pt";
      if (fs::exists(dir / rel, ec)) return dir / rel;
      if (dir == dir.parent_path()) break;
    }
  }
  return rel;
}

DigitReader::DigitReader(const std::filesystem::path& checkpoint, ReaderOptions options)
    : model_(std::make_unique<Model>()), options_(std::move(options)) {
  if (!(options_.min_confidence >= 0.0 && options_.min_confidence <= 1.0))
    throw std::invalid_argument("--min-confidence must be between 0 and 1");
  device_ = select_device(options_.device);
  auto loaded = load_digit_model(checkpoint, device_);
  model_->net = loaded.net;
  temperature_ = loaded.temperature;
}

DigitReader::~DigitReader() = default;

torch::Tensor DigitReader::classify(const torch::Tensor& inputs) {
  torch::InferenceMode guard;
  if (inputs.size(0) == 0) return torch::zeros({0, 10});
  torch::Tensor logits;
  if (options_.batched) {
    logits = model_->net->forward(inputs.to(device_));
  } else {
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < inputs.size(0); ++i) rows.push_back(model_->net->forward(inputs.slice(0, i, i + 1).to(device_)));
    logits = torch::cat(rows);
  }
  return torch::softmax(logits / temperature_, 1).to(torch::kCPU);
}

Reading DigitReader::read(const cv::Mat& image) {
  Reading reading;
  const Segmentation seg = segment_digits(image, options_.segment);
  // Candidates, then hypotheses the classifier decides in the same single forward:
  //  - merge: two close neighbours together at most kMergeWidth times as wide as tall may be
  //    one digit in two pieces (a 5's detached bar, a faint stroke). The whole wins when it is
  //    sure and surer than either piece, or sure while one piece is short (a bar, a tail);
  //  - split (segment.h's SplitHypothesis): a candidate may be two touching digits. The two
  //    win when both are sure and together more likely than the whole (calibrated
  //    confidences: P(left) * P(right) > P(whole)).
  std::vector<cv::Rect> boxes = seg.boxes;
  struct Merge {
    size_t string, first;
    int index;
  };
  std::vector<Merge> merges;
  for (size_t si = 0; si < seg.strings.size(); ++si) {
    const auto& d = seg.strings[si].digits;
    for (size_t k = 0; k + 1 < d.size(); ++k) {
      const cv::Rect& a = seg.boxes[size_t(d[k])];
      const cv::Rect& b = seg.boxes[size_t(d[k + 1])];
      const cv::Rect u = a | b;
      if (b.x - a.br().x < 0.3 * u.height && u.width <= kMergeWidth * u.height) {
        merges.push_back({si, k, int(boxes.size())});
        boxes.push_back(u);
      }
    }
  }
  std::vector<int> split_at(seg.boxes.size(), -1);  // per candidate: index of its left piece
  for (const auto& h : seg.splits) {
    split_at[size_t(h.box)] = int(boxes.size());
    boxes.push_back(h.left);
    boxes.push_back(h.right);
  }
  std::vector<cv::Rect> crops;
  crops.reserve(boxes.size());
  for (const auto& b : boxes) crops.push_back(pad_box(b, options_.crop_padding, image.size()));
  reading.inputs = canonicalize_batch(image, crops, Polarity::kAuto, boxes);
  if (boxes.empty()) return reading;
  const torch::Tensor probs = classify(reading.inputs);
  const auto [best, index] = probs.max(1);
  const auto best_a = best.accessor<float, 1>();
  const auto index_a = index.accessor<int64_t, 1>();
  const auto sure = [&](int i) { return best_a[i] >= options_.min_confidence; };
  for (size_t si = 0; si < seg.strings.size(); ++si) {
    const auto& s = seg.strings[si];
    ReadString out;
    out.box = s.box;
    out.line = s.line;
    out.confidence = 1.0;
    double sum = 0.0;
    const auto emit = [&](int i) {
      ReadDigit d;
      d.box = boxes[size_t(i)];
      d.confidence = best_a[i];
      d.digit = d.confidence >= options_.min_confidence ? int(index_a[i]) : -1;
      out.text += d.digit >= 0 ? char('0' + d.digit) : '?';
      out.confidence *= d.confidence;
      sum += d.confidence;
      out.digits.push_back(d);
    };
    for (size_t k = 0; k < s.digits.size(); ++k) {
      int i = s.digits[k];
      bool merged = false;
      for (const auto& m : merges) {
        if (m.string != si || m.first != k) continue;
        const int a = s.digits[k], b = s.digits[k + 1];
        const double h = boxes[size_t(m.index)].height;
        const bool short_piece = std::min(boxes[size_t(a)].height, boxes[size_t(b)].height) < kShortPiece * h;
        if (sure(m.index) && (best_a[m.index] > std::max(best_a[a], best_a[b]) || short_piece)) {
          i = m.index;
          merged = true;
          ++k;
        }
      }
      const int left = merged ? -1 : split_at[size_t(i)];
      if (left >= 0 && best_a[i] < kSplitBelow && sure(left) && sure(left + 1) &&
          double(best_a[left]) * double(best_a[left + 1]) > double(best_a[i])) {
        emit(left);
        emit(left + 1);
      } else {
        emit(i);
      }
    }
    // Non-digits: strings unsure on average, and lone candidates (specks, marks) unless sure.
    if (sum / double(out.digits.size()) < options_.reject_confidence) continue;
    if (out.digits.size() == 1 && out.confidence < options_.min_confidence) continue;
    reading.strings.push_back(std::move(out));
  }
  return reading;
}

std::vector<ReadString> ReadingSmoother::update(const std::vector<ReadString>& strings) {
  if (window_ <= 1) return strings;
  std::vector<bool> matched(tracks_.size(), false);
  std::vector<ReadString> out;
  for (const auto& s : strings) {
    int best = -1;
    double best_iou = 0.3;
    for (size_t t = 0; t < tracks_.size(); ++t) {
      if (matched[t]) continue;
      const double o = iou(s.box, tracks_[t].last.box);
      if (o > best_iou) {
        best_iou = o;
        best = int(t);
      }
    }
    if (best < 0) {
      tracks_.push_back(Track{});
      matched.push_back(false);
      best = int(tracks_.size()) - 1;
    }
    Track& track = tracks_[size_t(best)];
    matched[size_t(best)] = true;
    track.last = s;
    track.missed = 0;
    track.votes.emplace_back(s.text, s.confidence);
    while (static_cast<int>(track.votes.size()) > window_) track.votes.pop_front();
    std::map<std::string, double> score;
    for (const auto& [text, conf] : track.votes) score[text] += conf + 1e-3;
    const auto win = std::max_element(score.begin(), score.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
    ReadString shown = s;
    if (win->first != s.text) {
      shown.text = win->first;
      shown.confidence = win->second / double(track.votes.size());
    }
    out.push_back(shown);
  }
  for (size_t t = 0; t < tracks_.size(); ++t)
    if (!matched[t]) ++tracks_[t].missed;
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [&](const Track& t) { return t.missed > max_missed_; }),
                tracks_.end());
  std::sort(out.begin(), out.end(), [](const ReadString& a, const ReadString& b) {
    return a.line != b.line ? a.line < b.line : a.box.x < b.box.x;
  });
  return out;
}

Json box_json(const cv::Rect& r) { return Json::array({r.x, r.y, r.width, r.height}); }

static double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

Json to_json(const ReadString& s) {
  Json digits = Json::array();
  for (const auto& d : s.digits)
    digits.push(Json::object()
                    .set("digit", d.digit >= 0 ? Json(d.digit) : Json("?"))
                    .set("box", box_json(d.box))
                    .set("confidence", round3(d.confidence)));
  return Json::object()
      .set("text", s.text)
      .set("box", box_json(s.box))
      .set("confidence", round3(s.confidence))
      .set("digits", digits);
}

Json to_json(const std::vector<ReadString>& strings) {
  Json a = Json::array();
  for (const auto& s : strings) a.push(to_json(s));
  return a;
}

}  // namespace digitnet::vision
