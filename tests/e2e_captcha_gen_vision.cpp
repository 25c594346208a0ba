// End-to-end runs of the real digitnet-captcha-gen binary.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <set>

#include "digitnet/vision/captcha.h"
#include "support.h"

using digitnet::test::read_text;
using digitnet::test::run_app;
using digitnet::test::TempDir;

namespace {

void expect_usage_error(const std::string& args, const std::string& needle) {
  TempDir dir;
  const auto r = run_app("digitnet-captcha-gen", args + " --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 2) << args << ": " << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace

TEST(CaptchaGenAppTest, WritesNamedPngsAndLabelsCsv) {
  TempDir dir;
  const auto r = run_app("digitnet-captcha-gen", "--count 12 --seed 5 --length 4-6 --size 180x64 --out " +
                                                     (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto csv = read_text(dir / "out" / "labels.csv");
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "file,digits");
  int rows = 0;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    const auto file = line.substr(0, comma), digits = line.substr(comma + 1);
    EXPECT_EQ(file, std::to_string(rows) + "_" + digits + ".png");
    EXPECT_GE(digits.size(), 4u);
    EXPECT_LE(digits.size(), 6u);
    const auto img = cv::imread((dir / "out" / file).string());
    ASSERT_FALSE(img.empty()) << file;
    EXPECT_EQ(img.cols, 180);
    EXPECT_EQ(img.rows, 64);
    ++rows;
  }
  EXPECT_EQ(rows, 12);
}

TEST(CaptchaGenAppTest, SameSeedWritesIdenticalFiles) {
  TempDir dir;
  ASSERT_EQ(run_app("digitnet-captcha-gen", "--count 5 --seed 9 --out " + (dir / "a").string()).code, 0);
  ASSERT_EQ(run_app("digitnet-captcha-gen", "--count 5 --seed 9 --threads 1 --out " + (dir / "b").string()).code, 0);
  const auto labels = read_text(dir / "a" / "labels.csv");
  EXPECT_EQ(labels, read_text(dir / "b" / "labels.csv"));
  for (const auto& entry : std::filesystem::directory_iterator(dir / "a"))
    EXPECT_EQ(read_text(entry.path()), read_text(dir / "b" / entry.path().filename())) << entry.path();
}

TEST(CaptchaGenAppTest, WritesASampleSheet) {
  TempDir dir;
  const auto sheet = (dir / "sheet.png").string();
  ASSERT_EQ(run_app("digitnet-captcha-gen", "--count 6 --out " + (dir / "o").string() + " --sheet " + sheet).code, 0);
  EXPECT_FALSE(cv::imread(sheet).empty());
}

TEST(CaptchaGenAppTest, BadFlagsGiveOneLineAndExitTwo) {
  expect_usage_error("--count 0", "--count");
  expect_usage_error("--count 3 --size 10x10", "size");
  expect_usage_error("--count 3 --size big", "--size");
  for (const char* size : {"160x", "x60", "160x60x3", "160-200x60"})
    expect_usage_error(std::string("--count 3 --size ") + size, std::string("not '") + size + "'");
  expect_usage_error("--count 3 --length 9-3", "length");
  expect_usage_error("--count 3 --length four", "--length");
  expect_usage_error("--count 3 --exclude glitter", "glitter");
  expect_usage_error("--count 3 --frobnicate", "frobnicate");
  expect_usage_error("--count 3 --mirror-1-7 1.5", "--mirror-1-7");
  expect_usage_error("--count 3 --mirror-1-7 -0.5", "--mirror-1-7");
  expect_usage_error("--count 3 --mirror-1-7-footless 1.5", "--mirror-1-7-footless");
  expect_usage_error("--seed 1", "--count");
  expect_usage_error("--count 3 --require handwriting", "handwriting");
  expect_usage_error("--count 3 --handwriting-share 0.3", "--handwriting");  // without the folder
  expect_usage_error("--count 3 --handwriting data/mnist --handwriting-share 2", "--handwriting-share");
}

TEST(CaptchaGenAppTest, AMissingHandwritingFolderGivesOneLineAndExitOne) {
  TempDir dir;
  const auto r = run_app("digitnet-captcha-gen", "--count 3 --handwriting /nonexistent/mnist --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/mnist"), std::string::npos) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err), 1) << r.err;
}

TEST(CaptchaGenAppTest, FontDirDrawsTheFacesFoundThereAlone) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without its freetype module";
  const std::filesystem::path face = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!std::filesystem::exists(face)) GTEST_SKIP() << "no " << face << " (scripts/setup.sh installs it)";
  TempDir dir;
  std::filesystem::create_directories(dir / "fonts" / "dejavu");
  std::filesystem::copy_file(face, dir / "fonts" / "dejavu" / face.filename());
  const std::string fonts = " --font-dir " + (dir / "fonts").string();
  const auto listed = run_app("digitnet-captcha-gen", "--list-fonts" + fonts);
  ASSERT_EQ(listed.code, 0) << listed.err;
  // DejaVu Sans draws its 1 with a foot.
  EXPECT_EQ(listed.out, "dejavu\t" + (dir / "fonts" / "dejavu" / face.filename()).string() + "\tfooted-1\n");
  const auto r = run_app("digitnet-captcha-gen", "--count 4 --require dejavu" + fonts + " --out " + (dir / "a").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find(", 1 TrueType fonts)"), std::string::npos) << r.err;
  // A family with no face in that folder cannot be required; an empty folder draws nothing.
  const auto more = run_app("digitnet-captcha-gen", "--count 4 --require more" + fonts + " --out " + (dir / "b").string());
  EXPECT_EQ(more.code, 1);
  EXPECT_EQ(digitnet::test::count_lines(more.err), 1) << more.err;
  std::filesystem::create_directories(dir / "empty");
  const auto empty = run_app("digitnet-captcha-gen", "--count 4 --font-dir " + (dir / "empty").string() + " --out " +
                                                         (dir / "c").string());
  EXPECT_EQ(empty.code, 1);
  EXPECT_NE(empty.err.find("no TrueType face"), std::string::npos) << empty.err;
  EXPECT_EQ(digitnet::test::count_lines(empty.err), 1) << empty.err;
  const auto missing = run_app("digitnet-captcha-gen", "--count 4 --font-dir /nonexistent/fonts --out " +
                                                           (dir / "d").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/fonts"), std::string::npos) << missing.err;
  EXPECT_EQ(digitnet::test::count_lines(missing.err), 1) << missing.err;
}

TEST(CaptchaGenAppTest, HelpExitsZero) {
  const auto r = run_app("digitnet-captcha-gen", "--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--count"), std::string::npos);
}
