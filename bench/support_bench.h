#pragma once
// Small helpers shared by the benchmark programs.

#include <filesystem>
#include <random>
#include <string>

namespace digitnet::bench {

// A fresh, empty folder under the system temp dir for a benchmark's run outputs.
inline std::filesystem::path temp_dir(const std::string& name) {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() / ("digitnet-bench-" + name + "-" + std::to_string(rd()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace digitnet::bench
