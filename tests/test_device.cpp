#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/device.h"

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
