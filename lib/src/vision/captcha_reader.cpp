#include "digitnet/vision/captcha_reader.h"

#include "digitnet/checkpoint.h"
#include "digitnet/device.h"
#include "digitnet/vision/captcha.h"
#include "digitnet/vision/captcha_task.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/optim/adam.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace digitnet {
namespace {

void check_views(int views) {
  if (views < 1 || views > 3) throw std::invalid_argument("captcha views must be between 1 and 3");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n\"");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n\"");
  return s.substr(b, e - b + 1);
}

uint32_t be32(const std::vector<unsigned char>& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

// Width and height from the file header, before decoding (PNG, JPEG); {0,0} when unknown.
cv::Size header_size(const std::vector<unsigned char>& b) {
  if (b.size() >= 24 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G')
    return {int(std::min<uint32_t>(be32(b, 16), 1u << 30)), int(std::min<uint32_t>(be32(b, 20), 1u << 30))};
  if (b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8) {
    size_t i = 2;
    while (i + 9 < b.size()) {
      if (b[i] != 0xFF) return {};
      const int marker = b[i + 1];
      const size_t len = size_t(b[i + 2]) << 8 | b[i + 3];
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
        return {int(b[i + 7]) << 8 | b[i + 8], int(b[i + 5]) << 8 | b[i + 6]};
      i += 2 + len;
    }
  }
  return {};
}

// Truncation that the decoders let through (libjpeg fills a cut-off JPEG with grey and only
// warns): the end markers must be there.
void check_complete(const std::vector<unsigned char>& b, const std::string& name) {
  if (b.size() >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
    static const unsigned char iend[] = {'I', 'E', 'N', 'D'};
    if (std::search(b.end() - std::min<long>(long(b.size()), 64), b.end(), std::begin(iend), std::end(iend)) ==
        b.end())
      throw std::runtime_error(name + ": PNG file is truncated (no IEND chunk)");
  }
  if (b.size() >= 2 && b[0] == 0xFF && b[1] == 0xD8) {
    size_t end = b.size();
    while (end > 2 && b[end - 1] == 0) --end;  // some encoders pad with zeros
    if (end < 4 || b[end - 2] != 0xFF || b[end - 1] != 0xD9)
      throw std::runtime_error(name + ": JPEG file is truncated (no end-of-image marker)");
  }
}

}  // namespace

CaptchaLength parse_captcha_length(const std::string& text, const std::string& flag) {
  const std::string t = trim(text);
  if (t.empty() || t == "any") return {};
  if (t == "auto") return {0, -1, true};
  const auto bad = [&] {
    return std::invalid_argument(flag + " must be N or MIN-MAX digits within 1..16, any or auto, not '" + text + "'");
  };
  const auto dash = t.find('-');
  const std::string a = t.substr(0, dash), b = dash == std::string::npos ? a : t.substr(dash + 1);
  if (!all_digits(a) || !all_digits(b) || a.size() > 2 || b.size() > 2) throw bad();
  CaptchaLength l{std::stoi(a), std::stoi(b)};
  if (l.min < 1 || l.max > 16 || l.min > l.max) throw bad();
  return l;
}

std::string to_string(const CaptchaLength& length) {
  if (!length.constrained()) return "any";
  if (length.min == length.max) return std::to_string(length.min);
  return std::to_string(length.min) + "-" + std::to_string(length.max);
}

namespace {

bool parse_auto_off(const std::string& text, const std::string& flag) {
  const std::string t = trim(text);
  if (t == "auto") return true;
  if (t == "off") return false;
  throw std::invalid_argument(flag + " must be auto or off, not '" + text + "'");
}

}  // namespace

bool parse_one_seven_balance(const std::string& text, const std::string& flag) { return parse_auto_off(text, flag); }


double check_retry_below(double value, const std::string& flag) {
  if (!(value >= 0.0 && value <= 1.0)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", value);
    throw std::invalid_argument(flag + " must be a confidence between 0 and 1, not " + shown);
  }
  return value;
}

std::vector<cv::Mat> captcha_views(const cv::Mat& grey, int views) {
  check_views(views);
  std::vector<cv::Mat> out{grey};
  // Generators draw strokes from hairlines to bold; a pixel more or less of stroke width
  // moves many of their captchas into the range the model reads well. 2x2 at the image's own
  // scale: captchas are drawn at their pixel size, whatever size the model reads them at.
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2, 2));
  if (views >= 2) {
    cv::Mat dark_grown;
    cv::erode(grey, dark_grown, kernel);
    out.push_back(dark_grown);
  }
  if (views >= 3) {
    cv::Mat light_grown;
    cv::dilate(grey, light_grown, kernel);
    out.push_back(light_grown);
  }
  return out;
}

CaptchaReader::CaptchaReader(const std::filesystem::path& checkpoint, const torch::Device& device,
                             CaptchaReaderOptions options)
    : device_(device), options_(options) {
  check_views(options_.views);
  CheckpointReader reader(checkpoint);
  reader.expect_kind("captcha");
  net_ = CaptchaNet(captcha_net_options(reader.manifest()));
  reader.load_weights(*net_);
  prepare();
}

CaptchaReader::CaptchaReader(CaptchaNet net, const torch::Device& device, CaptchaReaderOptions options)
    : net_(std::move(net)), device_(device), options_(options) {
  check_views(options_.views);
  prepare();
}

void CaptchaReader::prepare() {
  net_->to(device_);
  use_channels_last(*net_);
  net_->eval();
  torch::NoGradGuard no_grad;
  trained_weight_ = net_->output_layer()->weight.detach().clone();
  trained_bias_ = net_->output_layer()->bias.detach().clone();
}

CaptchaReading CaptchaReader::read(const cv::Mat& image) { return read(std::vector<cv::Mat>{image}).at(0); }

std::vector<CaptchaReading> CaptchaReader::read(const std::vector<cv::Mat>& images,
                                                std::vector<torch::Tensor>* view_log_probs,
                                                std::vector<torch::Tensor>* view_features) {
  std::vector<CaptchaReading> out;
  out.reserve(images.size());
  const auto& o = net_->options();
  const int views = options_.views;
  // batch_size counts the model's inputs: each captcha gives `views` of them.
  const int64_t batch = std::max<int64_t>(1, options_.batch_size / views);
  torch::InferenceMode guard;
  for (size_t i = 0; i < images.size(); i += size_t(batch)) {
    const size_t end = std::min(images.size(), i + size_t(batch));
    auto input = torch::empty({int64_t(end - i) * views, 1, o.height, o.width});
    int64_t row = 0;
    for (size_t j = i; j < end; ++j)
      for (const auto& view : captcha_views(captcha_grey(images[j]), views))
        input[row++] = captcha_input(view, o.height, o.width);
    const auto features = net_->features(input.to(device_));
    const auto log_probs = net_->head(features);
    if (view_features) {
      const auto cpu = features.to(torch::kCPU, torch::kFloat);
      for (int64_t j = 0; j < int64_t(end - i); ++j) view_features->push_back(cpu.narrow(1, j * views, views).clone());
    }
    if (view_log_probs) {
      const auto cpu = log_probs.to(torch::kCPU, torch::kFloat);
      for (int64_t j = 0; j < int64_t(end - i); ++j) view_log_probs->push_back(cpu.narrow(1, j * views, views).clone());
    }
    for (auto& reading : decode_views(log_probs, views)) out.push_back(std::move(reading));
  }
  return out;
}

std::vector<CaptchaReading> CaptchaReader::decode(const std::vector<torch::Tensor>& view_log_probs) const {
  std::vector<CaptchaReading> out;
  out.reserve(view_log_probs.size());
  torch::InferenceMode guard;
  const size_t chunk = 512;
  for (size_t i = 0; i < view_log_probs.size(); i += chunk) {
    const std::vector<torch::Tensor> part(view_log_probs.begin() + long(i),
                                          view_log_probs.begin() + long(std::min(view_log_probs.size(), i + chunk)));
    for (auto& reading : decode_views(torch::cat(part, 1), int(part.front().size(1)))) out.push_back(std::move(reading));
  }
  return out;
}

std::vector<torch::Tensor> CaptchaReader::head(const std::vector<torch::Tensor>& view_features) {
  std::vector<torch::Tensor> out;
  out.reserve(view_features.size());
  torch::InferenceMode guard;
  const size_t chunk = 256;
  for (size_t i = 0; i < view_features.size(); i += chunk) {
    const std::vector<torch::Tensor> part(view_features.begin() + long(i),
                                          view_features.begin() + long(std::min(view_features.size(), i + chunk)));
    const auto log_probs = net_->head(torch::cat(part, 1).to(device_)).to(torch::kCPU, torch::kFloat);
    int64_t at = 0;
    for (const auto& f : part) {
      out.push_back(log_probs.narrow(1, at, f.size(1)).clone());
      at += f.size(1);
    }
  }
  return out;
}

void CaptchaReader::fit_output(const std::vector<torch::Tensor>& view_features, const std::vector<std::string>& texts) {
  if (view_features.size() != texts.size())
    throw std::invalid_argument("fit_output: " + std::to_string(texts.size()) + " texts for " +
                                std::to_string(view_features.size()) + " captchas");
  if (view_features.empty()) return;
  auto& output = net_->output_layer();
  // The views each captcha teaches its text through (see the header).
  std::vector<torch::Tensor> fit_features;
  std::vector<std::string> fit_texts;
  {
    torch::InferenceMode guard;
    for (size_t i = 0; i < view_features.size(); i += 256) {
      const size_t end = std::min(view_features.size(), i + 256);
      const std::vector<torch::Tensor> part(view_features.begin() + long(i), view_features.begin() + long(end));
      const auto features = torch::cat(part, 1).to(device_);
      std::vector<std::string> view_texts;
      for (size_t j = i; j < end; ++j)
        view_texts.insert(view_texts.end(), size_t(view_features[j].size(1)), texts[j]);
      const auto losses = captcha_ctc_losses(net_->head(features), view_texts).to(torch::kCPU);
      int64_t at = 0;
      for (size_t j = i; j < end; ++j) {
        const int64_t views = view_features[j].size(1);
        const auto own = losses.narrow(0, at, views);
        const int64_t v = own.argmin().item<int64_t>();
        for (int64_t k = 0; k < views; ++k)
          if (k == v || own[k].item<double>() <= kAdaptViewMaxLoss) {
            fit_features.push_back(view_features[j].narrow(1, k, 1));
            fit_texts.push_back(texts[j]);
          }
        at += views;
      }
    }
  }
  torch::AutoGradMode grad(true);
  // The features as ordinary tensors (read() made them in inference mode, which autograd refuses).
  const auto x = torch::cat(fit_features, 1).to(device_).clone();
  torch::optim::Adam optimizer(std::vector<torch::Tensor>{output->weight, output->bias},
                               torch::optim::AdamOptions(kAdaptLearningRate));
  for (int step = 0; step < kAdaptSteps; ++step) {
    optimizer.zero_grad();
    captcha_ctc_loss(torch::log_softmax(output->forward(x), 2), fit_texts).backward();
    optimizer.step();
  }
  optimizer.zero_grad();
}

void CaptchaReader::restore_output() {
  torch::NoGradGuard no_grad;
  net_->output_layer()->weight.copy_(trained_weight_);
  net_->output_layer()->bias.copy_(trained_bias_);
}

std::vector<CaptchaReading> CaptchaReader::decode_views(torch::Tensor log_probs, int views) const {
  if (options_.one_seven_bias != 0.0) {
    std::vector<float> bias(size_t(kCtcClasses), 0.0f);
    bias[1] = float(options_.one_seven_bias / 2);
    bias[7] = float(-options_.one_seven_bias / 2);
    log_probs = torch::log_softmax(log_probs + torch::tensor(bias).to(log_probs.device()), -1);
  }
  const auto decoded = ctc_decode_batch(log_probs, options_.length.min, options_.length.max);
  std::vector<CaptchaReading> out;
  out.reserve(decoded.size() / size_t(views));
  for (size_t j = 0; j < decoded.size() / size_t(views); ++j) {
    size_t best = j * size_t(views);
    for (size_t v = best + 1; v < (j + 1) * size_t(views); ++v)
      if (decoded[v].confidence > decoded[best].confidence) best = v;
    const auto& r = decoded[best];
    CaptchaReading reading;
    reading.text = r.text;
    reading.confidence = r.confidence;
    reading.char_confidences = r.char_confidences;
    reading.retry = r.confidence < options_.retry_below;
    out.push_back(std::move(reading));
  }
  return out;
}

cv::Mat read_captcha_image(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw std::runtime_error(name + ": no such file");
  if (std::filesystem::is_directory(file, ec)) throw std::runtime_error(name + ": is a folder, not an image");
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw std::runtime_error(name + ": cannot read (" + ec.message() + ")");
  if (size == 0) throw std::runtime_error(name + ": empty file");
  if (size > (64u << 20)) throw std::runtime_error(name + ": file too large for a captcha (" +
                                                   std::to_string(size >> 20) + " MB)");
  std::ifstream in(file, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw std::runtime_error(name + ": cannot read");

  cv::Mat image;
  if (bytes.size() >= 6 && std::equal(bytes.begin(), bytes.begin() + 3, "GIF")) {
    image = decode_gif(bytes, name);
  } else {
    const cv::Size declared = header_size(bytes);
    if (declared.width > kMaxCaptchaSide || declared.height > kMaxCaptchaSide)
      throw std::runtime_error(name + ": image too large (" + std::to_string(declared.width) + "x" +
                               std::to_string(declared.height) + " pixels; at most " +
                               std::to_string(kMaxCaptchaSide) + " per side)");
    check_complete(bytes, name);
    // The decoders' own warnings would add lines to the one error this function reports.
    const auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    try {
      image = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception&) {
      image.release();
    }
    cv::utils::logging::setLogLevel(level);
    if (image.empty()) throw std::runtime_error(name + ": not an image, or a corrupt or truncated one");
  }
  if (image.cols > kMaxCaptchaSide || image.rows > kMaxCaptchaSide)
    throw std::runtime_error(name + ": image too large (" + std::to_string(image.cols) + "x" +
                             std::to_string(image.rows) + " pixels)");
  if (image.cols < 8 || image.rows < 8)
    throw std::runtime_error(name + ": image too small to be a captcha (" + std::to_string(image.cols) + "x" +
                             std::to_string(image.rows) + " pixels, at least 8x8)");
  return image;
}

std::vector<std::filesystem::path> captcha_image_files(const std::filesystem::path& file_or_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(file_or_dir, ec))
    throw std::runtime_error(file_or_dir.string() + ": no such file or folder");
  if (!std::filesystem::is_directory(file_or_dir, ec)) return {file_or_dir};
  static const std::vector<std::string> exts = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif",
                                                ".tiff", ".webp", ".pgm", ".ppm", ".pnm"};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(file_or_dir, ec)) {
    if (entry.is_directory(ec)) continue;
    const auto ext = lower(entry.path().extension().string());
    if (std::find(exts.begin(), exts.end(), ext) != exts.end()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

CaptchaLength common_captcha_length(const std::vector<CaptchaReading>& readings) {
  constexpr int64_t kEnough = 20;  // confident readings needed to judge
  // Of them with the one length. A fixed-length site settles even where a hard style reads a
  // digit too many in up to a quarter of its captchas (kaptcha's noise stroke before the text
  // reads as a 7 or a 1 in 15%, confidently); a site drawing 5 or 6 digits at 70:30 keeps its
  // sixes, and a range of lengths drawn evenly (at most half each) is never settled.
  constexpr double kShare = 0.75;
  std::vector<int64_t> count(64, 0);
  int64_t confident = 0;
  for (const auto& r : readings) {
    if (r.retry || r.text.empty() || r.text.size() >= count.size()) continue;
    ++count[r.text.size()];
    ++confident;
  }
  if (confident < kEnough) return {};
  const auto mode = std::max_element(count.begin(), count.end());
  if (double(*mode) < kShare * double(confident)) return {};
  const int n = int(mode - count.begin());
  return {n, n};
}

SettledLength settle_captcha_lengths(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                     const std::function<cv::Mat(size_t)>& load) {
  SettledLength settled;
  if (!reader.options().length.automatic) return settled;
  std::vector<CaptchaReading> all;
  all.reserve(readings.size());
  for (const auto* r : readings) all.push_back(*r);
  settled.length = common_captcha_length(all);
  if (!settled.length.constrained()) return settled;
  std::vector<size_t> outside;
  std::vector<cv::Mat> images;
  for (size_t i = 0; i < readings.size(); ++i) {
    const auto n = int(readings[i]->text.size());
    if (n >= settled.length.min && n <= settled.length.max) continue;
    images.push_back(load(i));
    outside.push_back(i);
  }
  if (outside.empty()) return settled;
  const CaptchaLength own = reader.options().length;
  reader.options().length = settled.length;
  std::vector<CaptchaReading> again;
  try {
    again = reader.read(images);
  } catch (...) {
    reader.options().length = own;
    throw;
  }
  reader.options().length = own;
  for (size_t k = 0; k < outside.size(); ++k) *readings[outside[k]] = std::move(again[k]);
  settled.reread = int64_t(outside.size());
  return settled;
}

namespace {

// Sets the reader's one_seven_bias to `bias` for its lifetime, and back after.
class ScopedBias {
 public:
  ScopedBias(CaptchaReaderOptions& options, double bias) : options_(options), own_(options.one_seven_bias) {
    options_.one_seven_bias = bias;
  }
  ~ScopedBias() { options_.one_seven_bias = own_; }
  ScopedBias(const ScopedBias&) = delete;
  ScopedBias& operator=(const ScopedBias&) = delete;

 private:
  CaptchaReaderOptions& options_;
  double own_;
};

const CaptchaReading& deref(const CaptchaReading& r) { return r; }
const CaptchaReading& deref(const CaptchaReading* r) { return *r; }

// How often each digit appears in the confident readings (held or pointed to).
template <typename Readings>
std::array<int64_t, 10> confident_digit_counts(const Readings& readings) {
  std::array<int64_t, 10> count{};
  for (const auto& r : readings) {
    if (deref(r).retry) continue;
    for (const char c : deref(r).text) ++count[size_t(c - '0')];
  }
  return count;
}

}  // namespace

OneSevenBalance balance_captcha_ones_sevens(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                           const std::function<cv::Mat(size_t)>& load,
                                           std::vector<torch::Tensor> log_probs) {
  OneSevenBalance balance;
  const auto count = confident_digit_counts(readings);
  std::vector<int64_t> others;
  for (size_t d = 0; d < 10; ++d)
    if (d != 1 && d != 7) others.push_back(count[d]);
  std::sort(others.begin(), others.end());
  const double median = double(others[3] + others[4]) / 2;
  const int64_t both = count[1] + count[7];
  if (both < 40 || double(both) < 1.5 * median) return balance;
  const double spread = std::sqrt(double(both));
  const int64_t start = count[1] - count[7];
  if (double(std::abs(start)) <= spread) return balance;

  // The folder's log-probabilities (read once more unless kept), decoded under biases without
  // the model.
  if (log_probs.size() != readings.size()) {
    log_probs.clear();
    log_probs.reserve(readings.size());
    const size_t chunk = 256;  // images held in memory at once
    for (size_t i = 0; i < readings.size(); i += chunk) {
      std::vector<cv::Mat> images;
      for (size_t j = i; j < std::min(readings.size(), i + chunk); ++j) images.push_back(load(j));
      reader.read(images, &log_probs);
    }
  }
  const double own = reader.options().one_seven_bias;
  const auto read_at = [&](double bias) {
    const ScopedBias scope(reader.options(), own + bias);
    return reader.decode(log_probs);
  };
  // A positive bias makes more 1s; n1 - n7 moves towards 0 and stops at the spread's edge.
  const double direction = start < 0 ? 1.0 : -1.0;
  const auto reaches_edge = [&](double magnitude) {
    const auto count_at = confident_digit_counts(read_at(direction * magnitude));
    return direction * double(count_at[1] - count_at[7]) >= -spread;
  };
  double lo = 0.0, hi = kMaxOneSevenBias;
  if (reaches_edge(hi)) {
    for (int step = 0; step < 12; ++step) {
      const double mid = (lo + hi) / 2;
      (reaches_edge(mid) ? hi : lo) = mid;
    }
  }
  balance.bias = direction * hi;
  auto balanced = read_at(balance.bias);
  for (size_t i = 0; i < readings.size(); ++i) {
    if (balanced[i].text != readings[i]->text) ++balance.changed;
    *readings[i] = std::move(balanced[i]);
  }
  return balance;
}

namespace {

FolderSettling balance_and_settle_lengths(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                          const std::function<cv::Mat(size_t)>& load,
                                          std::vector<torch::Tensor> log_probs) {
  FolderSettling settled;
  if (reader.options().balance_ones_sevens)
    settled.balance = balance_captcha_ones_sevens(reader, readings, load, std::move(log_probs));
  // Lengths are settled under the folder's bias; the reader's own options are kept.
  const ScopedBias scope(reader.options(), reader.options().one_seven_bias + settled.balance.bias);
  settled.length = settle_captcha_lengths(reader, readings, load);
  return settled;
}

// Puts the reader's output layer back when the folder is done, however it ends.
class ScopedOutputLayer {
 public:
  explicit ScopedOutputLayer(CaptchaReader& reader) : reader_(reader) {}
  ~ScopedOutputLayer() { reader_.restore_output(); }
  ScopedOutputLayer(const ScopedOutputLayer&) = delete;
  ScopedOutputLayer& operator=(const ScopedOutputLayer&) = delete;

 private:
  CaptchaReader& reader_;
};

}  // namespace

FolderSettling settle_captcha_folder(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                     const std::function<cv::Mat(size_t)>& load,
                                     std::vector<torch::Tensor> log_probs,
                                     const std::vector<torch::Tensor>& features) {
  FolderSettling settled = balance_and_settle_lengths(reader, readings, load, std::move(log_probs));
  if (!reader.options().adapt_output) return settled;
  {
    // One site: most confident readings share a length. A folder of mixed sources is left alone.
    std::vector<CaptchaReading> all;
    all.reserve(readings.size());
    for (const auto* r : readings) all.push_back(*r);
    if (!common_captcha_length(all).constrained()) return settled;
  }
  const size_t chunk = 256;  // images held in memory at once
  const size_t kept = std::min(readings.size(), features.empty() ? kKeepCaptchaFeaturesUpTo : features.size());
  const auto sure = [&](size_t i) {
    const auto& r = *readings[i];
    return !r.retry && !r.text.empty() && r.confidence >= kAdaptMinConfidence;
  };
  int64_t sure_count = 0;
  for (size_t i = 0; i < kept; ++i) sure_count += sure(i) ? 1 : 0;
  if (sure_count < kAdaptMinReadings) return settled;
  std::vector<torch::Tensor> read_features;  // when the caller kept none
  if (features.empty()) {
    for (size_t i = 0; i < kept; i += chunk) {
      std::vector<cv::Mat> images;
      for (size_t j = i; j < std::min(kept, i + chunk); ++j) images.push_back(load(j));
      reader.read(images, nullptr, &read_features);
    }
  }
  const auto& folder_features = features.empty() ? read_features : features;
  std::vector<torch::Tensor> sure_features;
  std::vector<std::string> sure_texts;
  for (size_t i = 0; i < kept; ++i) {
    if (!sure(i)) continue;
    sure_features.push_back(folder_features[i]);
    sure_texts.push_back(readings[i]->text);
  }

  const ScopedOutputLayer restore(reader);
  reader.fit_output(sure_features, sure_texts);
  // The folder's log-probabilities under the refitted layer: from the features where kept, the
  // rest read again.
  auto refitted =
      reader.head(std::vector<torch::Tensor>(folder_features.begin(), folder_features.begin() + long(kept)));
  for (size_t i = kept; i < readings.size(); i += chunk) {
    std::vector<cv::Mat> images;
    for (size_t j = i; j < std::min(readings.size(), i + chunk); ++j) images.push_back(load(j));
    reader.read(images, &refitted);
  }
  std::vector<std::string> settled_texts;
  settled_texts.reserve(readings.size());
  for (const auto* r : readings) settled_texts.push_back(r->text);
  auto again = reader.decode(refitted);
  for (size_t i = 0; i < readings.size(); ++i) *readings[i] = std::move(again[i]);
  settled = balance_and_settle_lengths(reader, readings, load, std::move(refitted));
  settled.adaptation.learned_from = int64_t(sure_texts.size());
  for (size_t i = 0; i < readings.size(); ++i)
    if (readings[i]->text != settled_texts[i]) ++settled.adaptation.changed;
  return settled;
}

std::vector<CaptchaFileResult> read_captcha_files(CaptchaReader& reader, const std::filesystem::path& file_or_dir,
                                                  FolderSettling* settled) {
  const auto files = captcha_image_files(file_or_dir);
  std::vector<CaptchaFileResult> results(files.size());
  std::vector<torch::Tensor> log_probs;  // kept for balancing, in the order of the files read
  std::vector<torch::Tensor> features;   // kept for adapting, of the first files read
  const bool keep = reader.options().balance_ones_sevens && files.size() <= kKeepCaptchaLogProbsUpTo;
  const size_t chunk = 256;  // images held in memory at once
  for (size_t i = 0; i < files.size(); i += chunk) {
    std::vector<cv::Mat> images;
    std::vector<size_t> which;
    for (size_t j = i; j < std::min(files.size(), i + chunk); ++j) {
      results[j].file = files[j];
      try {
        images.push_back(read_captcha_image(files[j]));
        which.push_back(j);
      } catch (const std::exception& e) {
        results[j].error = one_line(e);
      }
    }
    const bool keep_features = reader.options().adapt_output && features.size() < kKeepCaptchaFeaturesUpTo;
    const auto readings = reader.read(images, keep ? &log_probs : nullptr, keep_features ? &features : nullptr);
    for (size_t k = 0; k < which.size(); ++k) {
      results[which[k]].ok = true;
      results[which[k]].reading = readings[k];
    }
  }
  std::vector<CaptchaReading*> readings;
  std::vector<size_t> which;
  for (size_t j = 0; j < results.size(); ++j) {
    if (!results[j].ok) continue;
    readings.push_back(&results[j].reading);
    which.push_back(j);
  }
  const auto s = settle_captcha_folder(
      reader, readings, [&](size_t i) { return read_captcha_image(files[which[i]]); }, std::move(log_probs), features);
  if (settled) *settled = s;
  return results;
}

SelfLabels self_label_captchas(CaptchaReader& reader, const std::filesystem::path& dir, double min_confidence) {
  SelfLabels out;
  for (const auto& r : read_captcha_files(reader, dir, &out.settled)) {
    ++out.files;
    if (!r.ok) ++out.unreadable;
    else if (!r.reading.retry && !r.reading.text.empty() && r.reading.confidence >= min_confidence)
      out.labelled.push_back({r.file, r.reading.text});
  }
  return out;
}

Json captcha_result_json(const CaptchaFileResult& r) {
  Json j = Json::object().set("file", r.file.string());
  if (!r.ok) return j.set("error", r.error);
  return j.set("text", r.reading.text)
      .set("confidence", r.reading.confidence)
      .set("char_confidences", Json::array_of(r.reading.char_confidences))
      .set("retry", r.reading.retry);
}

std::vector<LabelledCaptcha> list_labelled_captchas(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(dir.string() + ": no such folder");
  std::vector<LabelledCaptcha> out;
  const auto csv = dir / "labels.csv";
  if (std::filesystem::exists(csv, ec)) {
    std::ifstream in(csv);
    std::string line;
    int row = 0;
    std::string header;
    while (std::getline(in, line)) {
      ++row;
      if (trim(line).empty()) continue;
      const auto comma = line.find(',');
      const std::string file = trim(line.substr(0, comma));
      const std::string digits = comma == std::string::npos ? "" : trim(line.substr(comma + 1));
      if (row == 1 && !all_digits(digits)) {  // a header row
        header = line;
        continue;
      }
      if (comma == std::string::npos || file.empty() || !all_digits(digits))
        throw std::runtime_error(csv.string() + ": row " + std::to_string(row) +
                                 " is not 'file,digits' (got '" + line + "')");
      out.push_back({dir / file, digits});
    }
    if (out.empty())
      throw std::runtime_error(csv.string() + ": no labelled rows" +
                               (header.empty() ? std::string() : " (row 1, '" + header + "', was taken as a header)"));
    return out;
  }
  for (const auto& file : captcha_image_files(dir)) {
    const std::string stem = file.stem().string();
    const auto us = stem.rfind('_');
    const std::string digits = us == std::string::npos ? "" : stem.substr(us + 1);
    if (!all_digits(digits))
      throw std::runtime_error(dir.string() + ": unknown label format: '" + file.filename().string() +
                               "' is not <anything>_<digits>.<ext> and there is no labels.csv");
    out.push_back({file, digits});
  }
  if (out.empty()) throw std::runtime_error(dir.string() + ": no labelled captchas (no image files, no labels.csv)");
  return out;
}

CaptchaEvalResult evaluate_captcha_folder(CaptchaReader& reader, const std::filesystem::path& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto labelled = list_labelled_captchas(dir);
  CaptchaEvalResult r;
  r.total = int64_t(labelled.size());
  std::vector<CaptchaReading> readings;
  std::vector<size_t> which;  // the labelled captcha of each reading
  std::vector<torch::Tensor> log_probs;  // kept for balancing, one per reading
  std::vector<torch::Tensor> features;   // kept for adapting, of the first readings
  const bool keep = reader.options().balance_ones_sevens && labelled.size() <= kKeepCaptchaLogProbsUpTo;
  const size_t chunk = 256;
  for (size_t i = 0; i < labelled.size(); i += chunk) {
    std::vector<cv::Mat> images;
    for (size_t j = i; j < std::min(labelled.size(), i + chunk); ++j) {
      r.chars += int64_t(labelled[j].digits.size());
      try {
        images.push_back(read_captcha_image(labelled[j].file));
        which.push_back(j);
      } catch (const std::exception& e) {
        r.errors.push_back(one_line(e));
      }
    }
    const bool keep_features = reader.options().adapt_output && features.size() < kKeepCaptchaFeaturesUpTo;
    for (auto& reading : reader.read(images, keep ? &log_probs : nullptr, keep_features ? &features : nullptr))
      readings.push_back(std::move(reading));
  }
  std::vector<CaptchaReading*> pointers;
  for (auto& reading : readings) pointers.push_back(&reading);
  r.settled = settle_captcha_folder(
      reader, pointers, [&](size_t k) { return read_captcha_image(labelled[which[k]].file); }, std::move(log_probs),
      features);
  for (size_t k = 0; k < readings.size(); ++k) {
    const auto& truth = labelled[which[k]].digits;
    const auto& got = readings[k];
    ++r.read;
    r.chars_correct += captcha_char_matches(got.text, truth);
    if (got.retry) {
      ++r.retry;
      if (got.text == truth) ++r.retry_correct;
    }
    if (got.text == truth) {
      ++r.correct;
    } else {
      r.mistakes.push_back({labelled[which[k]].file, truth, got.text, got.confidence});
      if (got.text.size() != truth.size()) ++r.wrong_length;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

int64_t captcha_char_matches(const std::string& predicted, const std::string& truth) {
  std::vector<size_t> prev(predicted.size() + 1), cur(predicted.size() + 1);
  for (size_t j = 0; j <= predicted.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= truth.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= predicted.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (truth[i - 1] == predicted[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return std::max<int64_t>(0, int64_t(truth.size()) - int64_t(prev[predicted.size()]));
}

}  // namespace digitnet
