#include "digitnet/datasets.h"

#include "digitnet/idx.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace digitnet {
namespace {

// The command that fills a folder: Fashion-MNIST has its own flag.
std::string get_data_hint(const std::filesystem::path& dir) {
  const std::string name = dir.filename().string();
  return name.find("fashion") != std::string::npos ? "run scripts/get-data.sh --fashion"
                                                   : "run scripts/get-data.sh";
}

// `dir/stem`, uncompressed if present, else `dir/stem.gz`; says what to run when neither is.
std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  const auto raw = dir / stem;
  if (std::filesystem::exists(raw, ec)) return raw;
  const auto gz = dir / (stem + ".gz");
  if (std::filesystem::exists(gz, ec)) return gz;
  throw std::runtime_error(gz.string() + " not found (" + get_data_hint(dir) + ")");
}

// The folder without a trailing separator, so that filename() is its name.
std::filesystem::path clean_dir(const std::filesystem::path& dir) {
  auto d = dir.lexically_normal();
  if (!d.has_filename() && d.has_parent_path()) d = d.parent_path();
  return d;
}

}  // namespace

Dataset load_idx_split(const std::filesystem::path& dir_in, const std::string& split) {
  if (split.empty() || split.find('/') != std::string::npos)
    throw std::invalid_argument("dataset split must be a name like 'train' or 't10k', not '" + split + "'");
  const auto dir = clean_dir(dir_in);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(dir.string() + " not found (" + get_data_hint(dir) + ")");

  const auto images_file = find_idx_file(dir, split + "-images-idx3-ubyte");
  const auto labels_file = find_idx_file(dir, split + "-labels-idx1-ubyte");
  Dataset d;
  d.images = read_idx_images(images_file);
  d.labels = read_idx_labels(labels_file);
  if (d.images.size(0) != d.labels.size(0))
    throw std::runtime_error(dir.string() + ": " + split + " has " + std::to_string(d.images.size(0)) +
                             " images but " + std::to_string(d.labels.size(0)) + " labels");
  const int64_t lo = d.labels.min().item<int64_t>();
  const int64_t hi = d.labels.max().item<int64_t>();
  if (lo < 0 || hi > 9)
    throw std::runtime_error(labels_file.string() + ": label " + std::to_string(hi > 9 ? hi : lo) +
                             " is outside 0..9");
  return d;
}

DatasetSplits load_idx_folder(const std::filesystem::path& dir_in) {
  const auto dir = clean_dir(dir_in);
  DatasetSplits s;
  s.train = load_idx_split(dir, "train");
  s.test = load_idx_split(dir, "t10k");
  if (s.train.images.size(1) != s.test.images.size(1) || s.train.images.size(2) != s.test.images.size(2))
    throw std::runtime_error(dir.string() + ": train images are " + std::to_string(s.train.images.size(1)) + "x" +
                             std::to_string(s.train.images.size(2)) + " but t10k images are " +
                             std::to_string(s.test.images.size(1)) + "x" + std::to_string(s.test.images.size(2)));
  s.name = dir.filename().string();
  return s;
}

}  // namespace digitnet
