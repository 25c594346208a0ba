#pragma once
// The one training loop for every task (MNIST, captchas, ...): AdamW with a one-cycle
// schedule, progress callbacks, per-epoch evaluation, an atomic checkpoint after every epoch
// and on a stop request, metrics.json, and --resume that continues exactly where a run stopped.
//
// Determinism: the data order of epoch e and the random state of batch b (augmentation,
// dropout) are derived from (seed, e, b), so a resumed run sees the same data in the same
// order as an uninterrupted one.

#include "digitnet/checkpoint.h"
#include "digitnet/json.h"

#include <torch/nn/module.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace digitnet {

// A task the trainer can train: its model, its data and its scoring.
class TrainTask {
 public:
  virtual ~TrainTask() = default;
  // The model, already on the task's device.
  virtual torch::nn::Module& model() = 0;
  virtual int64_t batches_per_epoch() = 0;
  // Prepares epoch `epoch` (0-based), e.g. a permutation drawn from `seed`.
  virtual void begin_epoch(int64_t epoch, uint64_t seed) = 0;
  // Forward pass and mean loss of batch `index` of the current epoch, in train mode; sets
  // `samples` to the number of samples in it. Random draws here use LibTorch's default
  // generator, which the trainer seeds before every batch.
  virtual torch::Tensor batch_loss(int64_t index, int64_t& samples) = 0;
  // Scores the model on held-out data; called in eval mode without gradients. Must set
  // "accuracy" (0..1); may set more ("loss", "char_accuracy", ...).
  virtual std::map<std::string, double> evaluate() = 0;
  // Kind, model options, normalisation, dataset: stored in every checkpoint. Entries that
  // start with "model." or "data." must match for --resume.
  virtual Manifest manifest() = 0;
  // Called once after the last epoch, before the final checkpoint (e.g. to fit a temperature
  // into the manifest).
  virtual void finish() {}
  // Seconds the loop has spent waiting for data so far (0 for in-memory datasets).
  virtual double data_wait_seconds() { return 0.0; }
};

struct TrainOptions {
  int64_t epochs = 10;
  double lr = 3e-3;             // peak learning rate of the one-cycle schedule
  double weight_decay = 5e-4;   // AdamW's decoupled weight decay
  int64_t batch_size = 128;     // recorded in the manifest; the task slices its batches by it
  uint64_t seed = 0;
  std::filesystem::path out_dir;  // model.pt and metrics.json are written here
  bool resume = false;            // continue from out_dir/model.pt
  const std::atomic<bool>* stop = nullptr;  // when it turns true: checkpoint and return
  double progress_interval_s = 0.25;        // how often on_progress is called at most
  bool channels_last = true;                // CPU convolution weights NHWC (use_channels_last)
};

struct TrainProgress {
  int64_t epoch = 0, epochs = 0;    // 1-based epoch
  int64_t batch = 0, batches = 0;   // batches done in this epoch
  double loss = 0.0;                // running mean of this epoch
  double samples_per_s = 0.0;
  double eta_s = 0.0;               // whole run
  double lr = 0.0;
  double data_wait_s = 0.0;
};

struct EpochStats {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0.0;
  std::map<std::string, double> eval;
  double seconds = 0.0;       // training and evaluation of this epoch
  double elapsed_s = 0.0;     // since the start of the run (resumed runs add up)
  double samples_per_s = 0.0;
  double lr = 0.0;            // at the end of the epoch
  double data_wait_s = 0.0;
};

struct TrainResult {
  std::vector<EpochStats> history;  // every epoch so far, those before a resume included
  bool interrupted = false;         // stopped by `stop`; the checkpoint holds the position
  std::filesystem::path checkpoint;
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_progress;
  std::function<void(const EpochStats&, const std::vector<EpochStats>&)> on_epoch;
};

// Throws std::invalid_argument naming the flag (--epochs, --lr, --weight-decay, --batch-size,
// --out) for an option out of range; train() checks it first, and apps call it before they
// build a task, so that a bad flag is reported before any model or data is announced.
void check_train_options(const TrainOptions& options);

// Trains `task` as `options` say. Throws std::invalid_argument for bad options and
// std::runtime_error when --resume finds no checkpoint or one written with other options.
TrainResult train(TrainTask& task, const TrainOptions& options, const TrainCallbacks& callbacks = {});

// The learning rate of train()'s schedule when a fraction `t` (0..1) of the steps is done:
// a cosine warm-up from peak/25 to `peak` over the first quarter, then cosine annealing to
// peak/10^4.
double one_cycle_lr(double peak, double t);
// The run history as written to metrics.json.
Json history_json(const std::vector<EpochStats>& history);

// Writes metrics.json ({"complete", "manifest", "epochs": history_json}) atomically; train()
// writes it after every epoch. Throws std::runtime_error when the file cannot be written.
void write_metrics(const std::filesystem::path& file, const std::vector<EpochStats>& history,
                   const Manifest& manifest, bool complete);

}  // namespace digitnet
