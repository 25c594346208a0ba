#include "digitnet/vision/reader_data.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <random>
#include <string>
#include <tuple>
#include <stdexcept>

#include "digitnet/vision/preprocess.h"
#include "digitnet/vision/scene.h"

namespace digitnet::vision {

std::pair<torch::Tensor, torch::Tensor> make_reader_data(const torch::Tensor& images, const torch::Tensor& labels,
                                                         const ReaderDataOptions& options) {
  if (images.dim() != 3 || images.size(1) != 28 || images.size(2) != 28 || images.scalar_type() != torch::kUInt8)
    throw std::invalid_argument("make_reader_data: images must be uint8 [N,28,28]");
  if (labels.dim() != 1 || labels.size(0) != images.size(0))
    throw std::invalid_argument("make_reader_data: labels must be [N] like the images");
  if (options.copies < 0 || options.copies > 1000) throw std::invalid_argument("copies must be 0..1000");
  const auto src = images.contiguous();
  const auto lab = labels.to(torch::kInt64).contiguous();
  const int64_t n = src.size(0);
  const int64_t per = options.copies + (options.include_clean ? 1 : 0);
  const int64_t m = n * per;
  auto out = torch::empty({m, 28, 28}, torch::kUInt8);
  auto out_labels = torch::empty({m}, torch::kInt64);
  std::mt19937_64 rng(options.seed);
  cv::setRNGSeed(static_cast<int>(options.seed & 0x7fffffff));
  std::vector<int64_t> order(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(0, n - 1));
  const auto* base = src.data_ptr<uint8_t>();
  const auto* lp = lab.data_ptr<int64_t>();
  auto* lo = out_labels.data_ptr<int64_t>();
  cv::Mat canvas(28, 28, CV_32F);
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    const cv::Mat digit(28, 28, CV_8U, const_cast<uint8_t*>(base + i * 784));
    for (int64_t c = 0; c < per; ++c, ++k) {
      if (options.include_clean && c == 0) {
        canonicalize_into(digit, canvas, Polarity::kLightInk);
      } else {
        const cv::Mat neighbour(28, 28, CV_8U, const_cast<uint8_t*>(base + pick(rng) * 784));
        canonicalize_into(degrade_digit(digit, rng, &neighbour), canvas);
      }
      const int64_t slot = order[static_cast<size_t>(k)];
      cv::Mat dst(28, 28, CV_8U, out.data_ptr<uint8_t>() + slot * 784);
      canvas.convertTo(dst, CV_8U, 255.0);
      lo[slot] = lp[i];
    }
  }
  return {out, out_labels};
}

DatasetSplits make_reader_splits(const DatasetSplits& mnist, const ReaderDataOptions& options,
                                 double validation_fraction) {
  if (!(validation_fraction > 0.0 && validation_fraction <= 0.5))
    throw std::invalid_argument("the validation fraction must be in (0, 0.5]");
  const int64_t n = mnist.train.size();
  const auto held = static_cast<int64_t>(double(n) * validation_fraction);
  if (held < 1 || n - held < 1)
    throw std::invalid_argument("the train split of " + mnist.name + " has " + std::to_string(n) +
                                " images, too few to keep a validation part");
  const auto& x = mnist.train.images;
  const auto& y = mnist.train.labels;
  ReaderDataOptions train_options = options, validation_options = options;
  train_options.seed = options.seed + 1;
  validation_options.seed = options.seed + 2;
  validation_options.copies = 2;
  DatasetSplits out;
  out.name = "reader(" + mnist.name + ", " + std::to_string(options.copies) + " copies)";
  std::tie(out.train.images, out.train.labels) =
      make_reader_data(x.narrow(0, 0, n - held), y.narrow(0, 0, n - held), train_options);
  std::tie(out.test.images, out.test.labels) =
      make_reader_data(x.narrow(0, n - held, held), y.narrow(0, n - held, held), validation_options);
  return out;
}

}  // namespace digitnet::vision
