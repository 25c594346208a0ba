#pragma once
// Training MnistNet on an in-memory digit dataset (MNIST, Fashion-MNIST, any IDX folder), as a
// TrainTask for trainer.h; and loading such a model back from its checkpoint.

#include "digitnet/augment.h"
#include "digitnet/checkpoint.h"
#include "digitnet/datasets.h"
#include "digitnet/models.h"
#include "digitnet/trainer.h"

#include <torch/types.h>

#include <filesystem>
#include <string>

namespace digitnet {

struct DigitTaskOptions {
  MnistNetOptions model;
  int64_t batch_size = 128;
  std::string augment = "mnist";  // augment_preset() name
  double label_smoothing = 0.1;   // of the training loss (the reported test loss has none)
  int64_t eval_batch_size = 1000;
};

class DigitTask : public TrainTask {
 public:
  // Moves both splits to `device` once (uint8, so 60,000 MNIST images take 47 MB).
  DigitTask(const DatasetSplits& data, const DigitTaskOptions& options, const torch::Device& device);

  torch::nn::Module& model() override { return *net_; }
  int64_t batches_per_epoch() override;
  void begin_epoch(int64_t epoch, uint64_t seed) override;
  torch::Tensor batch_loss(int64_t index, int64_t& samples) override;
  std::map<std::string, double> evaluate() override;
  Manifest manifest() override;
  // Fits the temperature on the test split's logits (one scalar; stored in the manifest).
  void finish() override;

  MnistNet& net() { return net_; }

 private:
  DigitTaskOptions options_;
  AugmentOptions augment_;
  torch::Device device_;
  std::string data_name_;
  torch::Tensor train_images_, train_labels_, test_images_, test_labels_;  // on device_
  torch::Tensor order_;  // this epoch's permutation of the training set
  MnistNet net_{nullptr};
  double temperature_ = 1.0;
};

// Logits of `images` (uint8 [N,H,W] or float [N,1,H,W] in 0..1, any device) in batches under
// InferenceMode on `device`: [N,10] float on the CPU.
torch::Tensor predict_logits(MnistNetImpl& net, const torch::Tensor& images, const torch::Device& device,
                             int64_t batch_size = 1000);

// MnistNet options as a manifest records them ("model.channels", ...), and back; absent keys
// keep the defaults, a value that is not a number is a std::runtime_error.
void write_model_options(Manifest& manifest, const MnistNetOptions& options);
MnistNetOptions read_model_options(const CheckpointReader& reader);

struct LoadedDigitModel {
  MnistNet net{nullptr};
  Manifest manifest;
  double temperature = 1.0;
};
// Loads a "mnist" checkpoint onto `device` in eval mode. Throws std::runtime_error naming the
// file when it is missing, corrupt or holds another kind of model.
LoadedDigitModel load_digit_model(const std::filesystem::path& file, const torch::Device& device);

}  // namespace digitnet
