#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/device.h"

#include <sys/resource.h>

#include <cstdlib>

TEST(DeviceTest, CpuIsAlwaysAvailable) {
  EXPECT_EQ(digitnet::select_device("cpu"), torch::Device(torch::kCPU));
}

TEST(DeviceTest, AutoTakesCudaOnlyWhenPresent) {
  const auto d = digitnet::select_device("auto");
  EXPECT_EQ(d.is_cuda(), torch::cuda::is_available());
}

TEST(DeviceTest, RejectsUnknownDeviceNames) {
  EXPECT_THROW(digitnet::select_device("gpu"), std::invalid_argument);
  EXPECT_THROW(digitnet::select_device(""), std::invalid_argument);
}

TEST(DeviceTest, CudaWithoutGpuIsARuntimeError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has CUDA";
  EXPECT_THROW(digitnet::select_device("cuda"), std::runtime_error);
}

TEST(DeviceTest, ThreadsDefaultToAllCores) {
  EXPECT_EQ(digitnet::configure_threads(0), digitnet::available_cores());
  EXPECT_EQ(torch::get_num_threads(), digitnet::available_cores());
  EXPECT_EQ(digitnet::configure_threads(1), 1);
  digitnet::configure_threads(0);
}

TEST(DeviceTest, RejectsNegativeOrAbsurdThreadCounts) {
  EXPECT_THROW(digitnet::configure_threads(-1), std::invalid_argument);
  EXPECT_THROW(digitnet::configure_threads(100000), std::invalid_argument);
}

TEST(DeviceTest, SeedingRepeatsRandomDraws) {
  digitnet::seed_everything(42);
  const auto a = torch::rand({8});
  digitnet::seed_everything(42);
  EXPECT_TRUE(torch::equal(a, torch::rand({8})));
}

TEST(DeviceTest, DescriptionNamesDeviceAndThreads) {
  const auto line = digitnet::describe_device(torch::kCPU, 2);
  EXPECT_EQ(line.rfind("device: cpu, 2 threads", 0), 0u) << line;
}

TEST(DeviceTest, CudaRoundTrip) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto x = torch::arange(10, torch::kFloat);
  EXPECT_TRUE(torch::equal(x.to(torch::kCUDA).to(torch::kCPU), x));
}

TEST(DeviceTest, ChannelsLastKeepsValuesAndOutputs) {
  torch::manual_seed(3);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 5)), torch::nn::ReLU(),
                            torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 4, 3)),
                            torch::nn::Flatten(), torch::nn::Linear(4 * 10 * 10, 3));
  const auto x = torch::randn({5, 1, 28, 28});
  const auto before = net->forward(x).detach();
  std::vector<torch::Tensor> values;
  for (const auto& p : net->parameters()) values.push_back(p.detach().clone());

  digitnet::use_channels_last(*net);
  const auto params = net->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i], values[i])) << "parameter " << i;
    if (params[i].dim() == 4) {
      // One input channel too: the strides must say NHWC, or LibTorch picks NCHW kernels.
      EXPECT_EQ(params[i].suggest_memory_format(), torch::MemoryFormat::ChannelsLast) << params[i].sizes();
      EXPECT_EQ(params[i].stride(1), 1) << params[i].sizes();
    }
  }
  const auto after = net->forward(x);
  EXPECT_TRUE(torch::allclose(after, before, 1e-4, 1e-5));
  EXPECT_EQ(after.sizes(), before.sizes());
  // Gradients flow into the relaid parameters, and an optimizer built afterwards steps them.
  torch::optim::SGD opt(net->parameters(), 0.1);
  after.sum().backward();
  opt.step();
  EXPECT_FALSE(torch::equal(net->parameters()[0], values[0]));
}

// Rounds of allocating and freeing three 4 MiB buffers, as a batch does with its activations,
// fault their pages in once, not on every round (glibc's defaults fault in nearly every page
// of every round: 60,832 of 61,440).
TEST(DeviceTest, FreedMemoryIsReusedNotFaultedInAgain) {
  if (!digitnet::keep_freed_memory()) GTEST_SKIP() << "not glibc's allocator";
  constexpr size_t kBlock = 4 << 20;
  constexpr size_t kPage = 4096;
  constexpr int kRounds = 20;
  const auto minor_faults = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<long>(usage.ru_minflt);
  };
  const auto round = [&] {
    char* blocks[3];
    for (auto& b : blocks) {
      b = static_cast<char*>(std::malloc(kBlock));
      ASSERT_NE(b, nullptr);
      for (size_t i = 0; i < kBlock; i += kPage) static_cast<volatile char*>(b)[i] = 1;
    }
    for (auto* b : blocks) std::free(b);
  };
  round();
  const long before = minor_faults();
  for (int r = 0; r < kRounds; ++r) round();
  const long pages = kRounds * 3 * static_cast<long>(kBlock / kPage);
  EXPECT_LT(minor_faults() - before, pages / 20) << "of " << pages << " pages touched";
}

TEST(DeviceTest, KeepingFreedMemoryCanBeTurnedOff) {
  setenv("DIGITNET_KEEP_FREED_MEMORY", "0", 1);
  EXPECT_FALSE(digitnet::keep_freed_memory());
  unsetenv("DIGITNET_KEEP_FREED_MEMORY");
}
