#pragma once
// The ONE canonicalisation of a digit image, used both to prepare the reader's training data
// and at inference: any image region holding one digit becomes a 28x28 float image that looks
// like an MNIST digit. Steps, as MNIST was made:
//   1. grey (BGR/BGRA are converted; 16-bit and float are scaled to 0..255);
//   2. automatic polarity: the background is estimated from the border of the region, and the
//      image is inverted when it is lighter than the ink (dark ink on paper -> white on black);
//   3. contrast normalisation: the ink level (median of the pixels above Otsu's threshold) maps
//      to 1, the paper level plus a third of the range to 0, clipped, so faint photos and
//      uneven light give the same strokes as a clean scan;
//   4. specks (components under 5% of the largest ink component) are removed;
//   5. crop to the ink, longest side scaled to 20 px keeping the aspect ratio;
//   6. placed in 28x28 so that the centre of mass is at the centre (14, 14).
// Output: white ink on black, values 0..1. A region without ink gives all zeros.

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <vector>

namespace digitnet::vision {

constexpr int kCanvasSize = 28;  // MNIST image side
constexpr int kDigitBox = 20;    // longest side of the digit inside it

enum class Polarity { kAuto, kDarkInk, kLightInk };

// One region -> CV_32F 28x28 written into `out` (which may wrap tensor memory; it must be a
// 28x28 CV_32F matrix). Returns false when the region holds no ink (out is all zeros).
// `core`, in region coordinates, is where the digit itself is (the segmenter's box inside a
// padded crop): ink components lying mostly outside it belong to neighbours and are dropped.
// Without a core, components that stay in the outer tenth of the region are dropped.
bool canonicalize_into(const cv::Mat& region, cv::Mat& out, Polarity polarity = Polarity::kAuto,
                       const cv::Rect& core = cv::Rect());

// One region -> CV_32F 28x28, 0..1.
cv::Mat canonicalize(const cv::Mat& region, Polarity polarity = Polarity::kAuto);

// One region -> float tensor [1,28,28].
torch::Tensor canonicalize_tensor(const cv::Mat& region, Polarity polarity = Polarity::kAuto);

// Every box of `image` canonicalised straight into one float tensor [N,1,28,28] (no copies
// between OpenCV and LibTorch). Boxes are clipped to the image. `cores`, when not empty, has
// one digit box per box, in image coordinates (see canonicalize_into).
torch::Tensor canonicalize_batch(const cv::Mat& image, const std::vector<cv::Rect>& boxes,
                                 Polarity polarity = Polarity::kAuto, const std::vector<cv::Rect>& cores = {});

// Converts any image to 8-bit grey (BGR, BGRA, 16-bit and float inputs accepted). Returns the
// input itself (no copy) when it is already 8-bit grey.
cv::Mat to_grey8(const cv::Mat& image);

// A [1,28,28] or [28,28] float tensor as an 8-bit 28x28 image (0..1 -> 0..255), for
// --dump-inputs and for writing training data.
cv::Mat tensor_to_image(const torch::Tensor& digit);

}  // namespace digitnet::vision
