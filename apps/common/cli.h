#pragma once
// What every digitnet app shares around main: exit codes, one-line errors, number lists.

#include <cxxopts.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "digitnet/checkpoint.h"
#include "digitnet/device.h"

#include <unistd.h>

namespace digitnet::cli {

constexpr int kOk = 0;
constexpr int kFailure = 1;  // runtime failure: missing file, bad checkpoint, no camera
constexpr int kUsage = 2;    // unknown flag, missing or bad value

// Runs an app body and turns exceptions into one line on stderr and an exit code.
// First it sets the allocator to keep freed memory (keep_freed_memory, device.h).
inline int run(const char* app, const std::function<int()>& body) {
  keep_freed_memory();
  try {
    return body();
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << app << ": error: " << e.what() << " (see --help)\n";
    return kUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << app << ": error: " << one_line(e) << '\n';
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << app << ": error: " << one_line(e) << '\n';
    return kFailure;
  } catch (...) {
    std::cerr << app << ": error: unknown failure\n";
    return kFailure;
  }
}

// Parses the command line. With --help it prints the options, then `epilogue`, and returns
// nothing: the caller exits 0. A stray word that no option takes is a usage error.
inline std::optional<cxxopts::ParseResult> parse(cxxopts::Options& opts, int argc, const char* const* argv,
                                                 const std::string& epilogue = "") {
  auto args = opts.parse(argc, argv);
  if (args.count("help")) {
    std::cout << opts.help() << '\n' << epilogue;
    return std::nullopt;
  }
  if (!args.unmatched().empty())
    throw std::invalid_argument("unexpected argument '" + args.unmatched().front() + "' (see --help)");
  return args;
}

// "2,4,6" -> {2, 4, 6}; throws std::invalid_argument naming the flag on anything else.
inline std::vector<int64_t> parse_int_list(const std::string& text, const std::string& flag) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw std::invalid_argument(flag + " must be a comma-separated list of integers, not '" + text + "'");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace digitnet::cli

namespace digitnet::cli {

// A model file given by name: as given when it exists, else under the source tree's models/
// folder (so the shipped checkpoints work from any working directory of a build tree).
inline std::string find_model(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return path;
#ifdef DIGITNET_SOURCE_DIR
  const fs::path in_tree = fs::path(DIGITNET_SOURCE_DIR) / path;
  if (fs::exists(in_tree)) return in_tree.string();
#endif
  return path;
}

// "1:05" or "12:30:00" for a duration in seconds.
inline std::string format_duration(double seconds) {
  const long s = seconds > 0 ? static_cast<long>(seconds + 0.5) : 0;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// A counter of batches on one line of stderr ("APP: WHAT: batch 12/60"), erased when done; none
// when stderr is not a terminal (a log or a pipe gets the apps' one-line summaries alone).
inline std::function<void(int64_t, int64_t)> batch_counter(const std::string& app, const std::string& what) {
  if (!isatty(fileno(stderr))) return {};
  return [line = app + ": " + what](int64_t batch, int64_t batches) {
    std::fprintf(stderr, "\r\033[K%s: batch %lld/%lld", line.c_str(), static_cast<long long>(batch),
                 static_cast<long long>(batches));
    if (batch == batches) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  };
}

}  // namespace digitnet::cli
