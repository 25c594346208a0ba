#pragma once
// Weights plus metadata in one file. Writes are atomic (temporary file, fsync, rename), so
// a failed save (full disk, Ctrl-C) leaves the previous checkpoint as it was. Tensors are
// stored on the CPU and load onto whatever device the module lives on.

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace digitnet {

// What a checkpoint says about itself: "kind" (xor, mnist, captcha) and the options needed
// to rebuild the model, normalisation, dataset, seed, versions. Values are one line each.
using Manifest = std::map<std::string, std::string>;

// A manifest with "kind", "torch_version" and "digitnet_format" filled in.
Manifest new_manifest(const std::string& kind);

// Writes `model`'s parameters and buffers and `manifest` to `file` atomically. `extra`, if
// given, adds more entries (optimizer state, epoch) to the archive before it is written.
// Throws std::runtime_error naming the file when it cannot be written completely.
void save_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                     const Manifest& manifest,
                     const std::function<void(torch::serialize::OutputArchive&)>& extra = {});

// An opened checkpoint. Opening throws std::runtime_error naming the file when it is missing,
// truncated, corrupt or not a digitnet checkpoint.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::filesystem::path& file);

  const Manifest& manifest() const { return manifest_; }
  // The manifest value for `key`; throws std::runtime_error if it is absent.
  const std::string& get(const std::string& key) const;
  // Throws std::runtime_error unless the manifest's kind is `kind`.
  void expect_kind(const std::string& kind) const;

  // Copies every parameter and buffer of `model` from the file, checking that each is present
  // with the same shape; the module keeps its device. Throws std::runtime_error otherwise.
  void load_weights(torch::nn::Module& model);
  // A nested archive written by `extra`; false if absent.
  bool read_archive(const std::string& key, torch::serialize::InputArchive& out);
  torch::serialize::InputArchive& archive() { return *archive_; }

 private:
  std::filesystem::path file_;
  std::unique_ptr<torch::serialize::InputArchive> archive_;
  Manifest manifest_;
};

// Sets `model`'s parameters and floating-point buffers (BatchNorm's running statistics) to
// their mean over `files`, the checkpoints of runs that started from one set of weights (a
// "model soup": fine-tunings of one model average into one that generalises better than
// each). Integer buffers are the first file's. Every file must have the first's manifest
// "kind" and "model.*" entries. Returns the first file's manifest. Throws
// std::invalid_argument for fewer than two files, std::runtime_error naming the file that
// cannot be read or differs.
Manifest average_checkpoints(const std::vector<std::filesystem::path>& files, torch::nn::Module& model);

// The message of any exception on one line (LibTorch's errors carry backtraces).
std::string one_line(const std::exception& e);

}  // namespace digitnet
