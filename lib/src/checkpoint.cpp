#include "digitnet/checkpoint.h"

#include <c10/util/Exception.h>
#include <torch/serialize.h>
#include <torch/version.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace digitnet {
namespace {

constexpr const char* kManifestKey = "digitnet.manifest";
constexpr const char* kFormatKey = "digitnet.format";
constexpr int64_t kFormatVersion = 1;

std::string encode_manifest(const Manifest& manifest) {
  std::string out;
  for (const auto& [key, value] : manifest) {
    if (key.find_first_of("=\n") != std::string::npos || value.find('\n') != std::string::npos)
      throw std::invalid_argument("manifest entry '" + key + "' must be one line without '=' in the key");
    out += key + '=' + value + '\n';
  }
  return out;
}

Manifest decode_manifest(const std::string& text) {
  Manifest manifest;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    manifest[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return manifest;
}

// Writes all of `data` to fd, retrying short writes. Returns false on an error.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Manifest new_manifest(const std::string& kind) {
  return {{"kind", kind},
          {"torch_version", TORCH_VERSION},
          {"digitnet_format", std::to_string(kFormatVersion)}};
}

std::string one_line(const std::exception& e) {
  std::string msg;
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e))
    msg = c10e->what_without_backtrace();
  else
    msg = e.what();
  const auto nl = msg.find('\n');
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  return msg;
}

void save_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                     const Manifest& manifest,
                     const std::function<void(torch::serialize::OutputArchive&)>& extra) {
  torch::serialize::OutputArchive archive;
  {
    // Weights go to the file as CPU tensors so CPU and CUDA runs share checkpoints.
    torch::NoGradGuard no_grad;
    for (const auto& item : model.named_parameters(/*recurse=*/true))
      archive.write(item.key(), item.value().detach().to(torch::kCPU));
    for (const auto& item : model.named_buffers(/*recurse=*/true))
      archive.write(item.key(), item.value().detach().to(torch::kCPU), /*is_buffer=*/true);
  }
  archive.write(kFormatKey, c10::IValue(kFormatVersion));
  archive.write(kManifestKey, c10::IValue(encode_manifest(manifest)));
  if (extra) extra(archive);

  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string data = bytes.str();

  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot write checkpoint " + file.string() + ": " + std::strerror(errno));
  const bool ok = write_all(fd, data.data(), data.size()) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write checkpoint " + file.string() + ": " +
                             std::strerror(saved_errno) + " (the previous file is unchanged)");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write checkpoint " + file.string() + ": " + ec.message());
  }
}

CheckpointReader::CheckpointReader(const std::filesystem::path& file) : file_(file) {
  if (!std::filesystem::exists(file))
    throw std::runtime_error("checkpoint " + file.string() + " not found");
  if (std::filesystem::is_directory(file))
    throw std::runtime_error("checkpoint " + file.string() + " is a folder, not a file");
  archive_ = std::make_unique<torch::serialize::InputArchive>();
  try {
    archive_->load_from(file.string());
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint " + file.string() +
                             " is truncated, corrupt or not a checkpoint (" + one_line(e) + ")");
  }
  c10::IValue format, manifest;
  if (!archive_->try_read(kFormatKey, format) || !archive_->try_read(kManifestKey, manifest) ||
      !format.isInt() || !manifest.isString())
    throw std::runtime_error("checkpoint " + file.string() + " was not written by digitnet");
  if (format.toInt() > kFormatVersion)
    throw std::runtime_error("checkpoint " + file.string() + " has format " +
                             std::to_string(format.toInt()) + ", newer than this digitnet reads (" +
                             std::to_string(kFormatVersion) + ")");
  manifest_ = decode_manifest(manifest.toStringRef());
}

const std::string& CheckpointReader::get(const std::string& key) const {
  const auto it = manifest_.find(key);
  if (it == manifest_.end())
    throw std::runtime_error("checkpoint " + file_.string() + " lacks '" + key + "' in its manifest");
  return it->second;
}

void CheckpointReader::expect_kind(const std::string& kind) const {
  const auto it = manifest_.find("kind");
  const std::string have = it == manifest_.end() ? "unknown" : it->second;
  if (have != kind)
    throw std::runtime_error("checkpoint " + file_.string() + " holds a '" + have +
                             "' model, not a '" + kind + "' model");
}

void CheckpointReader::load_weights(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const auto load = [&](const std::string& key, torch::Tensor& target, bool is_buffer) {
    torch::Tensor stored;
    try {
      archive_->read(key, stored, is_buffer);
    } catch (const std::exception& e) {
      throw std::runtime_error("checkpoint " + file_.string() + " lacks tensor '" + key +
                               "' (a different model or options?)");
    }
    if (stored.sizes() != target.sizes()) {
      std::ostringstream msg;
      msg << "checkpoint " << file_.string() << ": '" << key << "' has shape " << stored.sizes()
          << ", the model expects " << target.sizes() << " (saved with other options?)";
      throw std::runtime_error(msg.str());
    }
    target.copy_(stored);
  };
  for (auto& item : model.named_parameters(true)) load(item.key(), item.value(), false);
  for (auto& item : model.named_buffers(true)) load(item.key(), item.value(), true);
}

bool CheckpointReader::read_archive(const std::string& key, torch::serialize::InputArchive& out) {
  return archive_->try_read(key, out);
}

Manifest average_checkpoints(const std::vector<std::filesystem::path>& files, torch::nn::Module& model) {
  if (files.size() < 2) throw std::invalid_argument("averaging needs two checkpoints or more");
  torch::NoGradGuard no_grad;
  const auto same_model = [](const Manifest& m) {
    Manifest out;
    for (const auto& [k, v] : m)
      if (k == "kind" || k.rfind("model.", 0) == 0) out[k] = v;
    return out;
  };
  Manifest first;
  std::vector<torch::Tensor> sums;  // float64, parameters then floating-point buffers
  for (size_t i = 0; i < files.size(); ++i) {
    CheckpointReader reader(files[i]);
    if (i == 0) {
      first = reader.manifest();
    } else if (same_model(reader.manifest()) != same_model(first)) {
      throw std::runtime_error("checkpoint " + files[i].string() +
                               " holds another kind of model or other model options than " + files[0].string());
    }
    reader.load_weights(model);
    size_t k = 0;
    const auto add = [&](const torch::Tensor& t) {
      if (!t.is_floating_point()) return;
      if (i == 0) sums.push_back(t.to(torch::kFloat64));
      else sums[k].add_(t.to(torch::kFloat64));
      ++k;
    };
    for (const auto& p : model.parameters(true)) add(p);
    for (const auto& b : model.buffers(true)) add(b);
  }
  CheckpointReader(files[0]).load_weights(model);  // integer buffers: the first file's
  size_t k = 0;
  const auto set = [&](torch::Tensor t) {
    if (!t.is_floating_point()) return;
    t.copy_(sums[k++] / double(files.size()));
  };
  for (auto& p : model.parameters(true)) set(p);
  for (auto& b : model.buffers(true)) set(b);
  return first;
}

}  // namespace digitnet
