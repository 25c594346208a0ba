#include "digitnet/idx.h"

#include "support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

using digitnet::test::read_text;
using digitnet::test::TempDir;
using digitnet::test::write_text;

const std::filesystem::path kTiny = std::filesystem::path(DIGITNET_TEST_DATA) / "mnist-tiny";

// An IDX header: two zero bytes, the type, the dimension count, big-endian dimensions.
std::string idx_header(uint8_t type, std::initializer_list<uint32_t> dims) {
  std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xFF);
  return h;
}

// The message of the runtime_error `f` throws, or "" when it throws none.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Expects read_idx(file) to fail with a message naming the file and containing `problem`.
void expect_rejected(const std::filesystem::path& file, const std::string& problem) {
  const std::string msg = error_of([&] { digitnet::read_idx(file); });
  ASSERT_FALSE(msg.empty()) << file << " was accepted";
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(problem), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
}

// A gzip file of `data` in deflate's stored (uncompressed) blocks, built by hand so that the
// tests can wrap any bytes, broken ones included, without linking zlib.
std::string gzip_stored(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc = ~crc;
  const auto le32 = [](uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  std::string out{'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(data.size() - pos, 65535);
    const bool last = pos + n == data.size();
    out += static_cast<char>(last ? 1 : 0);
    out += std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(~n),
                       static_cast<char>(~n >> 8)};
    out += data.substr(pos, n);
    pos += n;
  } while (pos < data.size());
  return out + le32(crc) + le32(static_cast<uint32_t>(data.size()));
}

// Good raw bytes: 2 images of 2x3, values 0..11.
std::string good_images() {
  std::string s = idx_header(0x08, {2, 2, 3});
  for (int i = 0; i < 12; ++i) s += static_cast<char>(i);
  return s;
}

TEST(IdxTest, RoundTripsEveryTypeRawAndGzip) {
  TempDir tmp;
  torch::manual_seed(0);
  const std::vector<torch::Tensor> tensors = {
      torch::randint(0, 256, {3, 4, 5}, torch::kByte),
      torch::randint(-128, 128, {7}, torch::kChar),
      torch::randint(-32768, 32768, {2, 3}, torch::kShort),
      torch::randint(-100000, 100000, {4, 1, 2, 3}, torch::kInt),
      torch::randn({5, 6}, torch::kFloat),
      torch::randn({3}, torch::kDouble),
  };
  for (const auto& t : tensors) {
    for (const std::string name : {"t.idx", "t.idx.gz"}) {
      const auto file = tmp / name;
      digitnet::write_idx(file, t);
      const auto back = digitnet::read_idx(file);
      EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
      EXPECT_EQ(back.sizes(), t.sizes()) << name;
      EXPECT_TRUE(torch::equal(back, t)) << name << " " << t.scalar_type();
    }
  }
}

TEST(IdxTest, WritesBigEndianWithTheDocumentedHeader) {
  TempDir tmp;
  digitnet::write_idx(tmp / "v.idx", torch::tensor({1, 258}, torch::kInt));
  const std::string expected = idx_header(0x0C, {2}) + std::string{0, 0, 0, 1} + std::string{0, 0, 1, 2};
  EXPECT_EQ(read_text(tmp / "v.idx"), expected);
}

TEST(IdxTest, ReadsMultiByteValuesAsBigEndian) {
  TempDir tmp;
  write_text(tmp / "s.idx", idx_header(0x0B, {2}) + std::string{1, 2, '\xFF', '\xFE'});
  const auto t = digitnet::read_idx(tmp / "s.idx");
  EXPECT_EQ(t.scalar_type(), torch::kShort);
  EXPECT_EQ(t[0].item<int16_t>(), 258);
  EXPECT_EQ(t[1].item<int16_t>(), -2);
}

TEST(IdxTest, GzipOutputIsReproducible) {
  TempDir tmp;
  const auto t = torch::arange(1000, torch::kInt);
  digitnet::write_idx(tmp / "a.idx.gz", t);
  digitnet::write_idx(tmp / "b.idx.gz", t);
  const std::string a = read_text(tmp / "a.idx.gz");
  ASSERT_GT(a.size(), 10u);
  EXPECT_EQ(a, read_text(tmp / "b.idx.gz"));
  EXPECT_EQ(a.substr(4, 4), std::string(4, '\0')) << "gzip mtime must be zero";
}

TEST(IdxTest, WriteLeavesNoTemporaryFile) {
  TempDir tmp;
  digitnet::write_idx(tmp / "x.idx.gz", torch::zeros({2}, torch::kByte));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(IdxTest, ReadsImagesAndLabelsWithTheirDocumentedTypes) {
  TempDir tmp;
  write_text(tmp / "i.idx", good_images());
  const auto images = digitnet::read_idx_images(tmp / "i.idx");
  EXPECT_EQ(images.scalar_type(), torch::kByte);
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(images[1][1][2].item<int>(), 11);

  write_text(tmp / "l.idx", idx_header(0x08, {3}) + std::string{7, 0, 9});
  const auto labels = digitnet::read_idx_labels(tmp / "l.idx");
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(labels, torch::tensor({7, 0, 9}, torch::kLong)));
}

TEST(IdxTest, ImageReaderRejectsLabelsAndLabelReaderRejectsImages) {
  TempDir tmp;
  write_text(tmp / "i.idx", good_images());
  write_text(tmp / "l.idx", idx_header(0x08, {3}) + std::string{7, 0, 9});
  EXPECT_NE(error_of([&] { digitnet::read_idx_images(tmp / "l.idx"); }).find("not an image file"), std::string::npos);
  EXPECT_NE(error_of([&] { digitnet::read_idx_labels(tmp / "i.idx"); }).find("not a label file"), std::string::npos);
  write_text(tmp / "f.idx", idx_header(0x0D, {1}) + std::string(4, '\0'));
  EXPECT_THROW(digitnet::read_idx_labels(tmp / "f.idx"), std::runtime_error);
}

TEST(IdxTest, ReadsTheCommittedFixture) {
  const auto images = digitnet::read_idx_images(kTiny / "train-images-idx3-ubyte.gz");
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{1000, 28, 28}));
  const auto labels = digitnet::read_idx_labels(kTiny / "train-labels-idx1-ubyte.gz");
  EXPECT_EQ(labels.size(0), 1000);
}

TEST(IdxTest, RejectsMissingFile) {
  TempDir tmp;
  expect_rejected(tmp / "nope.idx", "not found");
  expect_rejected(tmp / "nope.idx.gz", "not found");
}

TEST(IdxTest, RejectsFolder) { expect_rejected(kTiny, "folder"); }

TEST(IdxTest, RejectsEmptyFile) {
  TempDir tmp;
  write_text(tmp / "e.idx", "");
  write_text(tmp / "e.idx.gz", "");
  expect_rejected(tmp / "e.idx", "empty");
  expect_rejected(tmp / "e.idx.gz", "empty");
}

TEST(IdxTest, RejectsWrongMagicNumber) {
  TempDir tmp;
  std::string bytes = good_images();
  bytes[0] = 1;
  write_text(tmp / "m.idx", bytes);
  expect_rejected(tmp / "m.idx", "bad magic number");
  write_text(tmp / "text.idx", "hello, this is not an IDX file");
  expect_rejected(tmp / "text.idx", "bad magic number");
}

TEST(IdxTest, RejectsUnknownType) {
  TempDir tmp;
  std::string bytes = good_images();
  bytes[2] = 0x0A;
  write_text(tmp / "t.idx", bytes);
  expect_rejected(tmp / "t.idx", "unknown IDX type byte 0x0A");
}

TEST(IdxTest, RejectsBadDimensionCounts) {
  TempDir tmp;
  write_text(tmp / "d0.idx", std::string{0, 0, 8, 0} + "x");
  expect_rejected(tmp / "d0.idx", "dimensions 0");
  write_text(tmp / "d5.idx", idx_header(0x08, {1, 1, 1, 1, 1}) + "x");
  expect_rejected(tmp / "d5.idx", "dimensions 5");
}

TEST(IdxTest, RejectsZeroDimension) {
  TempDir tmp;
  write_text(tmp / "z.idx", idx_header(0x08, {0, 28, 28}));
  expect_rejected(tmp / "z.idx", "dimension 0 is zero");
}

TEST(IdxTest, RejectsAbsurdDimensionsBeforeAllocating) {
  TempDir tmp;
  write_text(tmp / "big.idx", idx_header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}) + "x");
  expect_rejected(tmp / "big.idx", "too large");
  write_text(tmp / "big2.idx", idx_header(0x0E, {1u << 20, 1u << 20}));
  expect_rejected(tmp / "big2.idx", "too large");
}

TEST(IdxTest, RejectsTruncatedHeader) {
  TempDir tmp;
  write_text(tmp / "h.idx", good_images().substr(0, 10));
  expect_rejected(tmp / "h.idx", "truncated IDX header");
  write_text(tmp / "h3.idx", std::string{0, 0, 8});
  expect_rejected(tmp / "h3.idx", "truncated IDX header");
}

TEST(IdxTest, RejectsTruncatedData) {
  TempDir tmp;
  const std::string bytes = good_images();
  write_text(tmp / "t.idx", bytes.substr(0, bytes.size() - 1));
  expect_rejected(tmp / "t.idx", "truncated: the header promises 12 bytes of data, the file has 11");
}

TEST(IdxTest, RejectsTrailingBytes) {
  TempDir tmp;
  write_text(tmp / "t.idx", good_images() + "xy");
  expect_rejected(tmp / "t.idx", "2 trailing bytes");
}

TEST(IdxTest, ChecksTheDecompressedContentOfGzipFiles) {
  TempDir tmp;
  const std::string bytes = good_images();
  write_text(tmp / "ok.idx.gz", gzip_stored(bytes));
  EXPECT_TRUE(torch::equal(digitnet::read_idx(tmp / "ok.idx.gz"), torch::arange(12, torch::kByte).reshape({2, 2, 3})));
  write_text(tmp / "cut.idx.gz", gzip_stored(bytes.substr(0, bytes.size() - 3)));
  expect_rejected(tmp / "cut.idx.gz", "truncated: the header promises 12 bytes");
  write_text(tmp / "long.idx.gz", gzip_stored(bytes + "x"));
  expect_rejected(tmp / "long.idx.gz", "1 trailing bytes");
  write_text(tmp / "magic.idx.gz", gzip_stored("\x01" + bytes.substr(1)));
  expect_rejected(tmp / "magic.idx.gz", "bad magic number");
}

TEST(IdxTest, RejectsTruncatedGzip) {
  TempDir tmp;
  digitnet::write_idx(tmp / "ok.idx.gz", torch::randint(0, 256, {50, 28, 28}, torch::kByte));
  const std::string gz = read_text(tmp / "ok.idx.gz");
  write_text(tmp / "cut.idx.gz", gz.substr(0, gz.size() / 2));
  expect_rejected(tmp / "cut.idx.gz", "truncated gzip data");
  write_text(tmp / "tiny.idx.gz", gz.substr(0, 5));
  expect_rejected(tmp / "tiny.idx.gz", "gzip");
}

TEST(IdxTest, RejectsGzipNameWithoutGzipData) {
  TempDir tmp;
  write_text(tmp / "plain.idx.gz", good_images());
  expect_rejected(tmp / "plain.idx.gz", "not valid gzip data");
}

TEST(IdxTest, RejectsGarbageAfterTheGzipStream) {
  TempDir tmp;
  digitnet::write_idx(tmp / "ok.idx.gz", torch::zeros({4}, torch::kByte));
  write_text(tmp / "junk.idx.gz", read_text(tmp / "ok.idx.gz") + "junk");
  expect_rejected(tmp / "junk.idx.gz", "not valid gzip data");
}

TEST(IdxTest, ReadsConcatenatedGzipMembers) {
  TempDir tmp;
  const std::string bytes = good_images();
  write_text(tmp / "two.idx.gz", gzip_stored(bytes.substr(0, 20)) + gzip_stored(bytes.substr(20)));
  EXPECT_TRUE(torch::equal(digitnet::read_idx(tmp / "two.idx.gz"), torch::arange(12, torch::kByte).reshape({2, 2, 3})));
}

TEST(IdxTest, GrowsItsBufferPastTheGzipSizeHint) {
  TempDir tmp;
  // Zeros compress ~1000:1, and the empty last member's size field says 0: the reader's first
  // buffer is far too small and must grow (the size field is a hint, never trusted).
  const auto t = torch::zeros({384, 28, 28}, torch::kByte);
  digitnet::write_idx(tmp / "z.idx.gz", t);
  write_text(tmp / "t.idx.gz", read_text(tmp / "z.idx.gz") + gzip_stored(""));
  EXPECT_TRUE(torch::equal(digitnet::read_idx(tmp / "t.idx.gz"), t));
}

TEST(IdxTest, RejectsTruncatedFixture) {
  TempDir tmp;
  const std::string gz = read_text(kTiny / "t10k-labels-idx1-ubyte.gz");
  ASSERT_FALSE(gz.empty());
  write_text(tmp / "t10k-labels-idx1-ubyte.gz", gz.substr(0, gz.size() - 8));  // gzip trailer gone
  expect_rejected(tmp / "t10k-labels-idx1-ubyte.gz", "gzip");
}

TEST(IdxTest, WriteRejectsWhatIdxCannotHold) {
  TempDir tmp;
  EXPECT_THROW(digitnet::write_idx(tmp / "x.idx", torch::Tensor()), std::invalid_argument);
  EXPECT_THROW(digitnet::write_idx(tmp / "x.idx", torch::zeros({2}, torch::kLong)), std::invalid_argument);
  EXPECT_THROW(digitnet::write_idx(tmp / "x.idx", torch::zeros({}, torch::kByte)), std::invalid_argument);
  EXPECT_THROW(digitnet::write_idx(tmp / "x.idx", torch::zeros({1, 1, 1, 1, 1}, torch::kByte)),
               std::invalid_argument);
  EXPECT_THROW(digitnet::write_idx(tmp / "x.idx", torch::zeros({0, 3}, torch::kByte)), std::invalid_argument);
  EXPECT_THROW(digitnet::write_idx(tmp / "no-such-folder" / "x.idx", torch::zeros({2}, torch::kByte)),
               std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(tmp / "x.idx"));
}

TEST(IdxTest, WritesNonContiguousTensors) {
  TempDir tmp;
  const auto t = torch::arange(12, torch::kInt).reshape({3, 4}).t();
  digitnet::write_idx(tmp / "t.idx", t);
  EXPECT_TRUE(torch::equal(digitnet::read_idx(tmp / "t.idx"), t));
}

}  // namespace
