// digitnet-read --captcha on captchas from digitnet-captcha-gen, a bad file among them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support.h"

using digitnet::test::run_app;
using digitnet::test::TempDir;

TEST(ReadCaptchaAppTest, ReadsAFolderAsJsonLinesAndReportsBadFiles) {
  TempDir dir;
  const auto out = (dir / "caps").string();
  ASSERT_EQ(run_app("digitnet-captcha-gen", "--count 6 --seed 3 --length 5 --out " + out).code, 0);
  const auto good = run_app("digitnet-read", "--captcha --length 5 --json " + out);
  ASSERT_EQ(good.code, 0) << good.err;
  EXPECT_EQ(digitnet::test::count_lines(good.out), 6) << good.out;
  EXPECT_NE(good.out.find("\"char_confidences\": ["), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("\"retry\": "), std::string::npos);
  const auto never = run_app("digitnet-read", "--captcha --length 5 --json --retry-below 0 " + out);
  ASSERT_EQ(never.code, 0) << never.err;
  EXPECT_EQ(never.out.find("\"retry\": true"), std::string::npos) << never.out;
  EXPECT_EQ(digitnet::test::count_lines(never.out), 6) << never.out;

  digitnet::test::write_text(dir / "caps" / "zz_bad.png", "not a png");
  const auto mixed = run_app("digitnet-read", "--captcha " + out);
  EXPECT_EQ(mixed.code, 1) << mixed.err;
  EXPECT_EQ(digitnet::test::count_lines(mixed.out), 6) << mixed.out;
  EXPECT_NE(mixed.err.find("zz_bad.png"), std::string::npos) << mixed.err;
}

// The lengths of the "text" fields of JSON lines.
std::vector<size_t> text_lengths(const std::string& out) {
  std::vector<size_t> n;
  const std::string key = "\"text\": \"";
  for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + 1))
    n.push_back(out.find('"', at + key.size()) - (at + key.size()));
  return n;
}

TEST(ReadCaptchaAppTest, FilesNamedOneByOneSettleOnTheirCommonLength) {
  TempDir dir;
  const auto out = (dir / "caps").string();
  ASSERT_EQ(run_app("digitnet-captcha-gen", "--count 80 --seed 77 --length 5 --require fill "
                                            "--exclude grid,particles,rings,elastic,framing,more,"
                                            "zeros,dotted,tilt,scatter,scribble,circles,erase,flags,strikes "
                                            "--out " + out).code, 0);
  std::string files;  // as a shell glob names them
  for (int i = 0; i < 80; ++i)
    for (const auto& e : std::filesystem::directory_iterator(out))
      if (e.path().filename().string().rfind(std::to_string(i) + "_", 0) == 0) files += " " + e.path().string();
  const auto any = run_app("digitnet-read", "--captcha --json --length any" + files);
  ASSERT_EQ(any.code, 0) << any.err;
  const auto plain = text_lengths(any.out);
  ASSERT_EQ(plain.size(), 80u);
  ASSERT_NE(std::count(plain.begin(), plain.end(), 5u), 80) << "every reading already had 5 digits";

  const auto settled = run_app("digitnet-read", "--captcha --json" + files);  // --length auto
  ASSERT_EQ(settled.code, 0) << settled.err;
  const auto lengths = text_lengths(settled.out);
  ASSERT_EQ(lengths.size(), 80u);
  EXPECT_EQ(std::count(lengths.begin(), lengths.end(), 5u), 80) << settled.out;
  EXPECT_NE(settled.err.find("the files named: most confident readings have 5 digits"), std::string::npos) << settled.err;
}

TEST(ReadCaptchaAppTest, CaptchaOnlyFlagsAreRefusedElsewhere) {
  TempDir dir;
  const auto r = run_app("digitnet-read", "--length 4 " + (dir / "x.png").string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--captcha"), std::string::npos) << r.err;
  const auto bad_length = run_app("digitnet-read", "--captcha --length 9-2 " + dir.path().string());
  EXPECT_EQ(bad_length.code, 2) << bad_length.err;
  const auto views = run_app("digitnet-read", "--views 2 " + (dir / "x.png").string());
  EXPECT_EQ(views.code, 2) << views.err;
  const auto bad_views = run_app("digitnet-read", "--captcha --views 4 " + dir.path().string());
  EXPECT_EQ(bad_views.code, 2) << bad_views.err;
  EXPECT_NE(bad_views.err.find("--views"), std::string::npos) << bad_views.err;
  EXPECT_EQ(digitnet::test::count_lines(bad_views.err), 1) << bad_views.err;
  const auto balance = run_app("digitnet-read", "--balance-1-7 off " + (dir / "x.png").string());
  EXPECT_EQ(balance.code, 2) << balance.err;
  const auto bad_balance = run_app("digitnet-read", "--captcha --balance-1-7 yes " + dir.path().string());
  EXPECT_EQ(bad_balance.code, 2) << bad_balance.err;
  EXPECT_NE(bad_balance.err.find("--balance-1-7 must be auto or off, not 'yes'"), std::string::npos) << bad_balance.err;
  EXPECT_EQ(digitnet::test::count_lines(bad_balance.err), 1) << bad_balance.err;
  EXPECT_EQ(run_app("digitnet-read", "--adapt off " + (dir / "x.png").string()).code, 2);
  const auto bad_adapt = run_app("digitnet-read", "--captcha --adapt maybe " + dir.path().string());
  EXPECT_EQ(bad_adapt.code, 2) << bad_adapt.err;
  EXPECT_NE(bad_adapt.err.find("--adapt must be auto, output or off, not 'maybe'"), std::string::npos) << bad_adapt.err;
  EXPECT_EQ(digitnet::test::count_lines(bad_adapt.err), 1) << bad_adapt.err;
  const auto retry = run_app("digitnet-read", "--retry-below 0.3 " + (dir / "x.png").string());
  EXPECT_EQ(retry.code, 2) << retry.err;
  for (const char* bad : {"1.5", "-1", "nan"}) {  // cxxopts itself refuses "nan" as a number
    const auto bad_retry = run_app("digitnet-read", std::string("--captcha --retry-below ") + bad + " " + dir.path().string());
    EXPECT_EQ(bad_retry.code, 2) << bad << ": " << bad_retry.err;
    EXPECT_EQ(digitnet::test::count_lines(bad_retry.err), 1) << bad_retry.err;
  }
  const auto above = run_app("digitnet-read", "--captcha --retry-below 1.5 " + dir.path().string());
  EXPECT_NE(above.err.find("--retry-below must be a confidence between 0 and 1, not 1.5"), std::string::npos) << above.err;
}
