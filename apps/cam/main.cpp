// digitnet-cam: handwritten digits live from a camera, a video file or a stream URL.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "common/cli.h"
#include "digitnet/device.h"
#include "digitnet/json.h"
#include "digitnet/vision/overlay.h"
#include "digitnet/vision/preprocess.h"
#include "digitnet/vision/reader.h"

namespace fs = std::filesystem;
namespace dv = digitnet::vision;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kCameraOpenTimeoutS = 5;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

// OpenCV's video backends report their own failures on stderr as they try one after another
// (GStreamer's pipeline warnings, FFmpeg's messages): a dozen lines before the one error line
// that says what failed. OpenCV's log is silent while a source or the recording is opened, and
// FFmpeg's for the whole run unless the user sets OPENCV_FFMPEG_LOGLEVEL.
class QuietVideoBackends {
 public:
  QuietVideoBackends() : level_(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {
    ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);  // AV_LOG_QUIET; read at FFmpeg's first use
  }
  ~QuietVideoBackends() { cv::utils::logging::setLogLevel(level_); }
  QuietVideoBackends(const QuietVideoBackends&) = delete;
  QuietVideoBackends& operator=(const QuietVideoBackends&) = delete;

 private:
  cv::utils::logging::LogLevel level_;
};

// Opens the camera with a watchdog: a driver that hangs in open() ends the process with a clear
// error after kCameraOpenTimeoutS seconds instead of hanging.
cv::VideoCapture open_camera(int index, int width, int height) {
  if (index < 0) throw std::invalid_argument("--camera must be 0 or more, not " + std::to_string(index));
#ifdef __linux__
  const fs::path dev = "/dev/video" + std::to_string(index);
  std::error_code ec;
  if (!fs::exists(dev, ec))
    throw std::runtime_error("camera " + std::to_string(index) + " not found (" + dev.string() +
                             " does not exist); use --video FILE or --url URL");
#endif
  std::atomic<bool> done{false};
  std::thread watchdog([&done, index] {
    const auto t0 = Clock::now();
    while (!done.load()) {
      if (seconds_since(t0) > kCameraOpenTimeoutS) {
        std::fprintf(stderr, "digitnet-cam: error: camera %d did not open within %d s\n", index, kCameraOpenTimeoutS);
        std::fflush(stderr);
        std::_Exit(digitnet::cli::kFailure);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  cv::VideoCapture cap;
  try {
    cap.open(index, cv::CAP_ANY, {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, kCameraOpenTimeoutS * 1000});
    if (cap.isOpened() && width > 0) cap.set(cv::CAP_PROP_FRAME_WIDTH, width);
    if (cap.isOpened() && height > 0) cap.set(cv::CAP_PROP_FRAME_HEIGHT, height);
  } catch (...) {
    done = true;
    watchdog.join();
    throw;
  }
  done = true;
  watchdog.join();
  if (!cap.isOpened()) throw std::runtime_error("camera " + std::to_string(index) + " cannot be opened");
  return cap;
}

}  // namespace

int main(int argc, char** argv) {
  return digitnet::cli::run("digitnet-cam", [&] {
    cxxopts::Options opts("digitnet-cam", "Read handwritten digits live from a camera, a video file or a stream.");
    opts.add_options()
      ("camera", "camera index", cxxopts::value<int>()->default_value("0"))
      ("video", "video file instead of a camera", cxxopts::value<std::string>())
      ("url", "stream URL (rtsp://, http://) instead of a camera", cxxopts::value<std::string>())
      ("headless", "no window: one JSON line per frame on stdout, a summary on stderr")
      ("record", "write the annotated frames to this .avi (MJPG)", cxxopts::value<std::string>())
      ("max-frames", "stop after N frames (0: until the source ends or q)", cxxopts::value<int64_t>()->default_value("0"))
      ("smooth", "frames a reading is smoothed over (1: off)", cxxopts::value<int>()->default_value("8"))
      ("c,checkpoint", "reader checkpoint (default: models/mnist-reader.pt)", cxxopts::value<std::string>())
      ("min-confidence", "digits below this read '?'", cxxopts::value<double>()->default_value("0.5"))
      ("dump-inputs", "write the 28x28 inputs the model sees as PNGs into this folder", cxxopts::value<std::string>())
      ("snapshot-dir", "where 's' saves snapshots", cxxopts::value<std::string>()->default_value("."))
      ("width", "requested camera width", cxxopts::value<int>()->default_value("640"))
      ("height", "requested camera height", cxxopts::value<int>()->default_value("480"))
      ("device", "auto | cpu | cuda", cxxopts::value<std::string>()->default_value("cpu"))
      ("threads", "CPU threads for the model (0: all cores; 1 is fastest for the small batches of a frame, and OpenMP barriers stall when the cores are shared)", cxxopts::value<int>()->default_value("1"))
      ("h,help", "show this help");
    const auto parsed = digitnet::cli::parse(opts, argc, argv, "Window keys: q or Esc quits, space pauses, s saves a snapshot.\n");
    if (!parsed) return digitnet::cli::kOk;
    const auto& args = *parsed;
    const bool headless = args.count("headless") > 0;
    if (args.count("video") + args.count("url") > 1) throw std::invalid_argument("give only one of --video and --url");
    const int64_t max_frames = args["max-frames"].as<int64_t>();
    if (max_frames < 0) throw std::invalid_argument("--max-frames must be 0 or more");
    const int smooth = args["smooth"].as<int>();
    if (smooth < 1 || smooth > 1000) throw std::invalid_argument("--smooth must be between 1 and 1000");
    if (!headless && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
      throw std::runtime_error("no display (DISPLAY is not set): run with --headless for JSON lines");

    const int threads = digitnet::configure_threads(args["threads"].as<int>());
    dv::ReaderOptions options;
    options.device = args["device"].as<std::string>();
    options.min_confidence = args["min-confidence"].as<double>();
    const fs::path checkpoint =
        args.count("checkpoint") ? fs::path(args["checkpoint"].as<std::string>()) : dv::default_reader_checkpoint();
    dv::DigitReader reader(checkpoint, options);
    std::cerr << digitnet::describe_device(reader.device(), threads) << '\n';

    cv::VideoCapture cap;
    std::string source;
    {
      const QuietVideoBackends quiet;
      if (args.count("video")) {
        source = args["video"].as<std::string>();
        std::error_code ec;
        if (!fs::exists(source, ec)) throw std::runtime_error("video " + source + " not found");
        if (fs::is_directory(source, ec)) throw std::runtime_error("video " + source + " is a folder");
        cap.open(source, cv::CAP_FFMPEG);
        if (!cap.isOpened()) cap.open(source, cv::CAP_ANY);
        if (!cap.isOpened()) throw std::runtime_error("cannot open video " + source + " (corrupt or unsupported)");
      } else if (args.count("url")) {
        source = args["url"].as<std::string>();
        cap.open(source, cv::CAP_ANY, {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, 10000, cv::CAP_PROP_READ_TIMEOUT_MSEC, 10000});
        if (!cap.isOpened()) throw std::runtime_error("cannot open stream " + source);
      } else {
        const int index = args["camera"].as<int>();
        source = "camera " + std::to_string(index);
        cap = open_camera(index, args["width"].as<int>(), args["height"].as<int>());
      }
    }

    const std::string window = "digitnet-cam";
    if (!headless) cv::namedWindow(window, cv::WINDOW_AUTOSIZE);
    cv::VideoWriter writer;
    const fs::path dump_dir = args.count("dump-inputs") ? fs::path(args["dump-inputs"].as<std::string>()) : fs::path();
    if (!dump_dir.empty()) fs::create_directories(dump_dir);
    dv::ReadingSmoother smoother(smooth);
    std::vector<double> latencies_ms;
    cv::Mat frame, shown;
    int64_t index = 0, snapshots = 0;
    bool paused = false;
    double fps = 0.0;
    const auto start = Clock::now();
    auto last = start;
    while (max_frames == 0 || index < max_frames) {
      if (!paused || frame.empty()) {
        if (!cap.read(frame) || frame.empty()) break;
        const auto t0 = Clock::now();
        const dv::Reading reading = reader.read(frame);
        const auto strings = smoother.update(reading.strings);
        latencies_ms.push_back(1000.0 * seconds_since(t0));
        const double pos_ms = cap.get(cv::CAP_PROP_POS_MSEC);
        const double t = args.count("video") && pos_ms > 0 ? pos_ms / 1000.0 : seconds_since(start);
        if (headless) {
          std::cout << digitnet::Json::object()
                           .set("frame", index)
                           .set("time", std::round(t * 1000.0) / 1000.0)
                           .set("strings", dv::to_json(strings))
                           .dump()
                    << '\n';
        }
        if (!dump_dir.empty())
          for (int64_t i = 0; i < reading.inputs.size(0); ++i) {
            char name[64];
            std::snprintf(name, sizeof name, "frame%06lld-%lld.png", static_cast<long long>(index), static_cast<long long>(i));
            cv::imwrite((dump_dir / name).string(), dv::tensor_to_image(reading.inputs[i]));
          }
        const double dt = seconds_since(last);
        last = Clock::now();
        fps = fps == 0.0 ? 1.0 / std::max(dt, 1e-6) : 0.9 * fps + 0.1 / std::max(dt, 1e-6);
        if (!headless || args.count("record")) {
          shown = frame.clone();
          dv::draw_readings(shown, strings);
          dv::draw_fps(shown, fps);
        }
        if (args.count("record")) {
          if (!writer.isOpened()) {
            const double src_fps = cap.get(cv::CAP_PROP_FPS);
            const auto out = args["record"].as<std::string>();
            {
              const QuietVideoBackends quiet;
              writer.open(out, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), src_fps > 0 && src_fps < 1000 ? src_fps : 15.0,
                          shown.size());
            }
            if (!writer.isOpened()) throw std::runtime_error("cannot write video " + out);
          }
          writer.write(shown);
        }
        ++index;
      }
      if (!headless) {
        cv::Mat view = shown.clone();
        if (paused) dv::draw_fps(view, fps, "paused");
        cv::imshow(window, view);
        const int key = cv::waitKey(paused ? 30 : 1) & 0xFF;
        if (key == 'q' || key == 27) break;
        if (key == ' ') paused = !paused;
        if (key == 's') {
          const fs::path out = fs::path(args["snapshot-dir"].as<std::string>()) /
                               ("snapshot-" + std::to_string(++snapshots) + ".png");
          cv::imwrite(out.string(), shown);
          std::cerr << "saved " << out.string() << '\n';
        }
      }
    }
    if (index == 0) throw std::runtime_error(source + " gave no frames (corrupt video or camera without picture)");
    const double total = seconds_since(start);
    char line[200];
    std::snprintf(line, sizeof line, "frames: %lld, %.1f frames/s, latency p50 %.1f ms, p95 %.1f ms",
                  static_cast<long long>(index), double(index) / std::max(total, 1e-9),
                  percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.95));
    std::cerr << line << '\n';
    return digitnet::cli::kOk;
  });
}
