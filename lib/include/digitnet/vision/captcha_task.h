#pragma once
// Captcha training for the one training loop (trainer.h): endless synthetic captchas rendered
// in background threads into a bounded queue of ready batches, validation on fixed generated
// sets (in-style, and one per held-out style family), and fine-tuning on a small folder of
// labelled real captchas with augmentation, or on a site's unlabelled ones that the starting
// model reads confidently (self-training).

#include "digitnet/checkpoint.h"
#include "digitnet/models.h"
#include "digitnet/trainer.h"
#include "digitnet/vision/captcha.h"
#include "digitnet/vision/captcha_reader.h"

#include <torch/types.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace digitnet {

// Families held out of the default training run and scored separately: a TrueType family,
// a clutter kind and a warp (see captcha.h).
const std::vector<std::string>& default_held_out_families();

// Self-training needs at least this many captchas read confidently enough to label.
constexpr size_t kMinSelfLabelled = 20;

struct CaptchaTaskOptions {
  CaptchaNetOptions model;
  int min_length = 4;  // digits per training captcha
  int max_length = 8;
  std::vector<std::string> held_out = default_held_out_families();  // never in training
  // Families never drawn at all, in training or validation (a run limited to a subset of the
  // renderer's styles, e.g. the first stage of a two-stage schedule). Disjoint from held_out.
  std::vector<std::string> exclude;
  int64_t batch_size = 64;
  int64_t batches_per_epoch = 400;
  int64_t val_count = 1000;     // fixed in-style validation captchas
  int64_t heldout_count = 300;  // fixed validation captchas per held-out family
  // Data seed: batch b of epoch e is a pure function of (seed, e, b), so the queue runs ahead
  // across epoch boundaries and a resumed run sees the same captchas as an uninterrupted one.
  uint64_t seed = 0;
  int workers = 1;              // background render threads
  int64_t queue_batches = 8;    // ready batches the queue holds at most
  std::filesystem::path font_dir = "/usr/share/fonts";
  bool other_fonts = false;  // CaptchaOptions::other_fonts
  double mirror_confusing_leans = 0.0;  // CaptchaOptions::mirror_confusing_leans
  std::optional<double> mirror_footless_leans;  // CaptchaOptions::mirror_footless_leans
  std::filesystem::path handwriting_dir;  // CaptchaOptions::handwriting_dir
  double handwriting_share = 0.15;        // CaptchaOptions::handwriting_share
  // Start from `init_checkpoint`'s weights (its model options win) instead of random ones.
  // Fine-tuning: with `finetune_dir`, train on the labelled real captchas there
  // (list_labelled_captchas), with augmentation, mixed with synthetic ones; a fifth of the real
  // ones (at least one) is kept apart for validation.
  std::filesystem::path init_checkpoint;
  std::filesystem::path finetune_dir;
  // Self-training: the captchas of finetune_dir need no labels. init_checkpoint reads them
  // (self_label_captchas: three views, lengths settled, 1s and 7s balanced), and those it reads
  // at least self_train_confidence sure are fine-tuned on with its readings as labels.
  bool self_train = false;
  double self_train_confidence = 0.95;
  // Fine-tuning on captchas a caller has labelled already (train_on_site: a folder's own sure
  // readings), in place of finetune_dir: every one is trained on, none is kept apart, and the
  // rendered in-style set is the first validation set.
  std::vector<LabelledCaptcha> labelled;
  double synthetic_fraction = 0.5;  // of each fine-tuning batch
  torch::Device device = torch::kCPU;
};

// The manifest entries that rebuild a CaptchaNet ("model.height", ...), and back.
void put_captcha_net_options(Manifest& manifest, const CaptchaNetOptions& options);
// Throws std::runtime_error naming the key when one is missing or not a number.
CaptchaNetOptions captcha_net_options(const Manifest& manifest);

// Whole-string and per-character scores of readings against the truth.
struct CaptchaScore {
  int64_t total = 0, correct = 0, wrong_length = 0;
  int64_t chars = 0, chars_correct = 0;  // characters of the truth; matched ones (edit distance)
  void add(const std::string& predicted, const std::string& truth);
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
  double char_accuracy() const { return chars ? double(chars_correct) / double(chars) : 0.0; }
};

class CaptchaTask : public TrainTask {
 public:
  // Builds the model (or loads init_checkpoint), renders the validation sets and, for
  // fine-tuning, loads the real captchas. Throws std::invalid_argument for bad options and
  // std::runtime_error for an unreadable checkpoint or folder.
  explicit CaptchaTask(CaptchaTaskOptions options);
  ~CaptchaTask() override;
  CaptchaTask(const CaptchaTask&) = delete;
  CaptchaTask& operator=(const CaptchaTask&) = delete;

  torch::nn::Module& model() override { return *net_; }
  CaptchaNet& net() { return net_; }
  int64_t batches_per_epoch() override { return options_.batches_per_epoch; }
  // The trainer's per-epoch seed is not used: the data depends on options().seed (see there).
  void begin_epoch(int64_t epoch, uint64_t epoch_seed) override;
  torch::Tensor batch_loss(int64_t index, int64_t& samples) override;
  // "accuracy" (whole string) and "char_accuracy" on the in-style set, "loss"; with held-out
  // families also "heldout_accuracy", "heldout_char_accuracy" and "heldout.<family>".
  std::map<std::string, double> evaluate() override;
  Manifest manifest() override;
  double data_wait_seconds() override;

  // The batch the queue serves for (epoch, index) of `seed`: images [B,1,H,W], texts.
  struct Batch {
    torch::Tensor images;
    std::vector<std::string> texts;
  };
  Batch make_batch(uint64_t seed, int64_t id) const;
  const CaptchaTaskOptions& options() const { return options_; }
  // The renderer of the training batches (held-out and excluded families never drawn).
  const CaptchaGenerator& training_generator() const { return *train_gen_; }
  int64_t real_train_count() const { return int64_t(real_train_.size()); }
  // With self_train: image files in finetune_dir, and how many of them were read confidently
  // enough to label (real_train_count() plus the validation fifth).
  int64_t self_train_files() const { return self_train_files_; }
  int64_t self_labelled() const { return self_labelled_; }

 private:
  struct EvalSet {
    std::string name;
    torch::Tensor images;
    std::vector<std::string> texts;
  };
  EvalSet render_set(const std::string& name, const CaptchaOptions& gen, int64_t count) const;
  void restart_queue(int64_t first_id, uint64_t seed);
  void worker_loop();
  CaptchaScore score(const EvalSet& set, double* loss);

  CaptchaTaskOptions options_;
  CaptchaNet net_{nullptr};
  std::unique_ptr<CaptchaGenerator> train_gen_;
  std::vector<EvalSet> eval_sets_;  // [0] in-style, then one per held-out family
  std::vector<std::pair<cv::Mat, std::string>> real_train_, real_val_;  // grey images
  int64_t self_train_files_ = 0, self_labelled_ = 0;

  // The queue: batches by id (epoch * batches_per_epoch + index), made ahead in order.
  std::mutex mutex_;
  std::condition_variable made_, wanted_;
  std::map<int64_t, Batch> ready_;
  int64_t next_make_ = 0, next_take_ = 0;
  uint64_t generation_ = 0, seed_ = 0;
  bool started_ = false, stop_ = false;
  int64_t epoch_ = 0;
  double wait_s_ = 0.0;
  std::vector<std::thread> workers_;
};

}  // namespace digitnet
