// End-to-end runs of the real digitnet-cam binary on a generated video; no camera or display.
#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "support.h"
#include "vision_support.h"

namespace dv = digitnet::vision;
using digitnet::test::run_app;
using digitnet::test::TempDir;

namespace {

struct VideoFixture {
  TempDir dir;
  std::string model, video, truth;
  static constexpr int kFrames = 24;
  VideoFixture() {
    model = digitnet::test::shipped_model();
    if (model.empty()) {
      digitnet::test::save_random_reader(dir / "random.pt");
      model = (dir / "random.pt").string();
    }
    dv::SceneOptions options;
    options.max_numbers_per_line = 2;
    const auto frames = dv::make_video(digitnet::test::heldout_bank(), options, kFrames, 9);
    video = (dir / "clip.avi").string();
    dv::write_video(video, frames);
    truth = frames[0].text();
  }
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The texts of one headless JSON line, joined by spaces.
std::string texts(const std::string& line) {
  static const std::regex re("\"text\": \"([0-9?]*)\"");
  std::string out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), re); it != std::sregex_iterator(); ++it)
    out += (out.empty() ? "" : " ") + (*it)[1].str();
  return out;
}

}  // namespace

TEST(CamAppTest, HeadlessVideoPrintsOneJsonLinePerFrameAndASummary) {
  VideoFixture f;
  const auto r = run_app("digitnet-cam", "--headless --checkpoint " + f.model + " --video " + f.video);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), size_t(VideoFixture::kFrames));
  for (size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].rfind("{\"frame\": " + std::to_string(i) + ", \"time\": ", 0), 0u) << lines[i];
  EXPECT_TRUE(std::regex_search(r.err, std::regex("frames: 24, [0-9.]+ frames/s, latency p50 [0-9.]+ ms, p95 [0-9.]+ ms")))
      << r.err;
  if (digitnet::test::shipped_model().empty()) GTEST_SKIP() << "no shipped model: plumbing checked only";
  // Numbers read exactly, over all frames: measured 100% at commit time.
  std::vector<std::string> truth;
  std::istringstream words(f.truth);
  for (std::string w; words >> w;) truth.push_back(w);
  int right = 0;
  for (const auto& line : lines) {
    const std::string read = " " + texts(line) + " ";
    for (const auto& t : truth) right += read.find(" " + t + " ") != std::string::npos;
  }
  EXPECT_GE(right, int(lines.size() * truth.size()) * 90 / 100) << "truth " << f.truth << "\n" << r.out;
}

TEST(CamAppTest, MaxFramesRecordAndDumpInputs) {
  VideoFixture f;
  const auto rec = (f.dir / "out.avi").string();
  const auto r = run_app("digitnet-cam", "--headless --max-frames 5 --checkpoint " + f.model + " --video " + f.video +
                                             " --record " + rec + " --dump-inputs " + (f.dir / "in").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 5u);
  cv::VideoCapture cap(rec);
  ASSERT_TRUE(cap.isOpened());
  int frames = 0;
  for (cv::Mat m; cap.read(m);) ++frames;
  EXPECT_EQ(frames, 5);
  EXPECT_TRUE(std::filesystem::exists(f.dir / "in" / "frame000000-0.png"));
}

TEST(CamAppTest, ARecordingThatCannotBeWrittenFailsWithOneLine) {
  VideoFixture f;
  const auto rec = (f.dir / "no-such-folder" / "out.avi").string();
  const auto r = run_app("digitnet-cam", "--headless --max-frames 3 --checkpoint " + f.model + " --video " + f.video +
                                             " --record " + rec);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("error: cannot write video " + rec), std::string::npos) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err), 2) << r.err;  // the device line and the error
}

TEST(CamAppTest, CameraThatDoesNotExistFailsFastWithOneLine) {
  TempDir dir;
  digitnet::test::save_random_reader(dir / "r.pt");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_app("digitnet-cam", "--headless --camera 97 --checkpoint " + (dir / "r.pt").string());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(s, 5.0);
  EXPECT_NE(r.err.find("error: camera 97 "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

TEST(CamAppTest, MissingAndCorruptVideosFailWithOneLine) {
  TempDir dir;
  digitnet::test::save_random_reader(dir / "r.pt");
  const auto ck = " --checkpoint " + (dir / "r.pt").string();
  auto r = run_app("digitnet-cam", "--headless --video " + (dir / "none.avi").string() + ck);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("none.avi not found"), std::string::npos) << r.err;
  std::string junk(5000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = char((i * 7919) & 0xFF);
  digitnet::test::write_text(dir / "junk.avi", junk);
  r = run_app("digitnet-cam", "--headless --video " + (dir / "junk.avi").string() + ck);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("junk.avi"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  // The device line and the error: not the video backends' own warnings as they give up.
  EXPECT_EQ(digitnet::test::count_lines(r.err), 2) << r.err;
  digitnet::test::write_text(dir / "empty.avi", "");
  r = run_app("digitnet-cam", "--headless --video " + (dir / "empty.avi").string() + ck);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err), 2) << r.err;
  // A stream nobody serves (port 9, discard, closed on the loopback): FFmpeg's own message stays quiet.
  r = run_app("digitnet-cam", "--headless --url http://127.0.0.1:9/none" + ck);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot open stream http://127.0.0.1:9/none"), std::string::npos) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err), 2) << r.err;
}

TEST(CamAppTest, WindowWithoutDisplaySuggestsHeadless) {
  TempDir dir;
  digitnet::test::save_random_reader(dir / "r.pt");
  const char* display = std::getenv("DISPLAY");
  const std::string saved = display ? display : "";
  ::unsetenv("DISPLAY");
  ::unsetenv("WAYLAND_DISPLAY");
  const auto r = run_app("digitnet-cam", "--video x.avi --checkpoint " + (dir / "r.pt").string());
  if (display) ::setenv("DISPLAY", saved.c_str(), 1);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--headless"), std::string::npos) << r.err;
}

TEST(CamAppTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_app("digitnet-cam", "--smooth 0 --headless").code, 2);
  EXPECT_EQ(run_app("digitnet-cam", "--video a --url b --headless").code, 2);
  EXPECT_EQ(run_app("digitnet-cam", "--nope").code, 2);
  const auto stray = run_app("digitnet-cam", "--headless stray");
  EXPECT_EQ(stray.code, 2);
  EXPECT_NE(stray.err.find("unexpected argument 'stray' (see --help)"), std::string::npos) << stray.err;
  const auto help = run_app("digitnet-cam", "--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Window keys: q or Esc quits"), std::string::npos) << help.out;
}
