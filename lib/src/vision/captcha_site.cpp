#include "digitnet/vision/captcha_site.h"

#include "digitnet/device.h"
#include "digitnet/trainer.h"
#include "digitnet/vision/captcha_task.h"

#include <opencv2/core/utility.hpp>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace digitnet {

CaptchaAdaptation parse_captcha_adaptation(const std::string& text, const std::string& flag) {
  const auto first = text.find_first_not_of(" \t");
  const auto last = text.find_last_not_of(" \t");
  const std::string t = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  if (t == "auto") return CaptchaAdaptation::site;
  if (t == "output") return CaptchaAdaptation::output;
  if (t == "off") return CaptchaAdaptation::off;
  throw std::invalid_argument(flag + " must be auto, output or off, not '" + text + "'");
}

void check_site_training_options(const SiteTrainingOptions& o) {
  if (o.batches < 1 || o.batches > 10000) throw std::invalid_argument("site training takes 1 to 10000 batches");
  if (o.batch_size < 1 || o.batch_size > 4096)
    throw std::invalid_argument("site training batch size must be between 1 and 4096");
  if (!(std::isfinite(o.lr) && o.lr > 0)) throw std::invalid_argument("site training learning rate must be positive");
  if (!(std::isfinite(o.weight_decay) && o.weight_decay >= 0))
    throw std::invalid_argument("site training weight decay must not be negative");
  if (!(o.min_confidence > 0 && o.min_confidence <= 1))
    throw std::invalid_argument("site training confidence must be within (0, 1]");
  if (o.min_labelled < 2) throw std::invalid_argument("site training needs at least 2 sure readings");
}

std::vector<LabelledCaptcha> site_labels(const std::vector<CaptchaFileResult>& results,
                                         const SiteTrainingOptions& options) {
  check_site_training_options(options);
  std::vector<CaptchaReading> readings;
  std::vector<LabelledCaptcha> sure;
  for (const auto& r : results) {
    if (!r.ok) continue;
    readings.push_back(r.reading);
    if (!r.reading.retry && !r.reading.text.empty() && r.reading.confidence >= options.min_confidence)
      sure.push_back({r.file, r.reading.text});
  }
  if (int64_t(sure.size()) < options.min_labelled || !common_captcha_length(readings).constrained()) return {};
  return sure;
}

CaptchaNet train_on_site(const std::filesystem::path& checkpoint, const std::vector<LabelledCaptcha>& labelled,
                         const SiteTrainingOptions& options, const torch::Device& device,
                         const std::function<void(int64_t, int64_t)>& progress) {
  check_site_training_options(options);
  CaptchaTaskOptions o;
  o.init_checkpoint = checkpoint;
  o.labelled = labelled;
  o.batch_size = options.batch_size;
  o.batches_per_epoch = options.batches;
  o.val_count = 1;  // the task's validation sets are never scored here
  o.heldout_count = 1;
  o.seed = options.seed;
  o.device = device;
  const int cv_threads = cv::getNumThreads();  // the task renders on its own threads, OpenCV on one
  CaptchaTask task(o);
  auto& model = task.model();
  use_channels_last(model);
  torch::optim::AdamW optimizer(model.parameters(),
                                torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));
  // train()'s step (trainer.h) without what a run keeps: nothing here is written to disk,
  // validated or resumed.
  task.begin_epoch(0, options.seed);
  model.train();
  for (int64_t b = 0; b < options.batches; ++b) {
    torch::manual_seed(options.seed * 1000003ULL + uint64_t(b));  // augmentation draws, per batch
    const double lr = one_cycle_lr(options.lr, double(b) / double(options.batches));
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimizer.zero_grad();
    int64_t samples = 0;
    task.batch_loss(b, samples).backward();
    optimizer.step();
    if (progress) progress(b + 1, options.batches);
  }
  model.eval();
  cv::setNumThreads(cv_threads);
  return task.net();
}

std::optional<CaptchaNet> learn_site(CaptchaReader& reader, const std::filesystem::path& checkpoint,
                                     const std::filesystem::path& file_or_dir, const SiteTrainingOptions& options,
                                     SiteTraining* info, const std::function<void(int64_t, int64_t)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = read_captcha_files(reader, file_or_dir);
  const auto labelled = site_labels(results, options);
  SiteTraining done;
  done.files = int64_t(results.size());
  std::optional<CaptchaNet> net;
  if (!labelled.empty()) {
    net = train_on_site(checkpoint, labelled, options, reader.device(), progress);
    done.learned_from = int64_t(labelled.size());
  }
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (info) *info = done;
  return net;
}

}  // namespace digitnet
