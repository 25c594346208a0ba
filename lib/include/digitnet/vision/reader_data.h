#pragma once
// The reader's training data: MNIST digits degraded the way cameras degrade them
// (scene.h's degrade_digit: stroke width, scale, rotation, blur, contrast, light, noise, JPEG,
// crop offsets, a neighbour's stroke at the edge) and then put through THE canonicalisation of
// preprocess.h, so the model trains on exactly what the reader will show it.

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

}  // namespace digitnet::vision
