#pragma once
// Reading image files safely: the header is checked before anything is decoded, so a 0-byte
// file, a file that is not an image or an image too large to be sane is refused with one clear
// message instead of a crash or gigabytes of memory. Formats: PNG, JPEG, BMP, PGM/PPM, WebP.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace digitnet::vision {

struct ImageLimits {
  uintmax_t max_bytes = 256ull << 20;  // 256 MiB file size
  int64_t max_pixels = 50'000'000;     // 50 megapixels (a 8660x5773 photo), width x height
};

struct ImageHeader {
  std::string format;  // "png", "jpeg", "bmp", "pnm", "webp"
  int width = 0, height = 0;
};

// The format and size from the first bytes of `file`. Throws std::runtime_error naming the
// file when it is missing, empty, not an image of a known format or its header is corrupt.
ImageHeader read_image_header(const std::filesystem::path& file);

// Checks the header and the limits, then decodes as BGR. Throws std::runtime_error naming
// the file and the limit when refused, or when decoding fails (truncated, corrupt).
cv::Mat load_image(const std::filesystem::path& file, const ImageLimits& limits = {});

// True when the name ends in an image extension this module reads.
bool has_image_extension(const std::filesystem::path& file);

}  // namespace digitnet::vision
