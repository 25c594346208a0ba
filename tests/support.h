#pragma once
// Helpers shared by the tests: temporary folders and running the real apps.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace digitnet::test {

// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("digitnet-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

struct AppResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs an app from the build tree with a shell command line (arguments already quoted),
// capturing stdout and stderr. `app` is the executable name, e.g. "digitnet-xor".
inline AppResult run_app(const std::string& app, const std::string& args) {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path();
  const auto tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const auto out_file = dir / ("digitnet-app-out-" + tag);
  const auto err_file = dir / ("digitnet-app-err-" + tag);
  const std::string cmd = std::string(DIGITNET_BIN_DIR) + "/" + app + " " + args + " </dev/null >" +
                          out_file.string() + " 2>" + err_file.string();
  const int status = std::system(cmd.c_str());
  AppResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_text(out_file);
  r.err = read_text(err_file);
  std::filesystem::remove(out_file);
  std::filesystem::remove(err_file);
  return r;
}

// Number of lines in a string (a trailing newline does not start a new one).
inline int count_lines(const std::string& s) {
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' || i + 1 == s.size()) ++n;
  return n;
}

}  // namespace digitnet::test
