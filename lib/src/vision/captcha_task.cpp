#include "digitnet/vision/captcha_task.h"

#include "digitnet/vision/captcha_reader.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/nn/utils.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>

namespace digitnet {
namespace {

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

int64_t manifest_int(const Manifest& m, const std::string& key) {
  const auto it = m.find(key);
  if (it == m.end()) throw std::runtime_error("captcha checkpoint lacks '" + key + "' in its manifest");
  try {
    size_t used = 0;
    const int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("captcha checkpoint has a bad '" + key + "': '" + it->second + "'");
}

// Random photometric and geometric changes to a real grey captcha, for fine-tuning.
cv::Mat augment(const cv::Mat& grey, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto r = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };
  const cv::Point2f c(grey.cols / 2.0f, grey.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(c, r(-4, 4), r(0.9, 1.08));
  m.at<double>(0, 1) += r(-0.12, 0.12);  // shear
  m.at<double>(0, 2) += r(-0.04, 0.04) * grey.cols;
  m.at<double>(1, 2) += r(-0.08, 0.08) * grey.rows;
  cv::Mat out;
  cv::warpAffine(grey, out, m, grey.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  out.convertTo(out, CV_8U, r(0.7, 1.3), r(-30, 30));
  if (u(rng) < 0.3) cv::GaussianBlur(out, out, cv::Size(0, 0), r(0.4, 1.2));
  if (u(rng) < 0.3) {
    cv::Mat noise(out.size(), CV_16S);
    cv::randn(noise, 0, r(3, 15));
    cv::Mat wide;
    out.convertTo(wide, CV_16S);
    wide += noise;
    wide.convertTo(out, CV_8U);
  }
  if (u(rng) < 0.15) out = 255 - out;
  return out;
}

}  // namespace

const std::vector<std::string>& default_held_out_families() {
  static const std::vector<std::string> families = {"freefont", "grid", "perspective"};
  return families;
}

void put_captcha_net_options(Manifest& manifest, const CaptchaNetOptions& o) {
  manifest["model.height"] = std::to_string(o.height);
  manifest["model.width"] = std::to_string(o.width);
  manifest["model.channels"] = std::to_string(o.channels);
  manifest["model.hidden"] = std::to_string(o.hidden);
  manifest["model.dropout"] = std::to_string(o.dropout);
}

CaptchaNetOptions captcha_net_options(const Manifest& manifest) {
  CaptchaNetOptions o;
  o.height = manifest_int(manifest, "model.height");
  o.width = manifest_int(manifest, "model.width");
  o.channels = manifest_int(manifest, "model.channels");
  o.hidden = manifest_int(manifest, "model.hidden");
  const auto it = manifest.find("model.dropout");
  if (it != manifest.end()) o.dropout = std::atof(it->second.c_str());
  try {
    validate(o);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("captcha checkpoint has bad model options: ") + e.what());
  }
  return o;
}

void CaptchaScore::add(const std::string& predicted, const std::string& truth) {
  ++total;
  correct += predicted == truth;
  wrong_length += predicted.size() != truth.size();
  chars += int64_t(truth.size());
  chars_correct += captcha_char_matches(predicted, truth);
}

CaptchaTask::CaptchaTask(CaptchaTaskOptions options) : options_(std::move(options)) {
  if (options_.batch_size < 1 || options_.batch_size > 4096)
    throw std::invalid_argument("captcha batch size must be between 1 and 4096");
  if (options_.batches_per_epoch < 1) throw std::invalid_argument("captcha batches per epoch must be positive");
  if (options_.val_count < 1) throw std::invalid_argument("captcha validation count must be positive");
  if (options_.workers < 1 || options_.workers > 64)
    throw std::invalid_argument("captcha render workers must be between 1 and 64");
  if (options_.queue_batches < 1) throw std::invalid_argument("captcha queue must hold at least one batch");
  if (!(options_.synthetic_fraction >= 0.0 && options_.synthetic_fraction <= 1.0))
    throw std::invalid_argument("synthetic fraction must be within 0..1");
  if (options_.self_train && (options_.finetune_dir.empty() || options_.init_checkpoint.empty()))
    throw std::invalid_argument("self-training needs a starting checkpoint and a folder of the site's captchas");
  if (!(options_.self_train_confidence > 0.0 && options_.self_train_confidence <= 1.0))
    throw std::invalid_argument("self-training confidence must be within (0, 1]");
  for (const auto& f : options_.exclude)
    if (std::find(options_.held_out.begin(), options_.held_out.end(), f) != options_.held_out.end())
      throw std::invalid_argument("captcha style family '" + f + "' is both held out and excluded");
  // OpenCV's own thread pool would fight LibTorch's for the cores; the render threads are
  // the parallelism here.
  cv::setNumThreads(1);

  Manifest init;
  if (!options_.init_checkpoint.empty()) {
    CheckpointReader reader(options_.init_checkpoint);
    reader.expect_kind("captcha");
    options_.model = captcha_net_options(reader.manifest());
    net_ = CaptchaNet(options_.model);
    reader.load_weights(*net_);
  } else {
    net_ = CaptchaNet(options_.model);
  }
  net_->to(options_.device);

  CaptchaOptions gen;
  gen.random_size = true;
  gen.min_length = options_.min_length;
  gen.max_length = options_.max_length;
  gen.exclude = options_.held_out;
  gen.exclude.insert(gen.exclude.end(), options_.exclude.begin(), options_.exclude.end());
  gen.font_dir = options_.font_dir;
  gen.other_fonts = options_.other_fonts;
  gen.mirror_confusing_leans = options_.mirror_confusing_leans;
  gen.mirror_footless_leans = options_.mirror_footless_leans;
  gen.handwriting_dir = options_.handwriting_dir;
  gen.handwriting_share = options_.handwriting_share;
  gen.seed = 1;  // replaced per epoch seed in make_batch
  train_gen_ = std::make_unique<CaptchaGenerator>(gen);

  if (!options_.labelled.empty() && !options_.finetune_dir.empty())
    throw std::invalid_argument("fine-tuning takes a folder or captchas labelled already, not both");
  if (!options_.finetune_dir.empty() || !options_.labelled.empty()) {
    std::vector<LabelledCaptcha> labelled;
    const bool given = !options_.labelled.empty();
    if (given) {
      labelled = options_.labelled;
    } else if (options_.self_train) {
      CaptchaReaderOptions read;
      read.length = parse_captcha_length("auto");
      CaptchaReader reader(options_.init_checkpoint, options_.device, read);
      auto self = self_label_captchas(reader, options_.finetune_dir, options_.self_train_confidence);
      self_train_files_ = self.files;
      self_labelled_ = int64_t(self.labelled.size());
      if (self.labelled.size() < kMinSelfLabelled)
        throw std::runtime_error(options_.finetune_dir.string() + ": " + std::to_string(self.labelled.size()) + " of " +
                                 std::to_string(self.files) + " captchas read at least " +
                                 std::to_string(int(std::lround(100 * options_.self_train_confidence))) +
                                 "% sure" +
                                 (self.unreadable ? " (" + std::to_string(self.unreadable) + " could not be read)" : "") +
                                 "; self-training needs " + std::to_string(kMinSelfLabelled) +
                                 " (a few hundred captchas of the site are typical)");
      labelled = std::move(self.labelled);
    } else {
      labelled = list_labelled_captchas(options_.finetune_dir);
    }
    if (labelled.size() < 2)
      throw std::runtime_error(options_.finetune_dir.string() + " holds " + std::to_string(labelled.size()) +
                               " labelled captchas; fine-tuning needs at least 2 (50 to 200 is typical)");
    std::mt19937_64 rng(12345);
    std::shuffle(labelled.begin(), labelled.end(), rng);
    const size_t n_val = given ? 0 : std::max<size_t>(1, labelled.size() / 5);
    for (size_t i = 0; i < labelled.size(); ++i) {
      auto item = std::make_pair(captcha_grey(read_captcha_image(labelled[i].file)), labelled[i].digits);
      (i < n_val ? real_val_ : real_train_).push_back(std::move(item));
    }
  }
  if (!real_val_.empty()) {
    EvalSet real{"real", {}, {}};
    std::vector<torch::Tensor> images;
    for (const auto& [img, text] : real_val_) {
      images.push_back(captcha_input(img, options_.model.height, options_.model.width));
      real.texts.push_back(text);
    }
    real.images = torch::stack(images);
    eval_sets_.push_back(std::move(real));
  }
  // Fixed validation sets, each from its own seed, never used for training.
  CaptchaOptions val = gen;
  val.seed = 0xDA7A5E7ULL;
  eval_sets_.push_back(render_set("in-style", val, options_.val_count));
  for (size_t i = 0; i < options_.held_out.size(); ++i) {
    CaptchaOptions h = gen;
    h.seed = 0x4E1D0ULL + i;
    h.exclude = options_.exclude;
    for (const auto& f : options_.held_out)
      if (f != options_.held_out[i]) h.exclude.push_back(f);
    h.require = {options_.held_out[i]};
    eval_sets_.push_back(render_set(options_.held_out[i], h, options_.heldout_count));
  }
}

CaptchaTask::~CaptchaTask() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wanted_.notify_all();
  made_.notify_all();
  for (auto& t : workers_) t.join();
}

CaptchaTask::EvalSet CaptchaTask::render_set(const std::string& name, const CaptchaOptions& gen,
                                             int64_t count) const {
  const CaptchaGenerator generator(gen);
  EvalSet set{name, torch::empty({count, 1, options_.model.height, options_.model.width}), {}};
  set.texts.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i) {
    const auto c = generator.generate(uint64_t(i));
    set.images[i] = captcha_input(captcha_grey(c.image), options_.model.height, options_.model.width);
    set.texts[size_t(i)] = c.text;
  }
  return set;
}

CaptchaTask::Batch CaptchaTask::make_batch(uint64_t seed, int64_t id) const {
  const int64_t b = options_.batch_size;
  Batch batch{torch::empty({b, 1, options_.model.height, options_.model.width}), {}};
  batch.texts.resize(size_t(b));
  CaptchaOptions gen = train_gen_->options();
  gen.seed = mix(seed, 0x7EA1);
  // The task's one generator (font discovery is slow) with indices hashed from (seed, id, j).
  std::mt19937_64 rng(mix(seed, uint64_t(id)));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t j = 0; j < b; ++j) {
    cv::Mat grey;
    std::string text;
    if (!real_train_.empty() && u(rng) >= options_.synthetic_fraction) {
      const auto& item = real_train_[rng() % real_train_.size()];
      grey = augment(item.first, rng);
      text = item.second;
    } else {
      const auto c = train_gen_->generate(mix(gen.seed, uint64_t(id * b + j)));
      grey = captcha_grey(c.image);
      text = c.text;
    }
    batch.images[j] = captcha_input(grey, options_.model.height, options_.model.width);
    batch.texts[size_t(j)] = text;
  }
  return batch;
}

void CaptchaTask::worker_loop() {
  for (;;) {
    int64_t id;
    uint64_t generation, seed;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wanted_.wait(lock, [&] { return stop_ || next_make_ < next_take_ + options_.queue_batches; });
      if (stop_) return;
      id = next_make_++;
      generation = generation_;
      seed = seed_;
    }
    Batch batch = make_batch(seed, id);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (generation == generation_ && id >= next_take_) ready_.emplace(id, std::move(batch));
    }
    made_.notify_all();
  }
}

void CaptchaTask::restart_queue(int64_t first_id, uint64_t seed) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    ready_.clear();
    next_make_ = next_take_ = first_id;
    seed_ = seed;
    if (!started_) {
      started_ = true;
      for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
    }
  }
  wanted_.notify_all();
}

void CaptchaTask::begin_epoch(int64_t epoch, uint64_t /*epoch_seed*/) {
  epoch_ = epoch;
  const int64_t first = epoch * options_.batches_per_epoch;
  bool in_step;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_step = started_ && next_take_ == first;
  }
  // When the run goes on in order, this epoch's first batches are already made.
  if (!in_step) restart_queue(first, options_.seed);
}

torch::Tensor CaptchaTask::batch_loss(int64_t index, int64_t& samples) {
  if (index < 0 || index >= options_.batches_per_epoch)
    throw std::invalid_argument("captcha batch index " + std::to_string(index) + " out of range");
  if (!started_) restart_queue(epoch_ * options_.batches_per_epoch, options_.seed);
  const int64_t id = epoch_ * options_.batches_per_epoch + index;
  Batch batch;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (id != next_take_ && ready_.find(id) == ready_.end()) {
      lock.unlock();
      restart_queue(id, seed_);
      lock.lock();
    }
    const auto t0 = std::chrono::steady_clock::now();
    made_.wait(lock, [&] { return ready_.count(id) > 0; });
    wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    batch = std::move(ready_.at(id));
    ready_.erase(ready_.begin(), ready_.upper_bound(id));
    next_take_ = id + 1;
  }
  wanted_.notify_all();
  samples = int64_t(batch.texts.size());
  const auto log_probs = net_->forward(batch.images.to(options_.device));
  return captcha_ctc_loss(log_probs, batch.texts);
}

CaptchaScore CaptchaTask::score(const EvalSet& set, double* loss) {
  CaptchaScore s;
  double loss_sum = 0.0;
  const int64_t n = set.images.size(0);
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t end = std::min(n, i + 256);
    const auto log_probs = net_->forward(set.images.slice(0, i, end).to(options_.device));
    const std::vector<std::string> texts(set.texts.begin() + i, set.texts.begin() + end);
    if (loss) loss_sum += captcha_ctc_loss(log_probs, texts).item<double>() * double(end - i);
    const auto readings = ctc_decode_batch(log_probs);
    for (int64_t j = 0; j < end - i; ++j) s.add(readings[size_t(j)].text, texts[size_t(j)]);
  }
  if (loss) *loss = n ? loss_sum / double(n) : 0.0;
  return s;
}

std::map<std::string, double> CaptchaTask::evaluate() {
  std::map<std::string, double> out;
  CaptchaScore held;
  bool main_done = false;
  for (const auto& set : eval_sets_) {
    double loss = 0.0;
    // The first set is the one "accuracy" reports: the real captchas when fine-tuning.
    const bool main = !main_done;
    const auto s = score(set, main ? &loss : nullptr);
    if (main) {
      out["accuracy"] = s.accuracy();
      out["char_accuracy"] = s.char_accuracy();
      out["loss"] = loss;
      main_done = true;
      continue;
    }
    if (set.name == "in-style") {
      out["synthetic_accuracy"] = s.accuracy();
      continue;
    }
    out["heldout." + set.name] = s.accuracy();
    held.total += s.total;
    held.correct += s.correct;
    held.chars += s.chars;
    held.chars_correct += s.chars_correct;
  }
  if (held.total) {
    out["heldout_accuracy"] = held.accuracy();
    out["heldout_char_accuracy"] = held.char_accuracy();
  }
  return out;
}

Manifest CaptchaTask::manifest() {
  Manifest m = new_manifest("captcha");
  put_captcha_net_options(m, options_.model);
  m["data.source"] = !options_.labelled.empty()       ? "site: " + std::to_string(options_.labelled.size()) + " captchas"
                     : options_.finetune_dir.empty() ? "synthetic"
                     : (options_.self_train ? "self-train:" : "finetune:") + options_.finetune_dir.string();
  if (options_.self_train) {
    m["data.self_train_confidence"] = std::to_string(options_.self_train_confidence);
    m["self_labelled"] = std::to_string(self_labelled_) + " of " + std::to_string(self_train_files_);
  }
  m["data.length"] = std::to_string(options_.min_length) + "-" + std::to_string(options_.max_length);
  m["data.held_out"] = join(options_.held_out);
  if (!options_.exclude.empty()) m["data.exclude"] = join(options_.exclude);
  if (options_.other_fonts) m["data.other_fonts"] = "1";
  if (options_.mirror_confusing_leans > 0) m["data.mirror_confusing_leans"] = std::to_string(options_.mirror_confusing_leans);
  if (options_.mirror_footless_leans)
    m["data.mirror_footless_leans"] = std::to_string(*options_.mirror_footless_leans);
  if (!options_.handwriting_dir.empty()) {
    m["data.handwriting"] = options_.handwriting_dir.string();
    m["data.handwriting_share"] = std::to_string(options_.handwriting_share);
  }
  m["data.batches_per_epoch"] = std::to_string(options_.batches_per_epoch);
  m["data.seed"] = std::to_string(options_.seed);
  m["input"] = "grey 0..1, resized to model.height x model.width, standardised per image";
  if (!options_.init_checkpoint.empty())
    m[options_.finetune_dir.empty() && options_.labelled.empty() ? "initialised_from" : "finetuned_from"] =
        options_.init_checkpoint.string();
  return m;
}

double CaptchaTask::data_wait_seconds() {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_s_;
}

}  // namespace digitnet
