#pragma once
// Batch-level random distortions of digit images, on whatever device the batch lives on:
// one affine grid per image (rotation, scale, shear, shift) sampled in a single grid_sample
// call, plus optional camera-like degradations (stroke width, blur, contrast, noise).
// Random draws use LibTorch's default generator (the trainer seeds it per batch).

#include <torch/types.h>

namespace digitnet {

struct AugmentOptions {
  double rotation_deg = 12.0;  // uniform in +-rotation_deg
  double scale = 0.12;         // zoom factor uniform in [1 - scale, 1 + scale]
  double shear = 0.15;         // shear factor uniform in +-shear
  double shift = 0.10;         // translation, fraction of the image side, +-shift
  // Camera-like degradations, each applied to a random part of the batch (0 disables).
  double stroke = 0.0;         // probability of thickening (dilate) or thinning (erode) strokes
  double blur = 0.0;           // probability of a 3x3 Gaussian blur
  double contrast = 0.0;       // probability of a lowered contrast (ink 0.4..1, paper 0..0.3)
  double noise = 0.0;          // Gaussian pixel noise sigma, uniform in [0, noise]
};

// The presets digitnet-train offers: "none", "mnist" (affine only) and "camera" (affine and
// every degradation). Throws std::invalid_argument for another name.
AugmentOptions augment_preset(const std::string& name);

// x: [B,1,H,W] float in 0..1 (white ink on black). Returns a distorted copy, same shape,
// clamped to 0..1.
torch::Tensor augment_batch(const torch::Tensor& x, const AugmentOptions& options);

}  // namespace digitnet
