#pragma once
// The reader's training data: MNIST digits degraded the way cameras degrade them
// (scene.h's degrade_digit: stroke width, scale, rotation, blur, contrast, light, noise, JPEG,
// crop offsets, a neighbour's stroke at the edge) and then put through THE canonicalisation of
// preprocess.h, so the model trains on exactly what the reader will show it.

#include "digitnet/datasets.h"

#include <torch/types.h>

#include <cstdint>

namespace digitnet::vision {

struct ReaderDataOptions {
  int copies = 4;           // degraded versions of every digit
  bool include_clean = true;  // plus the digit itself, canonicalised
  uint64_t seed = 0;
};

// images: uint8 [N,28,28] white on black; labels: int64 [N]. Returns uint8 [M,28,28] and
// int64 [M] with M = N * (copies + include_clean), in a seeded shuffled order.
std::pair<torch::Tensor, torch::Tensor> make_reader_data(const torch::Tensor& images, const torch::Tensor& labels,
                                                         const ReaderDataOptions& options = {});

// The reader's training and validation splits, as `digitnet-train --task reader` trains
// them: the last `validation_fraction` of `mnist.train` becomes the validation split (stored
// as `test`, where DigitTask scores and fits its temperature), degraded with 2 copies drawn
// from seed + 2; the rest is the training split with `options.copies` drawn from seed + 1.
// `mnist.test` is never used: it stays for the honest evaluation on scenes. Throws
// std::invalid_argument for a fraction outside (0, 0.5] or a train split too small to split.
DatasetSplits make_reader_splits(const DatasetSplits& mnist, const ReaderDataOptions& options,
                                 double validation_fraction = 0.1);

}  // namespace digitnet::vision
