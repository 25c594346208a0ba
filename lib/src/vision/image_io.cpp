#include "digitnet/vision/image_io.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace digitnet::vision {
namespace {

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }
uint32_t le24(const uint8_t* p) { return uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

// JPEG: walk the markers to the first start-of-frame; reads at most a few MB of header.
bool jpeg_size(std::ifstream& in, ImageHeader& h) {
  in.seekg(2);
  for (int markers = 0; markers < 10000; ++markers) {
    uint8_t m[4];
    if (!in.read(reinterpret_cast<char*>(m), 2)) return false;
    while (m[0] == 0xFF && m[1] == 0xFF) {  // fill bytes
      if (!in.read(reinterpret_cast<char*>(m + 1), 1)) return false;
    }
    if (m[0] != 0xFF) return false;
    const uint8_t type = m[1];
    if (type == 0xD8 || (type >= 0xD0 && type <= 0xD7) || type == 0x01) continue;
    if (!in.read(reinterpret_cast<char*>(m), 2)) return false;
    const uint16_t len = be16(m);
    if (len < 2) return false;
    const bool sof = type >= 0xC0 && type <= 0xCF && type != 0xC4 && type != 0xC8 && type != 0xCC;
    if (sof) {
      uint8_t f[5];
      if (!in.read(reinterpret_cast<char*>(f), 5)) return false;
      h.height = be16(f + 1);
      h.width = be16(f + 3);
      return true;
    }
    in.seekg(len - 2, std::ios::cur);
  }
  return false;
}

// PGM/PPM/PBM: "P5 <w> <h> ..." with comments.
bool pnm_size(std::ifstream& in, ImageHeader& h) {
  in.seekg(2);
  int values[2];
  for (int& v : values) {
    int c = in.get();
    while (c != EOF && (std::isspace(c) || c == '#')) {
      if (c == '#')
        while (c != EOF && c != '\n') c = in.get();
      c = in.get();
    }
    if (c == EOF || !std::isdigit(c)) return false;
    long long n = 0;
    while (c != EOF && std::isdigit(c) && n < (1LL << 40)) {
      n = n * 10 + (c - '0');
      c = in.get();
    }
    if (n > (1LL << 31) - 1) return false;
    v = int(n);
  }
  h.width = values[0];
  h.height = values[1];
  return true;
}

}  // namespace

bool has_image_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  static const char* const kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pbm", ".pnm", ".webp"};
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* e) { return ext == e; });
}

ImageHeader read_image_header(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) fail(file, "not found");
  if (std::filesystem::is_directory(file, ec)) fail(file, "is a folder, not an image");
  if (std::filesystem::file_size(file, ec) == 0) fail(file, "empty file (0 bytes), not an image");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot be opened");
  uint8_t b[32] = {0};
  in.read(reinterpret_cast<char*>(b), sizeof b);
  const auto got = in.gcount();
  in.clear();
  ImageHeader h;
  if (got >= 24 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
    if (std::memcmp(b + 12, "IHDR", 4) != 0) fail(file, "corrupt PNG header");
    h.format = "png";
    h.width = int(std::min<uint32_t>(be32(b + 16), 0x7fffffff));
    h.height = int(std::min<uint32_t>(be32(b + 20), 0x7fffffff));
  } else if (got >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    h.format = "jpeg";
    if (!jpeg_size(in, h)) fail(file, "corrupt or truncated JPEG header");
  } else if (got >= 26 && b[0] == 'B' && b[1] == 'M') {
    h.format = "bmp";
    const auto w = int32_t(le32(b + 18)), ht = int32_t(le32(b + 22));
    h.width = w == INT32_MIN ? 0 : std::abs(w);
    h.height = ht == INT32_MIN ? 0 : std::abs(ht);
  } else if (got >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') {
    h.format = "pnm";
    if (!pnm_size(in, h)) fail(file, "corrupt PNM header");
  } else if (got >= 30 && std::memcmp(b, "RIFF", 4) == 0 && std::memcmp(b + 8, "WEBP", 4) == 0) {
    h.format = "webp";
    if (std::memcmp(b + 12, "VP8X", 4) == 0) {
      h.width = int(le24(b + 24) + 1);
      h.height = int(le24(b + 27) + 1);
    } else if (std::memcmp(b + 12, "VP8L", 4) == 0) {
      const uint32_t bits = le32(b + 21);
      h.width = int((bits & 0x3FFF) + 1);
      h.height = int(((bits >> 14) & 0x3FFF) + 1);
    } else if (std::memcmp(b + 12, "VP8 ", 4) == 0) {
      h.width = int(b[26] | (b[27] & 0x3F) << 8);
      h.height = int(b[28] | (b[29] & 0x3F) << 8);
    } else {
      fail(file, "corrupt WebP header");
    }
  } else {
    fail(file, "not an image (PNG, JPEG, BMP, PGM/PPM or WebP expected)");
  }
  if (h.width <= 0 || h.height <= 0) fail(file, "corrupt " + h.format + " header (zero size)");
  return h;
}

cv::Mat load_image(const std::filesystem::path& file, const ImageLimits& limits) {
  const ImageHeader h = read_image_header(file);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(file, ec);
  if (bytes > limits.max_bytes)
    fail(file, "file of " + std::to_string(bytes >> 20) + " MiB is above the limit of " +
                   std::to_string(limits.max_bytes >> 20) + " MiB");
  const int64_t pixels = int64_t(h.width) * h.height;
  if (pixels > limits.max_pixels)
    fail(file, std::to_string(h.width) + "x" + std::to_string(h.height) + " image is above the limit of " +
                   std::to_string(limits.max_pixels / 1'000'000) + " megapixels");
  cv::Mat image;
  try {
    image = cv::imread(file.string(), cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    fail(file, "cannot decode " + h.format + " (" + e.msg + ")");
  }
  if (image.empty()) fail(file, "cannot decode " + h.format + " (truncated or corrupt)");
  return image;
}

}  // namespace digitnet::vision
