// digitnet-read --captcha on captchas from digitnet-captcha-gen, a bad file among them.
#include <gtest/gtest.h>

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

  digitnet::test::write_text(dir / "caps" / "zz_bad.png", "not a png");
  const auto mixed = run_app("digitnet-read", "--captcha " + out);
  EXPECT_EQ(mixed.code, 1) << mixed.err;
  EXPECT_EQ(digitnet::test::count_lines(mixed.out), 6) << mixed.out;
  EXPECT_NE(mixed.err.find("zz_bad.png"), std::string::npos) << mixed.err;
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
}
