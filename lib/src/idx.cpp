#include "digitnet/idx.h"

#include <torch/torch.h>

#include <fcntl.h>
#include <unistd.h>

#if DIGITNET_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace digitnet {
namespace {

// Largest data section accepted (and largest decompressed file): refused before allocating.
constexpr uint64_t kMaxDataBytes = uint64_t{2} << 30;  // 2 GiB
constexpr size_t kMaxHeaderBytes = 4 + 4 * 4;

using Bytes = std::vector<uint8_t>;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& problem) {
  throw std::runtime_error(file.string() + ": " + problem);
}

bool has_gz_suffix(const std::filesystem::path& file) { return file.extension() == ".gz"; }

struct IdxType {
  uint8_t code;
  torch::ScalarType dtype;
  size_t size;  // bytes per element
  const char* name;
};

constexpr IdxType kTypes[] = {
    {0x08, torch::kByte, 1, "uint8"},   {0x09, torch::kChar, 1, "int8"},
    {0x0B, torch::kShort, 2, "int16"},  {0x0C, torch::kInt, 4, "int32"},
    {0x0D, torch::kFloat, 4, "float32"}, {0x0E, torch::kDouble, 8, "float64"},
};

const IdxType* type_by_code(uint8_t code) {
  for (const auto& t : kTypes)
    if (t.code == code) return &t;
  return nullptr;
}

const IdxType* type_by_dtype(torch::ScalarType dtype) {
  for (const auto& t : kTypes)
    if (t.dtype == dtype) return &t;
  return nullptr;
}

// Reads the whole file; refuses files larger than any valid IDX file could be.
Bytes read_raw(const std::filesystem::path& file, uint64_t limit) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status)) fail(file, "not found");
  if (std::filesystem::is_directory(status)) fail(file, "is a folder, not a file");
  const uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) fail(file, "cannot read its size: " + ec.message());
  if (size > limit) fail(file, "too large (" + std::to_string(size) + " bytes)");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, std::string("cannot open: ") + std::strerror(errno));
  Bytes bytes(size);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    fail(file, "read error");
  if (in.peek() != std::char_traits<char>::eof()) fail(file, "changed while being read");
  return bytes;
}

#if DIGITNET_HAVE_ZLIB
// Decompresses a whole gzip file (one or more members) into one buffer, growing it as needed:
// the size field in the gzip trailer is not trusted.
Bytes gunzip(const std::filesystem::path& file, const Bytes& in) {
  if (in.empty()) fail(file, "empty file (expected gzip data)");
  constexpr uint64_t kLimit = kMaxDataBytes + kMaxHeaderBytes;
  // The trailer's size field (mod 2^32, and junk in a broken file) is only a hint for the
  // first allocation, capped by deflate's best ratio (about 1032:1).
  uint64_t hint = uint64_t{in.size()} * 4;
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    const uint64_t isize = uint64_t{t[0]} | (uint64_t{t[1]} << 8) | (uint64_t{t[2]} << 16) | (uint64_t{t[3]} << 24);
    hint = std::min<uint64_t>(isize, uint64_t{in.size()} * 1032);
  }
  Bytes out(std::min<uint64_t>(std::max<uint64_t>(hint, uint64_t{1} << 16), kLimit));
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) fail(file, "zlib inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());  // <= 2 GiB, checked by read_raw
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= kLimit) {
        inflateEnd(&zs);
        fail(file, "decompresses to more than 2 GiB, refused");
      }
      out.resize(std::min<uint64_t>(uint64_t{out.size()} * 2, kLimit));
    }
    const size_t room = out.size() - used;
    zs.next_out = out.data() + used;
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    used += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (as `cat a.gz b.gz` makes): go on with it.
      if (inflateReset(&zs) != Z_OK) {
        inflateEnd(&zs);
        fail(file, "zlib inflateReset failed");
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      fail(file, "truncated gzip data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "zlib error " + std::to_string(rc);
      inflateEnd(&zs);
      fail(file, "not valid gzip data (" + msg + ")");
    }
  }
  inflateEnd(&zs);
  out.resize(used);
  return out;
}
#endif

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void write_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Reverses the byte order of `count` elements of `size` bytes in place (IDX is big-endian).
void swap_bytes(uint8_t* data, size_t count, size_t size) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  (void)data, (void)count, (void)size;
#else
  switch (size) {
    case 2:
      for (size_t i = 0; i < count; ++i) {
        uint16_t v;
        std::memcpy(&v, data + i * 2, 2);
        v = __builtin_bswap16(v);
        std::memcpy(data + i * 2, &v, 2);
      }
      break;
    case 4:
      for (size_t i = 0; i < count; ++i) {
        uint32_t v;
        std::memcpy(&v, data + i * 4, 4);
        v = __builtin_bswap32(v);
        std::memcpy(data + i * 4, &v, 4);
      }
      break;
    case 8:
      for (size_t i = 0; i < count; ++i) {
        uint64_t v;
        std::memcpy(&v, data + i * 8, 8);
        v = __builtin_bswap64(v);
        std::memcpy(data + i * 8, &v, 8);
      }
      break;
    default:
      break;
  }
#endif
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

// Reads the file's bytes, decompressing a .gz name.
Bytes load_bytes(const std::filesystem::path& file) {
  if (!has_gz_suffix(file)) return read_raw(file, kMaxDataBytes + kMaxHeaderBytes);
#if DIGITNET_HAVE_ZLIB
  // gzip cannot compress below ~1/1032, so a larger .gz cannot hold a valid IDX file.
  return gunzip(file, read_raw(file, kMaxDataBytes));
#else
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) fail(file, "not found");
  fail(file, "cannot read .gz files: digitnet was built without zlib (gunzip the file first)");
#endif
}

void write_all_or_throw(const std::filesystem::path& file, int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(file, std::string("write error: ") + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& file) {
  const Bytes bytes = load_bytes(file);
  if (bytes.empty()) fail(file, "empty file (expected an IDX header)");
  if (bytes.size() < 4) fail(file, "truncated IDX header (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes[0] != 0 || bytes[1] != 0)
    fail(file, "bad magic number (an IDX file starts with two zero bytes; is it an IDX file?)");
  const IdxType* type = type_by_code(bytes[2]);
  if (!type) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", bytes[2]);
    fail(file, std::string("unknown IDX type byte ") + hex);
  }
  const int ndim = bytes[3];
  if (ndim < 1 || ndim > 4)
    fail(file, "unsupported number of dimensions " + std::to_string(ndim) + " (1 to 4 allowed)");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (bytes.size() < header) fail(file, "truncated IDX header (" + std::to_string(bytes.size()) + " bytes)");

  std::vector<int64_t> shape(static_cast<size_t>(ndim));
  uint64_t data_bytes = type->size;
  for (int i = 0; i < ndim; ++i) {
    const uint32_t d = read_be32(bytes.data() + 4 + 4 * i);
    if (d == 0) fail(file, "dimension " + std::to_string(i) + " is zero");
    shape[static_cast<size_t>(i)] = d;
    data_bytes *= d;  // each factor < 2^32 and the running product <= 2^31: no overflow
    if (data_bytes > kMaxDataBytes) fail(file, "dimensions too large (more than 2 GiB of data), refused");
  }
  const uint64_t have = bytes.size() - header;
  if (have < data_bytes)
    fail(file, "truncated: the header promises " + std::to_string(data_bytes) + " bytes of data, the file has " +
                   std::to_string(have));
  if (have > data_bytes)
    fail(file, std::to_string(have - data_bytes) + " trailing bytes after the " + std::to_string(data_bytes) +
                   " bytes of data the header describes");

  auto out = torch::empty(shape, torch::TensorOptions().dtype(type->dtype));
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  std::memcpy(dst, bytes.data() + header, data_bytes);
  swap_bytes(dst, static_cast<size_t>(data_bytes / type->size), type->size);
  return out;
}

torch::Tensor read_idx_images(const std::filesystem::path& file) {
  auto t = read_idx(file);
  if (t.scalar_type() != torch::kByte || t.dim() != 3)
    fail(file, std::string("not an image file: expected uint8 [N,H,W], got ") + type_by_dtype(t.scalar_type())->name +
                   " " + shape_text(t));
  return t;
}

torch::Tensor read_idx_labels(const std::filesystem::path& file) {
  auto t = read_idx(file);
  if (t.scalar_type() != torch::kByte || t.dim() != 1)
    fail(file, std::string("not a label file: expected uint8 [N], got ") + type_by_dtype(t.scalar_type())->name +
                   " " + shape_text(t));
  return t.to(torch::kLong);
}

void write_idx(const std::filesystem::path& file, const torch::Tensor& tensor) {
  if (!tensor.defined()) throw std::invalid_argument("write_idx " + file.string() + ": undefined tensor");
  if (!tensor.device().is_cpu())
    throw std::invalid_argument("write_idx " + file.string() + ": tensor must be on the CPU");
  const IdxType* type = type_by_dtype(tensor.scalar_type());
  if (!type)
    throw std::invalid_argument("write_idx " + file.string() + ": IDX cannot hold " +
                                std::string(c10::toString(tensor.scalar_type())) +
                                " (uint8, int8, int16, int32, float32, float64)");
  if (tensor.dim() < 1 || tensor.dim() > 4)
    throw std::invalid_argument("write_idx " + file.string() + ": 1 to 4 dimensions needed, got " +
                                std::to_string(tensor.dim()));
  for (int64_t i = 0; i < tensor.dim(); ++i)
    if (tensor.size(i) < 1 || tensor.size(i) > UINT32_MAX)
      throw std::invalid_argument("write_idx " + file.string() + ": dimension " + std::to_string(i) + " is " +
                                  std::to_string(tensor.size(i)) + " (IDX needs 1 to 2^32-1)");
  const auto t = tensor.contiguous();
  const size_t data_bytes = static_cast<size_t>(t.numel()) * type->size;
  if (data_bytes > kMaxDataBytes)
    throw std::invalid_argument("write_idx " + file.string() + ": more than 2 GiB of data");

  const size_t header = 4 + 4 * static_cast<size_t>(t.dim());
  Bytes raw(header + data_bytes);
  raw[0] = raw[1] = 0;
  raw[2] = type->code;
  raw[3] = static_cast<uint8_t>(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) write_be32(raw.data() + 4 + 4 * i, static_cast<uint32_t>(t.size(i)));
  std::memcpy(raw.data() + header, t.data_ptr(), data_bytes);
  swap_bytes(raw.data() + header, static_cast<size_t>(t.numel()), type->size);

  Bytes gz;
  const Bytes* out = &raw;
  if (has_gz_suffix(file)) {
#if DIGITNET_HAVE_ZLIB
    // deflate's own gzip header: no file name, mtime 0, so the output is reproducible.
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      fail(file, "zlib deflateInit2 failed");
    gz.resize(deflateBound(&zs, static_cast<uLong>(raw.size())));
    zs.next_in = raw.data();
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = gz.data();
    zs.avail_out = static_cast<uInt>(gz.size());
    const int rc = deflate(&zs, Z_FINISH);
    gz.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) fail(file, "gzip compression failed");
    out = &gz;
#else
    fail(file, "cannot write .gz files: digitnet was built without zlib");
#endif
  }

  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(file, std::string("cannot create: ") + std::strerror(errno));
  try {
    write_all_or_throw(file, fd, out->data(), out->size());
    if (::fsync(fd) != 0) fail(file, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    fail(file, "cannot rename the temporary file into place");
  }
}

}  // namespace digitnet
