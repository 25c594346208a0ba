#include "digitnet/augment.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace digitnet {
namespace {

// Uniform in [-a, a], one value per image: [B].
torch::Tensor symmetric(int64_t b, double a, const torch::TensorOptions& opts) {
  return (torch::rand({b}, opts) * 2.0 - 1.0) * a;
}

// Applies `f` to the images selected by a Bernoulli(p) draw; the others pass unchanged.
template <typename F>
torch::Tensor some(const torch::Tensor& x, double p, F f) {
  if (p <= 0.0) return x;
  const auto pick = (torch::rand({x.size(0), 1, 1, 1}, x.options()) < p).to(x.scalar_type());
  return x + pick * (f(x) - x);
}

}  // namespace

AugmentOptions augment_preset(const std::string& name) {
  if (name == "none") return AugmentOptions{0, 0, 0, 0, 0, 0, 0, 0};
  if (name == "mnist") return AugmentOptions{};
  if (name == "camera") {
    AugmentOptions o;
    o.rotation_deg = 15.0;
    o.scale = 0.15;
    o.shift = 0.12;
    o.stroke = 0.5;
    o.blur = 0.3;
    o.contrast = 0.3;
    o.noise = 0.08;
    return o;
  }
  throw std::invalid_argument("--augment must be none, mnist or camera, not '" + name + "'");
}

torch::Tensor augment_batch(const torch::Tensor& x, const AugmentOptions& o) {
  if (x.dim() != 4 || x.size(1) != 1)
    throw std::invalid_argument("augment_batch expects [B,1,H,W] images");
  const int64_t b = x.size(0);
  if (b == 0) return x;
  const auto opts = x.options();
  torch::Tensor out = x;

  if (o.rotation_deg > 0 || o.scale > 0 || o.shear > 0 || o.shift > 0) {
    // The affine grid maps output coordinates (-1..1) to input coordinates: theta = A^-1 for
    // the forward transform A = rotation * shear * zoom; sampling with theta directly gives the
    // same distribution, so it is drawn as is.
    const auto angle = symmetric(b, o.rotation_deg * M_PI / 180.0, opts);
    const auto zoom = 1.0 + symmetric(b, o.scale, opts);
    const auto shear = symmetric(b, o.shear, opts);
    const auto tx = symmetric(b, 2.0 * o.shift, opts);
    const auto ty = symmetric(b, 2.0 * o.shift, opts);
    const auto c = torch::cos(angle) / zoom, s = torch::sin(angle) / zoom;
    const auto theta = torch::stack({c, -s + shear * c, tx, s, c + shear * s, ty}, 1).view({b, 2, 3});
    const auto grid = torch::affine_grid_generator(theta, x.sizes(), /*align_corners=*/false);
    out = torch::grid_sampler(out, grid, /*interpolation bilinear*/ 0, /*padding zeros*/ 0,
                              /*align_corners=*/false);
  }
  out = some(out, o.stroke, [](const torch::Tensor& v) {
    // Half of the picked images get thicker strokes (dilation), half thinner (erosion).
    const auto dilated = torch::max_pool2d(v, 3, 1, 1);
    const auto eroded = -torch::max_pool2d(-v, 3, 1, 1);
    const auto thick = (torch::rand({v.size(0), 1, 1, 1}, v.options()) < 0.6).to(v.scalar_type());
    return thick * dilated + (1 - thick) * torch::max(eroded, v * 0.6);
  });
  out = some(out, o.blur, [](const torch::Tensor& v) {
    const auto k1 = torch::tensor({0.25, 0.5, 0.25}, v.options());
    const auto kernel = torch::outer(k1, k1).view({1, 1, 3, 3});
    return torch::conv2d(v, kernel, {}, 1, 1);
  });
  out = some(out, o.contrast, [](const torch::Tensor& v) {
    const auto n = v.size(0);
    const auto ink = 0.4 + 0.6 * torch::rand({n, 1, 1, 1}, v.options());
    const auto paper = 0.3 * torch::rand({n, 1, 1, 1}, v.options());
    return paper + v * (ink - paper).clamp_min(0.1);
  });
  if (o.noise > 0) {
    const auto sigma = torch::rand({b, 1, 1, 1}, opts) * o.noise;
    out = out + torch::randn_like(out) * sigma;
  }
  return out.clamp(0.0, 1.0);
}

}  // namespace digitnet
