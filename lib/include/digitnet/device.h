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

// Seeds LibTorch's CPU and CUDA generators.
void seed_everything(uint64_t seed);

// One line for the top of every app's output, e.g.
// "device: cpu, 2 threads (CUDA not available)" or "device: cuda:0 (NVIDIA H100), 16 CPU threads".
std::string describe_device(const torch::Device& device, int threads);

}  // namespace digitnet
