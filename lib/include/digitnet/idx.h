#pragma once
// IDX files (the MNIST format), raw or gzip-compressed, with every header field checked.
// Layout: 2 zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64),
// a dimension count, then each dimension as a big-endian uint32, then the data, big-endian.

#include <torch/types.h>

#include <filesystem>

namespace digitnet {

// Reads any IDX file into a tensor of its type and shape (uint8 -> kByte, i32 -> kInt, ...).
// A name ending in .gz is decompressed. Throws std::runtime_error naming the file when it is
// missing, unreadable, has a bad magic number, an unknown type, zero or absurd dimensions, or
// a length that does not match its header (truncated or with trailing bytes).
torch::Tensor read_idx(const std::filesystem::path& file);

// An image file: uint8 with 3 dimensions. Returns [N,H,W] uint8.
torch::Tensor read_idx_images(const std::filesystem::path& file);

// A label file: uint8 with 1 dimension. Returns [N] int64.
torch::Tensor read_idx_labels(const std::filesystem::path& file);

// Writes a contiguous CPU tensor as IDX (gzip-compressed when the name ends in .gz, with a
// zero timestamp so that output is byte-for-byte reproducible). Atomic: temporary + rename.
void write_idx(const std::filesystem::path& file, const torch::Tensor& tensor);

}  // namespace digitnet
