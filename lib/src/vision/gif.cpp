// A minimal GIF decoder: OpenCV 4.6 cannot read GIFs, and captchas are often served as GIFs.
// First frame only (captchas are still images), global and local colour tables, interlacing,
// the transparent colour of a Graphic Control Extension. Every read is bounds-checked.
#include "digitnet/vision/captcha_reader.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace digitnet {
namespace {

class ByteReader {
 public:
  ByteReader(const std::vector<unsigned char>& b, const std::string& name) : b_(b), name_(name) {}
  unsigned char u8() {
    if (pos_ >= b_.size()) fail("is truncated");
    return b_[pos_++];
  }
  int u16() {
    const int lo = u8();
    return lo | (u8() << 8);
  }
  void skip(size_t n) {
    if (b_.size() - pos_ < n) fail("is truncated");
    pos_ += n;
  }
  // Concatenated data sub-blocks up to the zero-length terminator.
  std::vector<unsigned char> sub_blocks() {
    std::vector<unsigned char> out;
    for (int len; (len = u8()) != 0;) {
      if (b_.size() - pos_ < size_t(len)) fail("is truncated");
      out.insert(out.end(), b_.begin() + long(pos_), b_.begin() + long(pos_ + size_t(len)));
      pos_ += size_t(len);
    }
    return out;
  }
  void skip_sub_blocks() {
    for (int len; (len = u8()) != 0;) skip(size_t(len));
  }
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(name_ + ": GIF " + what); }

 private:
  const std::vector<unsigned char>& b_;
  std::string name_;
  size_t pos_ = 0;
};

// GIF's variable-width LZW. Returns `count` colour indices.
std::vector<unsigned char> lzw_decode(const std::vector<unsigned char>& data, int min_code_size, size_t count,
                                      const ByteReader& in) {
  if (min_code_size < 2 || min_code_size > 8) in.fail("has a bad LZW code size");
  const int clear = 1 << min_code_size, end = clear + 1;
  std::vector<int> prefix(4096, -1);
  std::vector<unsigned char> suffix(4096), first(4096);
  for (int i = 0; i < clear; ++i) {
    suffix[size_t(i)] = first[size_t(i)] = static_cast<unsigned char>(i);
  }
  std::vector<unsigned char> out;
  out.reserve(count);
  std::vector<unsigned char> stack;
  int code_size = min_code_size + 1, next_code = end + 1, prev = -1;
  uint32_t bits = 0;
  int nbits = 0;
  size_t pos = 0;
  while (out.size() < count) {
    while (nbits < code_size) {
      if (pos >= data.size()) in.fail("image data is truncated");
      bits |= uint32_t(data[pos++]) << nbits;
      nbits += 8;
    }
    const int code = int(bits & ((1u << code_size) - 1));
    bits >>= code_size;
    nbits -= code_size;
    if (code == clear) {
      code_size = min_code_size + 1;
      next_code = end + 1;
      prev = -1;
      continue;
    }
    if (code == end) break;
    int c = code;
    stack.clear();
    if (code >= next_code) {
      if (code > next_code || prev < 0) in.fail("image data is corrupt");
      c = prev;  // the KwKwK case: prev's string plus its own first byte
      stack.push_back(first[size_t(prev)]);
    }
    while (c >= clear) {
      stack.push_back(suffix[size_t(c)]);
      c = prefix[size_t(c)];
      if (c < 0) in.fail("image data is corrupt");
    }
    stack.push_back(static_cast<unsigned char>(c));
    for (auto it = stack.rbegin(); it != stack.rend() && out.size() < count; ++it) out.push_back(*it);
    if (prev >= 0 && next_code < 4096) {
      prefix[size_t(next_code)] = prev;
      suffix[size_t(next_code)] = static_cast<unsigned char>(c);
      first[size_t(next_code)] = first[size_t(prev)];
      ++next_code;
      if (next_code == (1 << code_size) && code_size < 12) ++code_size;
    }
    prev = code;
  }
  if (out.size() < count) in.fail("image data ends early");
  return out;
}

}  // namespace

cv::Mat decode_gif(const std::vector<unsigned char>& bytes, const std::string& name) {
  ByteReader in(bytes, name);
  char sig[6];
  for (char& ch : sig) ch = static_cast<char>(in.u8());
  if (std::string(sig, 6) != "GIF87a" && std::string(sig, 6) != "GIF89a") in.fail("has a bad signature");
  const int screen_w = in.u16(), screen_h = in.u16();
  const int flags = in.u8();
  const int background = in.u8();
  in.u8();  // aspect ratio
  if (screen_w < 1 || screen_h < 1) in.fail("has an empty canvas");
  if (screen_w > kMaxCaptchaSide || screen_h > kMaxCaptchaSide)
    throw std::runtime_error(name + ": image too large (" + std::to_string(screen_w) + "x" +
                             std::to_string(screen_h) + " pixels; at most " + std::to_string(kMaxCaptchaSide) +
                             " per side)");
  std::vector<cv::Vec3b> global;
  if (flags & 0x80) {
    global.resize(size_t(2) << (flags & 7));
    for (auto& c : global) {
      const unsigned char r = in.u8(), g = in.u8(), b = in.u8();
      c = cv::Vec3b(b, g, r);
    }
  }
  int transparent = -1;
  for (;;) {
    const int block = in.u8();
    if (block == 0x21) {  // extension
      const int label = in.u8();
      if (label == 0xF9) {
        const auto gce = in.sub_blocks();
        if (gce.size() >= 4 && (gce[0] & 1)) transparent = gce[3];
      } else {
        in.skip_sub_blocks();
      }
    } else if (block == 0x2C) {  // image descriptor
      const int left = in.u16(), top = in.u16(), w = in.u16(), h = in.u16();
      const int iflags = in.u8();
      if (w < 1 || h < 1 || w > kMaxCaptchaSide || h > kMaxCaptchaSide) in.fail("has a bad frame size");
      std::vector<cv::Vec3b> local;
      if (iflags & 0x80) {
        local.resize(size_t(2) << (iflags & 7));
        for (auto& c : local) {
          const unsigned char r = in.u8(), g = in.u8(), b = in.u8();
          c = cv::Vec3b(b, g, r);
        }
      }
      const auto& table = local.empty() ? global : local;
      if (table.empty()) in.fail("has no colour table");
      const int min_code = in.u8();
      const auto data = in.sub_blocks();
      const auto pixels = lzw_decode(data, min_code, size_t(w) * size_t(h), in);
      // The canvas starts as the background colour (or transparent), the frame goes on top.
      cv::Mat out(screen_h, screen_w, CV_8UC4);
      const bool bg_ok = !global.empty() && background < int(global.size()) && background != transparent;
      const cv::Vec3b bg = bg_ok ? global[size_t(background)] : cv::Vec3b(255, 255, 255);
      out.setTo(cv::Scalar(bg[0], bg[1], bg[2], transparent >= 0 ? 0 : 255));
      const bool interlaced = iflags & 0x40;
      std::vector<int> rows;
      if (interlaced) {
        for (const auto& [start, step] : {std::pair{0, 8}, {4, 8}, {2, 4}, {1, 2}})
          for (int y = start; y < h; y += step) rows.push_back(y);
      } else {
        for (int y = 0; y < h; ++y) rows.push_back(y);
      }
      for (int i = 0; i < h; ++i) {
        const int y = top + rows[size_t(i)];
        if (y < 0 || y >= screen_h) continue;
        auto* row = out.ptr<cv::Vec4b>(y);
        for (int x = 0; x < w; ++x) {
          const int px = left + x;
          if (px >= screen_w) break;
          const int idx = pixels[size_t(i) * size_t(w) + size_t(x)];
          if (idx == transparent) continue;
          if (idx >= int(table.size())) in.fail("uses a colour outside its table");
          const cv::Vec3b c = table[size_t(idx)];
          row[px] = cv::Vec4b(c[0], c[1], c[2], 255);
        }
      }
      return out;
    } else if (block == 0x3B) {
      in.fail("has no image");
    } else {
      in.fail("is corrupt (unknown block)");
    }
  }
}

}  // namespace digitnet
