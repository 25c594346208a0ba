// vision/image_io.h: header checks and limits before decoding.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "digitnet/vision/image_io.h"
#include "support.h"

namespace dv = digitnet::vision;
using digitnet::test::TempDir;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ImageIoTest, ReadsSizesOfEveryFormatFromTheHeader) {
  TempDir dir;
  const cv::Mat img(37, 53, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const std::string ext : {".png", ".jpg", ".bmp", ".ppm", ".webp"}) {
    const auto file = dir / ("a" + ext);
    ASSERT_TRUE(cv::imwrite(file.string(), img)) << ext;
    const auto h = dv::read_image_header(file);
    EXPECT_EQ(h.width, 53) << ext;
    EXPECT_EQ(h.height, 37) << ext;
    EXPECT_EQ(dv::load_image(file).size(), img.size()) << ext;
  }
}

TEST(ImageIoTest, RefusesEmptyMissingAndNonImageFiles) {
  TempDir dir;
  digitnet::test::write_text(dir / "empty.png", "");
  digitnet::test::write_text(dir / "notes.png", "these are not pixels");
  EXPECT_NE(error_of([&] { dv::load_image(dir / "empty.png"); }).find("empty file (0 bytes)"), std::string::npos);
  EXPECT_NE(error_of([&] { dv::load_image(dir / "notes.png"); }).find("not an image"), std::string::npos);
  EXPECT_NE(error_of([&] { dv::load_image(dir / "missing.png"); }).find("not found"), std::string::npos);
  EXPECT_NE(error_of([&] { dv::load_image(dir.path()); }).find("folder"), std::string::npos);
}

TEST(ImageIoTest, RefusesHugeImagesBeforeDecoding) {
  TempDir dir;
  // A PNG header claiming 100000 x 100000 pixels, followed by nothing: refused from the header.
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0", 29);
  digitnet::test::write_text(dir / "huge.png", png + std::string(64, '\0'));
  const auto err = error_of([&] { dv::load_image(dir / "huge.png"); });
  EXPECT_NE(err.find("100000x100000"), std::string::npos) << err;
  EXPECT_NE(err.find("50 megapixels"), std::string::npos) << err;
  dv::ImageLimits small;
  small.max_pixels = 100;
  const cv::Mat img(20, 20, CV_8U, cv::Scalar(0));
  cv::imwrite((dir / "a.png").string(), img);
  EXPECT_NE(error_of([&] { dv::load_image(dir / "a.png", small); }).find("above the limit"), std::string::npos);
}

TEST(ImageIoTest, TruncatedImageFailsCleanly) {
  TempDir dir;
  const cv::Mat img(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uint8_t> buf;
  cv::imencode(".png", img, buf);
  digitnet::test::write_text(dir / "cut.png", std::string(buf.begin(), buf.begin() + 40));
  EXPECT_NE(error_of([&] { dv::load_image(dir / "cut.png"); }).find("cannot decode"), std::string::npos);
}

TEST(ImageIoTest, KnowsImageExtensions) {
  EXPECT_TRUE(dv::has_image_extension("a/b.JPG"));
  EXPECT_TRUE(dv::has_image_extension("x.png"));
  EXPECT_FALSE(dv::has_image_extension("x.txt"));
}
