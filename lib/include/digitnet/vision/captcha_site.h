#pragma once
// Teaching the captcha model one site's captchas without their labels. A folder from one site
// shares a face, a size and a kind of noise, and the model's sure readings of it are nearly all
// right (S2's at 0.95 of Gregwar's: 97%). A short fine-tuning of the whole model on them, each
// batch half the folder's sure captchas (augmented as --finetune does) and half rendered ones,
// teaches it that site, and the readings it was unsure of follow the sure ones. The folder is
// then read again with the trained model. The checkpoint is not changed. This is `--adapt auto`
// of digitnet-eval --task captcha and digitnet-read --captcha; `--adapt output` refits the
// output layer alone (settle_captcha_folder), which every reading does after either.

#include "digitnet/models.h"
#include "digitnet/vision/captcha_reader.h"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace digitnet {

// `--adapt`: how a folder adapts the model to itself.
enum class CaptchaAdaptation {
  off,     // read as the model reads
  output,  // the output layer refitted to the folder's sure readings (settle_captcha_folder)
  site,    // the whole model fine-tuned on them (learn_site), then the output layer as above
};
// "auto" -> site, "output", "off". Throws std::invalid_argument naming `flag` otherwise.
CaptchaAdaptation parse_captcha_adaptation(const std::string& text, const std::string& flag = "--adapt");

struct SiteTrainingOptions {
  int64_t batches = 60;  // of batch_size captchas: about 20 s on 2 CPU cores
  int64_t batch_size = 64;
  double lr = 3e-3;  // peak of the one-cycle schedule (one_cycle_lr), AdamW
  double weight_decay = 5e-4;
  double min_confidence = kAdaptMinConfidence;  // a sure reading: at least this, not marked retry
  int64_t min_labelled = kAdaptMinReadings;     // fewer sure readings: no training
  uint64_t seed = 0;  // the rendered captchas, the augmentation, the mix
};
// Throws std::invalid_argument for batches outside 1..10000, a batch size outside 1..4096, a
// learning rate or weight decay not finite and positive (decay: not negative), a confidence
// outside (0, 1] or min_labelled under 2.
void check_site_training_options(const SiteTrainingOptions& options);

// The sure readings of captchas read as one source, as their labels: each reading at least
// min_confidence sure and not marked retry. None when fewer than min_labelled are sure, or when
// the confident readings do not share one length (common_captcha_length finds none: captchas of
// mixed sources, which one face does not describe).
std::vector<LabelledCaptcha> site_labels(const std::vector<CaptchaFileResult>& results,
                                         const SiteTrainingOptions& options = {});

// `checkpoint`'s model fine-tuned on `labelled` (at least 2): options.batches batches, each
// half the labelled captchas (drawn at random, augmented) and half rendered by the training
// renderer (the default held-out families excluded), by CTC, with AdamW on a one-cycle
// schedule. Returned in eval mode on `device`. `progress(batch, batches)` is called after each
// batch. Throws std::runtime_error for an unreadable checkpoint or captcha file.
CaptchaNet train_on_site(const std::filesystem::path& checkpoint, const std::vector<LabelledCaptcha>& labelled,
                         const SiteTrainingOptions& options, const torch::Device& device,
                         const std::function<void(int64_t, int64_t)>& progress = {});

struct SiteTraining {
  int64_t files = 0;         // captchas read
  int64_t learned_from = 0;  // sure captchas trained on (0: not trained)
  double seconds = 0.0;      // reading, and training when it did
};
// Reads `file_or_dir` with `reader` as read_captcha_files does (one source, settled) and, when
// site_labels finds its sure readings, returns train_on_site's model of `checkpoint` (the
// reader's) trained on them; nullopt otherwise. `info`, when given, says what was done.
std::optional<CaptchaNet> learn_site(CaptchaReader& reader, const std::filesystem::path& checkpoint,
                                     const std::filesystem::path& file_or_dir, const SiteTrainingOptions& options,
                                     SiteTraining* info = nullptr,
                                     const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace digitnet
