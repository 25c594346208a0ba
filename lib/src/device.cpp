#include "digitnet/device.h"

#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/utils.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// A sanitizer's allocator replaces glibc's and ignores mallopt.
#if defined(__SANITIZE_ADDRESS__)
#define DIGITNET_SANITIZED_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIGITNET_SANITIZED_ALLOCATOR 1
#endif
#endif

#ifdef __linux__
#include <sched.h>
#endif

namespace digitnet {

torch::Device select_device(const std::string& want) {
  if (want != "auto" && want != "cpu" && want != "cuda")
    throw std::invalid_argument("--device must be auto, cpu or cuda, not '" + want + "'");
  if (want == "cpu") return torch::kCPU;
  const bool has_cuda = torch::cuda::is_available();
  if (want == "cuda" && !has_cuda)
    throw std::runtime_error("--device cuda: CUDA is not available on this machine");
  return has_cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

int available_cores() {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int configure_threads(int requested) {
  if (requested < 0 || requested > 4096)
    throw std::invalid_argument("--threads must be between 0 (all cores) and 4096, not " +
                                std::to_string(requested));
  const int n = requested > 0 ? requested : available_cores();
  if (torch::get_num_threads() != n) torch::set_num_threads(n);
  return torch::get_num_threads();
}

void use_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() != 4 || !p.device().is_cpu()) continue;
    // Built from an OHWI tensor rather than with contiguous(ChannelsLast): for one input
    // channel that call keeps NCHW strides, and LibTorch would then choose NCHW kernels.
    const auto s = p.sizes();
    auto nhwc = torch::empty({s[0], s[2], s[3], s[1]}, p.options()).permute({0, 3, 1, 2});
    nhwc.copy_(p);
    p.set_data(nhwc);
  }
}

bool keep_freed_memory() {
#if defined(__GLIBC__) && !defined(DIGITNET_SANITIZED_ALLOCATOR)
  const char* off = std::getenv("DIGITNET_KEEP_FREED_MEMORY");
  if (off != nullptr && std::string(off) == "0") return false;
  const auto set = [](int param, int value, const char* env) {
    if (std::getenv(env) == nullptr) mallopt(param, value);
  };
  set(M_MMAP_THRESHOLD, 32 << 20, "MALLOC_MMAP_THRESHOLD_");
  set(M_TRIM_THRESHOLD, 1 << 30, "MALLOC_TRIM_THRESHOLD_");
  set(M_TOP_PAD, 256 << 20, "MALLOC_TOP_PAD_");
  return true;
#else
  return false;
#endif
}

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

std::string describe_device(const torch::Device& device, int threads) {
  const std::string t = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  if (device.is_cuda()) return "device: " + device.str() + ", " + t + " on the CPU side";
  return "device: cpu, " + t +
         (torch::cuda::is_available() ? " (CUDA available, not used)" : " (CUDA not available)");
}

}  // namespace digitnet
