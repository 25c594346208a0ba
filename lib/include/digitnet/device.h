#pragma once
// Where digitnet runs: device choice, thread count and seeding, in one place.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace digitnet {

// "auto" takes CUDA when LibTorch sees a GPU, else the CPU. Throws std::invalid_argument
// for any other word and std::runtime_error for "cuda" on a machine without CUDA.
torch::Device select_device(const std::string& want);

// Number of cores this process may run on (CPU affinity, not the machine's total).
int available_cores();

// Sets LibTorch's intra-op thread count: `requested` > 0 is taken as is, 0 means all
// available cores (LibTorch on Debian starts with one). Returns the count in force.
// Throws std::invalid_argument for a negative or absurd (> 4096) count.
int configure_threads(int requested);

// On the CPU, lays the module's 4-D weights (convolution kernels) out channels-last, so that
// convolutions, pooling and batch norm that follow them run in NHWC, which oneDNN and
// LibTorch's CPU kernels do 1.5-3x faster than NCHW at digitnet's sizes (bench-mnist).
// Values do not change; weights on other devices are left alone. Models must flatten
// with flatten()/reshape(), not view(). Call it before an optimizer is built.
void use_channels_last(torch::nn::Module& module);

// Keeps the memory LibTorch frees for reuse instead of handing it back to the kernel.
// glibc's malloc returns a freed block above its mmap threshold (128 KiB, raised as it
// learns, 32 MiB at most) and a free heap top above its trim threshold to the kernel at once.
// LibTorch frees and allocates its activation buffers every batch, so every batch faulted
// them back in page by page: on a 2-core VM digitnet-eval spent three quarters of its time in
// the kernel and read 1,000 captchas (three views) in 18-20 s instead of 4-5, and a captcha
// training epoch took 188 s instead of 106 (bench/BENCHMARKS.md, "Memory reuse").
// Sets M_MMAP_THRESHOLD to 32 MiB, M_TRIM_THRESHOLD to 1 GiB and M_TOP_PAD to 256 MiB, each
// unless the user set its MALLOC_..._ environment variable; peak resident memory grows by
// 5-20%. DIGITNET_KEEP_FREED_MEMORY=0 leaves glibc's defaults (to compare). Every app calls it
// first (cli::run). Returns false where it changes nothing: that variable, another C library,
// or a sanitizer's allocator.
bool keep_freed_memory();

// Seeds LibTorch's CPU and CUDA generators.
void seed_everything(uint64_t seed);

// One line for the top of every app's output, e.g.
// "device: cpu, 2 threads (CUDA not available)" or "device: cuda:0 (NVIDIA H100), 16 CPU threads".
std::string describe_device(const torch::Device& device, int threads);

}  // namespace digitnet
