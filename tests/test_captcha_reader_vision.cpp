// Reading captchas: files, bad input, GIF, labelled folders, the shipped model (vision/captcha_reader.h).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "digitnet/checkpoint.h"
#include "digitnet/vision/captcha.h"
#include "digitnet/vision/captcha_reader.h"
#include "digitnet/vision/captcha_site.h"
#include "support.h"
#include "vision_support.h"

using digitnet::test::TempDir;
using digitnet::test::write_one_face_captchas;
using digitnet::test::write_text;

namespace {

digitnet::CaptchaReader untrained_reader() {
  torch::manual_seed(0);
  digitnet::CaptchaNetOptions o;
  o.channels = 4;
  o.hidden = 8;
  return digitnet::CaptchaReader(digitnet::CaptchaNet(o), torch::kCPU);
}

const std::filesystem::path kModel = std::filesystem::path(DIGITNET_SOURCE_DIR) / "models" / "captcha.pt";

// A GIF with a 256-colour grey palette, written with 9-bit LZW codes and a clear code before
// the table would grow (valid GIF, no compression). `transparent` < 0 for none.
std::vector<unsigned char> encode_gif(const cv::Mat& grey, int transparent = -1) {
  std::vector<unsigned char> b = {'G', 'I', 'F', '8', '9', 'a'};
  const auto u16 = [&](int v) {
    b.push_back(static_cast<unsigned char>(v & 255));
    b.push_back(static_cast<unsigned char>(v >> 8));
  };
  u16(grey.cols);
  u16(grey.rows);
  b.insert(b.end(), {0xF7, 0, 0});  // global table of 256 colours
  for (int i = 0; i < 256; ++i) b.insert(b.end(), {static_cast<unsigned char>(i), static_cast<unsigned char>(i),
                                                   static_cast<unsigned char>(i)});
  if (transparent >= 0) b.insert(b.end(), {0x21, 0xF9, 4, 1, 0, 0, static_cast<unsigned char>(transparent), 0});
  b.push_back(0x2C);
  u16(0);
  u16(0);
  u16(grey.cols);
  u16(grey.rows);
  b.push_back(0);
  b.push_back(8);  // LZW minimum code size
  std::vector<unsigned char> data;
  uint32_t bits = 0;
  int nbits = 0;
  const auto put = [&](int code) {
    bits |= uint32_t(code) << nbits;
    nbits += 9;
    while (nbits >= 8) {
      data.push_back(static_cast<unsigned char>(bits & 255));
      bits >>= 8;
      nbits -= 8;
    }
  };
  int since_clear = 0;
  put(256);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) {
      if (since_clear == 250) {
        put(256);
        since_clear = 0;
      }
      put(grey.at<uchar>(y, x));
      ++since_clear;
    }
  put(257);
  if (nbits > 0) data.push_back(static_cast<unsigned char>(bits & 255));
  for (size_t i = 0; i < data.size(); i += 255) {
    const size_t n = std::min<size_t>(255, data.size() - i);
    b.push_back(static_cast<unsigned char>(n));
    b.insert(b.end(), data.begin() + long(i), data.begin() + long(i + n));
  }
  b.push_back(0);
  b.push_back(0x3B);
  return b;
}

void write_bytes(const std::filesystem::path& file, const std::vector<unsigned char>& bytes) {
  write_text(file, std::string(bytes.begin(), bytes.end()));
}

std::string error_of(const std::filesystem::path& file) {
  try {
    digitnet::read_captcha_image(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CaptchaLengthTest, ParsesOneLengthOrARange) {
  const auto a = digitnet::parse_captcha_length("6");
  EXPECT_EQ(a.min, 6);
  EXPECT_EQ(a.max, 6);
  const auto b = digitnet::parse_captcha_length("4-6");
  EXPECT_EQ(b.min, 4);
  EXPECT_EQ(b.max, 6);
  EXPECT_FALSE(digitnet::parse_captcha_length("").constrained());
  const auto a_ = digitnet::parse_captcha_length("auto");
  EXPECT_TRUE(a_.automatic);
  EXPECT_FALSE(a_.constrained());
  EXPECT_FALSE(digitnet::parse_captcha_length("any").automatic);
  EXPECT_EQ(digitnet::to_string(a), "6");
  EXPECT_EQ(digitnet::to_string(b), "4-6");
  EXPECT_EQ(digitnet::to_string(a_), "any");
  for (const char* bad : {"0", "6-4", "x", "4-", "17", "-3"})
    EXPECT_THROW(digitnet::parse_captcha_length(bad), std::invalid_argument) << bad;
}

TEST(CaptchaCharMatchesTest, CountsTruthCharactersMatchedByEditDistance) {
  EXPECT_EQ(digitnet::captcha_char_matches("1234", "1234"), 4);
  EXPECT_EQ(digitnet::captcha_char_matches("1284", "1234"), 3);
  EXPECT_EQ(digitnet::captcha_char_matches("134", "1234"), 3);
  EXPECT_EQ(digitnet::captcha_char_matches("", "1234"), 0);
  EXPECT_EQ(digitnet::captcha_char_matches("99999999", "12"), 0);
}

TEST(CaptchaImageTest, ReadsPngJpegAndTransparentPng) {
  TempDir dir;
  cv::Mat img(40, 100, CV_8UC3, cv::Scalar(200, 220, 240));
  ASSERT_TRUE(cv::imwrite((dir / "a.png").string(), img));
  ASSERT_TRUE(cv::imwrite((dir / "a.jpg").string(), img));
  cv::Mat bgra(40, 100, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  ASSERT_TRUE(cv::imwrite((dir / "t.png").string(), bgra));
  EXPECT_EQ(digitnet::read_captcha_image(dir / "a.png").size(), cv::Size(100, 40));
  EXPECT_EQ(digitnet::read_captcha_image(dir / "a.jpg").channels(), 3);
  EXPECT_EQ(digitnet::read_captcha_image(dir / "t.png").channels(), 4);
}

TEST(CaptchaImageTest, DecodesGifsWithTransparency) {
  TempDir dir;
  cv::Mat grey(23, 61, CV_8UC1);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<uchar>(y, x) = static_cast<uchar>((x * 7 + y * 13) % 256);
  write_bytes(dir / "a.gif", encode_gif(grey));
  const auto img = digitnet::read_captcha_image(dir / "a.gif");
  ASSERT_EQ(img.type(), CV_8UC4);
  ASSERT_EQ(img.size(), grey.size());
  cv::Mat back;
  cv::extractChannel(img, back, 1);
  EXPECT_EQ(cv::norm(back, grey, cv::NORM_INF), 0);

  write_bytes(dir / "t.gif", encode_gif(grey, grey.at<uchar>(0, 0)));
  const auto t = digitnet::read_captcha_image(dir / "t.gif");
  EXPECT_EQ(t.at<cv::Vec4b>(0, 0)[3], 0);
  EXPECT_EQ(t.at<cv::Vec4b>(0, 1)[3], 255);
}

TEST(CaptchaImageTest, BadFilesGiveOneClearErrorEach) {
  TempDir dir;
  write_text(dir / "empty.png", "");
  EXPECT_NE(error_of(dir / "empty.png").find("empty file"), std::string::npos);

  ASSERT_TRUE(cv::imwrite((dir / "dot.png").string(), cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 0, 0))));
  EXPECT_NE(error_of(dir / "dot.png").find("too small"), std::string::npos);

  write_text(dir / "notes.png", "these are not pixels\n");
  EXPECT_NE(error_of(dir / "notes.png").find("not an image"), std::string::npos);

  cv::Mat img(60, 160, CV_8UC3);
  cv::randu(img, 0, 255);
  std::vector<unsigned char> png, jpg;
  cv::imencode(".png", img, png);
  cv::imencode(".jpg", img, jpg);
  write_bytes(dir / "cut.png", {png.begin(), png.begin() + long(png.size() / 2)});
  EXPECT_NE(error_of(dir / "cut.png").find("truncated"), std::string::npos);
  write_bytes(dir / "cut.jpg", {jpg.begin(), jpg.begin() + long(jpg.size() / 2)});
  EXPECT_NE(error_of(dir / "cut.jpg").find("truncated"), std::string::npos);

  // A PNG header announcing 100000 x 100000 pixels is refused before decoding.
  auto huge = png;
  for (const size_t at : {16u, 20u}) {
    huge[at] = 0;
    huge[at + 1] = 0x01;
    huge[at + 2] = 0x86;
    huge[at + 3] = 0xA0;
  }
  write_bytes(dir / "huge.png", huge);
  EXPECT_NE(error_of(dir / "huge.png").find("too large"), std::string::npos);

  cv::Mat grey(30, 90, CV_8UC1, cv::Scalar(128));
  auto gif = encode_gif(grey);
  write_bytes(dir / "cut.gif", {gif.begin(), gif.begin() + long(gif.size() / 2)});
  EXPECT_NE(error_of(dir / "cut.gif").find("truncated"), std::string::npos);

  EXPECT_NE(error_of(dir / "missing.png").find("no such file"), std::string::npos);
  for (const char* name : {"empty.png", "dot.png", "notes.png", "cut.png", "cut.jpg", "huge.png", "cut.gif"}) {
    const auto msg = error_of(dir / name);
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

TEST(CaptchaReaderTest, FolderWithBadFilesStillReadsTheGoodOnes) {
  TempDir dir;
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  for (int i = 0; i < 3; ++i) cv::imwrite((dir / ("good" + std::to_string(i) + ".png")).string(), gen.generate(uint64_t(i)).image);
  write_text(dir / "bad.png", "");
  write_text(dir / "bad.jpg", "GIF? no");
  write_text(dir / "readme.txt", "not a captcha, not an image extension");
  auto reader = untrained_reader();
  const auto results = digitnet::read_captcha_files(reader, dir.path());
  ASSERT_EQ(results.size(), 5u);
  int ok = 0;
  for (const auto& r : results) {
    if (r.ok) {
      ++ok;
      EXPECT_EQ(r.reading.char_confidences.size(), r.reading.text.size());
    } else {
      EXPECT_FALSE(r.error.empty());
    }
  }
  EXPECT_EQ(ok, 3);
}

TEST(CaptchaReaderTest, ResultsBecomeOneJsonObjectPerFile) {
  digitnet::CaptchaFileResult ok;
  ok.file = "a/1.png";
  ok.ok = true;
  ok.reading = {"42", 0.25, {0.5, 0.5}, true};
  EXPECT_EQ(digitnet::captcha_result_json(ok).dump(),
            R"({"file": "a/1.png", "text": "42", "confidence": 0.25, "char_confidences": [0.5, 0.5], "retry": true})");
  digitnet::CaptchaFileResult bad;
  bad.file = "b.png";
  bad.error = "b.png: empty file";
  EXPECT_EQ(digitnet::captcha_result_json(bad).dump(), R"({"file": "b.png", "error": "b.png: empty file"})");
}

TEST(CaptchaReaderTest, LengthConstraintFixesTheNumberOfDigits) {
  auto reader = untrained_reader();
  reader.options().length = digitnet::parse_captcha_length("5");
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(reader.read(gen.generate(i).image).text.size(), 5u);
  reader.options().length = digitnet::parse_captcha_length("4-6");
  for (uint64_t i = 0; i < 5; ++i) {
    const auto n = reader.read(gen.generate(i).image).text.size();
    EXPECT_GE(n, 4u);
    EXPECT_LE(n, 6u);
  }
}

// `n` readings of `length` digits, confident or not.
std::vector<digitnet::CaptchaReading> readings_of(int n, size_t length, bool retry) {
  return std::vector<digitnet::CaptchaReading>(size_t(n), {std::string(length, '7'), retry ? 0.2 : 0.9, {}, retry});
}

std::vector<digitnet::CaptchaReading> operator+(std::vector<digitnet::CaptchaReading> a,
                                                const std::vector<digitnet::CaptchaReading>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(CaptchaLengthTest, AFolderSettlesOnTheLengthOfMostConfidentReadings) {
  using digitnet::common_captcha_length;
  // 15 of 20 confident readings (75%) have 5 digits; the unsure ones do not count.
  const auto l = common_captcha_length(readings_of(15, 5, false) + readings_of(5, 6, false) + readings_of(30, 3, true));
  EXPECT_EQ(l.min, 5);
  EXPECT_EQ(l.max, 5);
  // 14 of 20 (70%) is not enough: mixed lengths are left alone.
  EXPECT_FALSE(common_captcha_length(readings_of(14, 5, false) + readings_of(6, 6, false)).constrained());
  EXPECT_FALSE(common_captcha_length(readings_of(10, 4, false) + readings_of(10, 5, false)).constrained());
  // Too few confident readings to judge.
  EXPECT_FALSE(common_captcha_length(readings_of(19, 5, false) + readings_of(40, 5, true)).constrained());
  EXPECT_FALSE(common_captcha_length({}).constrained());
}

TEST(CaptchaLengthTest, SettlingReadsAgainOnlyWhenTheLengthIsAuto) {
  auto reader = untrained_reader();
  auto readings = readings_of(25, 4, false) + readings_of(1, 7, false);
  std::vector<digitnet::CaptchaReading*> pointers;
  for (auto& r : readings) pointers.push_back(&r);
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  std::vector<size_t> loaded;
  const auto load = [&](size_t i) {
    loaded.push_back(i);
    return gen.generate(i).image;
  };
  const auto fixed = digitnet::settle_captcha_lengths(reader, pointers, load);
  EXPECT_FALSE(fixed.length.constrained());
  EXPECT_EQ(fixed.reread, 0);
  EXPECT_TRUE(loaded.empty());

  reader.options().length = digitnet::parse_captcha_length("auto");
  const auto settled = digitnet::settle_captcha_lengths(reader, pointers, load);
  EXPECT_EQ(settled.length.min, 4);
  EXPECT_EQ(settled.reread, 1);
  EXPECT_EQ(loaded, std::vector<size_t>{25});
  EXPECT_EQ(readings[25].text.size(), 4u);  // read again by the model, constrained to 4
  EXPECT_TRUE(reader.options().length.automatic);  // the reader's own setting is kept
}

TEST(CaptchaBalanceTest, ParsesAutoAndOff) {
  EXPECT_TRUE(digitnet::parse_one_seven_balance("auto"));
  EXPECT_FALSE(digitnet::parse_one_seven_balance("off"));
  EXPECT_THROW(digitnet::parse_one_seven_balance("on"), std::invalid_argument);
  EXPECT_THROW(digitnet::parse_one_seven_balance(""), std::invalid_argument);
}

TEST(CaptchaBalanceTest, DecodingKeptLogProbabilitiesGivesTheReadingsAndTheBiasMovesOnlyOnesAndSevens) {
  auto reader = untrained_reader();
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  std::vector<cv::Mat> images;
  for (uint64_t i = 0; i < 20; ++i) images.push_back(gen.generate(i).image);
  std::vector<torch::Tensor> kept;
  const auto read = reader.read(images, &kept);
  ASSERT_EQ(kept.size(), images.size());
  EXPECT_EQ(kept[0].size(1), 3);  // [T, views, 11]
  const auto again = reader.decode(kept);
  ASSERT_EQ(again.size(), read.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(again[i].text, read[i].text);
    EXPECT_NEAR(again[i].confidence, read[i].confidence, 1e-6);
  }
  // A bias of 8 (+4 to the 1, -4 to the 7) leaves no frame to the 7, and -8 none to the 1.
  reader.options().one_seven_bias = 8.0;
  std::string towards_one;
  for (const auto& r : reader.decode(kept)) towards_one += r.text;
  reader.options().one_seven_bias = -8.0;
  std::string towards_seven;
  for (const auto& r : reader.decode(kept)) towards_seven += r.text;
  EXPECT_EQ(towards_one.find('7'), std::string::npos) << towards_one;
  EXPECT_EQ(towards_seven.find('1'), std::string::npos) << towards_seven;
  EXPECT_GT(std::count(towards_one.begin(), towards_one.end(), '1'), 0) << towards_one;
}

// `n` confident readings of `text`.
std::vector<digitnet::CaptchaReading> confident(int n, const std::string& text) {
  return std::vector<digitnet::CaptchaReading>(size_t(n), {text, 0.9, {}, false});
}

TEST(CaptchaBalanceTest, FoldersWithinChanceOrWithoutOneOfTheTwoAreLeftAlone) {
  auto reader = untrained_reader();
  int loads = 0;
  const auto load = [&](size_t) {
    ++loads;
    return cv::Mat(60, 160, CV_8UC3, cv::Scalar::all(255));
  };
  const auto balance = [&](std::vector<digitnet::CaptchaReading> readings) {
    std::vector<digitnet::CaptchaReading*> pointers;
    for (auto& r : readings) pointers.push_back(&r);
    return digitnet::balance_captcha_ones_sevens(reader, pointers, load);
  };
  // 55 1s against 45 7s: within sqrt(100) = 10 of even (the other digits 50 each, 9 none).
  auto b = balance(confident(55, "1") + confident(45, "7") + confident(50, "0234568"));
  EXPECT_EQ(b.bias, 0.0);
  // No 1s at all (a site that draws 2-9): 7s alone are as common as any other digit.
  b = balance(confident(100, "23456789"));
  EXPECT_EQ(b.bias, 0.0);
  // Too few to judge, and unsure readings do not count.
  b = balance(confident(5, "1") + confident(30, "7") + readings_of(200, 5, true));
  EXPECT_EQ(b.bias, 0.0);
  EXPECT_EQ(loads, 0);
  // 20 1s against 80 7s is far beyond chance: the folder is read again.
  b = balance(confident(20, "1") + confident(80, "7") + confident(50, "0234568"));
  EXPECT_EQ(loads, 150);
  EXPECT_GT(b.bias, 0.0);
  EXPECT_LE(b.bias, digitnet::kMaxOneSevenBias);
}

TEST(CaptchaEvalTest, ShippedModelBalancesAFaceWhoseOnesItReadsAsSevens) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  const std::string face = "truetype/roboto/unhinted/RobotoTTF/Roboto-Light.ttf";
  if (!std::filesystem::exists("/usr/share/fonts/" + face)) GTEST_SKIP() << "fonts-roboto-unhinted not installed";
  TempDir set, fonts;
  write_one_face_captchas(set.path(), fonts.path(), face, "more", 150);
  digitnet::CaptchaReader reader(kModel, torch::kCPU);
  reader.options().adapt_output = false;  // balancing alone (the refitted layer balances them itself)
  reader.options().balance_ones_sevens = false;
  const auto off = digitnet::evaluate_captcha_folder(reader, set.path());
  reader.options().balance_ones_sevens = true;
  const auto on = digitnet::evaluate_captcha_folder(reader, set.path());
  // The shipped model reads about a third of Roboto Light's upright 1s as 7 (bench/BENCHMARKS.md):
  // 124 of these 150 read right, and 140 balanced.
  EXPECT_EQ(off.settled.balance.bias, 0.0);
  EXPECT_GT(on.settled.balance.bias, 0.0);
  EXPECT_GT(on.settled.balance.changed, 0);
  EXPECT_GE(on.correct, off.correct + 10) << off.correct << " and " << on.correct << " of 150 read right";
  EXPECT_EQ(reader.options().one_seven_bias, 0.0);  // the reader's own options are kept
}

TEST(CaptchaAdaptTest, ShippedModelRefitsItsOutputLayerToAFaceWhoseOnesItReadsAsSevens) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  const std::string face = "truetype/roboto/unhinted/RobotoTTF/Roboto-Light.ttf";
  if (!std::filesystem::exists("/usr/share/fonts/" + face)) GTEST_SKIP() << "fonts-roboto-unhinted not installed";
  TempDir set, fonts, mixed, mixed_fonts;
  write_one_face_captchas(set.path(), fonts.path(), face, "more", 150, 5, 5);
  digitnet::CaptchaReader reader(kModel, torch::kCPU);
  const auto first = reader.read(cv::imread(digitnet::captcha_image_files(set.path()).at(0).string()));
  reader.options().adapt_output = false;
  const auto off = digitnet::evaluate_captcha_folder(reader, set.path());
  reader.options().adapt_output = true;
  const auto on = digitnet::evaluate_captcha_folder(reader, set.path());
  EXPECT_EQ(off.settled.adaptation.learned_from, 0);
  EXPECT_GE(on.settled.adaptation.learned_from, digitnet::kAdaptMinReadings);
  EXPECT_LT(on.settled.adaptation.learned_from, 150);
  EXPECT_GT(on.settled.adaptation.changed, 0);
  // Balanced (as both are read), 138 of these 150 read right; refitted to the balanced sure
  // readings as well, 139: a plain face leaves little to learn (the real generators' folders
  // gain up to 6 points: bench/BENCHMARKS.md, "A folder's own output layer"), but it must not lose.
  EXPECT_GE(on.correct, off.correct) << off.correct << " and " << on.correct << " of 150 read right";
  // The reader's own output layer is back: the first captcha reads as before, to the bit.
  const auto again = reader.read(cv::imread(digitnet::captcha_image_files(set.path()).at(0).string()));
  EXPECT_EQ(again.text, first.text);
  EXPECT_EQ(again.confidence, first.confidence);

  // The files named one by one (no features kept) adapt the same way, reading features again.
  std::vector<digitnet::CaptchaReading> named;
  std::vector<std::filesystem::path> files;
  for (const auto& file : digitnet::captcha_image_files(set.path())) {
    named.push_back(reader.read(digitnet::read_captcha_image(file)));
    files.push_back(file);
  }
  std::vector<digitnet::CaptchaReading*> pointers;
  for (auto& r : named) pointers.push_back(&r);
  const auto settled = digitnet::settle_captcha_folder(
      reader, pointers, [&](size_t i) { return digitnet::read_captcha_image(files[i]); });
  EXPECT_EQ(settled.adaptation.learned_from, on.settled.adaptation.learned_from);
  int64_t right = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto name = files[i].stem().string();
    right += named[i].text == name.substr(name.find('_') + 1);
  }
  EXPECT_EQ(right, on.correct);

  // A folder of mixed lengths (4-6 digits) may be of mixed sources: it is left as read, however
  // many of its readings are sure.
  write_one_face_captchas(mixed.path(), mixed_fonts.path(), face, "more", 150, 4, 6);
  int64_t sure = 0;
  for (const auto& r : digitnet::read_captcha_files(reader, mixed.path()))
    sure += r.ok && !r.reading.retry && r.reading.confidence >= digitnet::kAdaptMinConfidence;
  EXPECT_GE(sure, digitnet::kAdaptMinReadings);
  EXPECT_EQ(digitnet::evaluate_captcha_folder(reader, mixed.path()).settled.adaptation.learned_from, 0);
}

TEST(CaptchaAdaptTest, FittingTheOutputLayerLowersItsLossAndRestoringPutsItBack) {
  auto reader = untrained_reader();
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  std::vector<cv::Mat> images;
  std::vector<std::string> texts;
  for (uint64_t i = 0; i < 16; ++i) {
    const auto c = gen.generate(i);
    images.push_back(c.image);
    texts.push_back(c.text);
  }
  std::vector<torch::Tensor> log_probs, features;
  reader.read(images, &log_probs, &features);
  ASSERT_EQ(features.size(), images.size());
  EXPECT_EQ(features[0].size(1), 3);   // [T, views, 2 * hidden]
  EXPECT_EQ(features[0].size(2), 16);
  // head() of the kept features gives the kept log-probabilities.
  const auto head = reader.head(features);
  ASSERT_EQ(head.size(), log_probs.size());
  for (size_t i = 0; i < head.size(); ++i) EXPECT_TRUE(torch::allclose(head[i], log_probs[i], 1e-5, 1e-6)) << i;
  const auto loss = [&](const std::vector<torch::Tensor>& lp) {
    std::vector<std::string> view_texts;
    for (const auto& t : texts) view_texts.insert(view_texts.end(), 3, t);
    return digitnet::captcha_ctc_loss(torch::cat(lp, 1), view_texts).item<double>();
  };
  const double before = loss(log_probs);
  reader.fit_output(features, texts);
  const double after = loss(reader.head(features));
  EXPECT_LT(after, 0.9 * before) << before << " -> " << after;
  reader.restore_output();
  const auto restored = reader.head(features);
  for (size_t i = 0; i < restored.size(); ++i) EXPECT_TRUE(torch::equal(restored[i], log_probs[i])) << i;
  EXPECT_THROW(reader.fit_output(features, {"123"}), std::invalid_argument);
}

TEST(CaptchaReaderTest, LowConfidenceAsksForARetry) {
  auto reader = untrained_reader();  // an untrained model is never sure
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  const auto r = reader.read(gen.generate(0).image);
  EXPECT_TRUE(r.retry);
  EXPECT_LT(r.confidence, 0.5);
}

TEST(CaptchaReaderTest, GreyAndColourImagesGiveTheSameReading) {
  auto reader = untrained_reader();
  const auto img = digitnet::CaptchaGenerator(digitnet::CaptchaOptions{}).generate(1).image;
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
  const auto a = reader.read(img), b = reader.read(grey);
  EXPECT_EQ(a.text, b.text);
  EXPECT_NEAR(a.confidence, b.confidence, 1e-6);
}

TEST(CaptchaViewsTest, TheImageWithDarkAndWithLightStrokesBolder) {
  // A light bar 2 pixels wide and a dark bar 2 pixels wide on mid grey.
  cv::Mat grey(40, 100, CV_8UC1, cv::Scalar(120));
  cv::rectangle(grey, cv::Rect(30, 10, 2, 20), cv::Scalar(230), cv::FILLED);
  cv::rectangle(grey, cv::Rect(60, 10, 2, 20), cv::Scalar(10), cv::FILLED);
  const auto width_of = [](const cv::Mat& view, int x0, uint8_t value) {
    int n = 0;
    for (int x = x0 - 4; x < x0 + 6; ++x) n += view.at<uint8_t>(20, x) == value;
    return n;
  };
  const auto views = digitnet::captcha_views(grey, 3);
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(cv::norm(views[0], grey, cv::NORM_INF), 0);
  for (const auto& v : views) EXPECT_EQ(v.size(), grey.size());
  EXPECT_EQ(width_of(views[0], 30, 230), 2);
  EXPECT_EQ(width_of(views[0], 60, 10), 2);
  EXPECT_EQ(width_of(views[1], 30, 230), 1);  // light stroke thinner
  EXPECT_EQ(width_of(views[1], 60, 10), 3);   // dark stroke bolder
  EXPECT_EQ(width_of(views[2], 30, 230), 3);
  EXPECT_EQ(width_of(views[2], 60, 10), 1);
  EXPECT_EQ(views[1].at<uint8_t>(2, 2), 120);  // the background stays
  EXPECT_EQ(views[2].at<uint8_t>(2, 2), 120);
  EXPECT_EQ(digitnet::captcha_views(grey, 1).size(), 1u);
  EXPECT_THROW(digitnet::captcha_views(grey, 0), std::invalid_argument);
  EXPECT_THROW(digitnet::captcha_views(grey, 4), std::invalid_argument);
  digitnet::CaptchaReaderOptions bad;
  bad.views = 4;
  EXPECT_THROW(digitnet::CaptchaReader(digitnet::CaptchaNet(digitnet::CaptchaNetOptions{}), torch::kCPU, bad),
               std::invalid_argument);
}

TEST(CaptchaReaderTest, ReadsEveryViewAndKeepsTheMostConfident) {
  auto one = untrained_reader();
  one.options().views = 1;
  auto three = untrained_reader();
  three.options().views = 3;
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  std::vector<cv::Mat> images;
  for (uint64_t i = 0; i < 6; ++i) images.push_back(gen.generate(i).image);
  const auto best = three.read(images);
  ASSERT_EQ(best.size(), images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const auto views = one.read(digitnet::captcha_views(digitnet::captcha_grey(images[i]), 3));
    size_t most = 0;
    for (size_t v = 1; v < views.size(); ++v)
      if (views[v].confidence > views[most].confidence) most = v;
    EXPECT_EQ(best[i].text, views[most].text) << i;
    EXPECT_NEAR(best[i].confidence, views[most].confidence, 1e-6) << i;
    EXPECT_GE(best[i].confidence + 1e-9, views[0].confidence) << i;
  }
}

TEST(CaptchaReaderTest, RejectsACheckpointOfAnotherKind) {
  TempDir dir;
  digitnet::CaptchaNet net;
  digitnet::save_checkpoint(dir / "m.pt", *net, digitnet::new_manifest("mnist"));
  EXPECT_THROW(digitnet::CaptchaReader(dir / "m.pt", torch::kCPU), std::runtime_error);
  EXPECT_THROW(digitnet::CaptchaReader(dir / "none.pt", torch::kCPU), std::runtime_error);
}

TEST(LabelledCaptchasTest, ReadsNamesAndLabelsCsvAndRejectsUnknownFormats) {
  TempDir dir;
  const cv::Mat img(30, 90, CV_8UC3, cv::Scalar(255, 255, 255));
  std::filesystem::create_directories(dir / "names");
  cv::imwrite((dir / "names" / "site_a_0123.png").string(), img);
  cv::imwrite((dir / "names" / "7_99.jpg").string(), img);
  const auto named = digitnet::list_labelled_captchas(dir / "names");
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].digits, "99");
  EXPECT_EQ(named[1].digits, "0123");

  std::filesystem::create_directories(dir / "csv");
  cv::imwrite((dir / "csv" / "x.png").string(), img);
  write_text(dir / "csv" / "labels.csv", "file,digits\nx.png,0042\n");
  const auto listed = digitnet::list_labelled_captchas(dir / "csv");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].digits, "0042");

  std::filesystem::create_directories(dir / "odd");
  cv::imwrite((dir / "odd" / "captcha-one.png").string(), img);
  try {
    digitnet::list_labelled_captchas(dir / "odd");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown label format"), std::string::npos);
  }
  // A lone row with a bad label is taken as a header, and the error says so.
  write_text(dir / "csv" / "labels.csv", "x.png,12ab\n");
  try {
    digitnet::list_labelled_captchas(dir / "csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no labelled rows (row 1, 'x.png,12ab', was taken as a header)"),
              std::string::npos)
        << e.what();
  }
  write_text(dir / "csv" / "labels.csv", "file,digits\nx.png,12ab\n");
  try {
    digitnet::list_labelled_captchas(dir / "csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2 is not 'file,digits'"), std::string::npos) << e.what();
  }
}

TEST(CaptchaEvalTest, ScoresAFolderAndCountsBadFilesAsWrong) {
  TempDir dir;
  const digitnet::CaptchaGenerator gen(digitnet::CaptchaOptions{});
  for (int i = 0; i < 4; ++i) {
    const auto c = gen.generate(uint64_t(i));
    cv::imwrite((dir / (std::to_string(i) + "_" + c.text + ".png")).string(), c.image);
  }
  write_text(dir / "9_1234.png", "truncated");
  auto reader = untrained_reader();
  const auto r = digitnet::evaluate_captcha_folder(reader, dir.path());
  EXPECT_EQ(r.total, 5);
  EXPECT_EQ(r.read, 4);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("9_1234.png"), std::string::npos);
  EXPECT_GT(r.chars, 0);
  EXPECT_GT(r.captchas_per_s(), 0.0);
  EXPECT_LE(r.accuracy(), 1.0);
  // An untrained model is never sure: every reading is marked retry, none answered.
  EXPECT_EQ(r.retry, 4);
  EXPECT_LE(r.retry_correct, r.retry);
  EXPECT_EQ(r.answered_accuracy(), 0.0);
}

// Captchas of many styles (filled digits, not the hardest clutter, warps or fonts, nor the
// seventh and eighth training stages' families), `min`-`max` digits, written as
// <i>_<digits>.png. With 5 digits, 93% of the shipped model's confident readings have 5.
void write_captchas(const std::filesystem::path& dir, int count, int min, int max) {
  digitnet::CaptchaOptions o;
  o.seed = 77;
  o.require = {"fill"};
  o.exclude = {"grid", "particles", "rings", "elastic", "framing", "more", "zeros", "dotted", "tilt",
               "scatter", "scribble", "circles", "erase", "flags", "strikes"};
  o.min_length = min;
  o.max_length = max;
  const digitnet::CaptchaGenerator gen(o);
  for (int i = 0; i < count; ++i) {
    const auto c = gen.generate(uint64_t(i));
    cv::imwrite((dir / (std::to_string(i) + "_" + c.text + ".png")).string(), c.image);
  }
}

// The shipped model's scores on `count` captchas of `min`-`max` digits, read with --length any
// and with --length auto.
std::pair<digitnet::CaptchaEvalResult, digitnet::CaptchaEvalResult> any_and_auto(int count, int min, int max) {
  TempDir dir;
  write_captchas(dir.path(), count, min, max);
  digitnet::CaptchaReader reader(kModel, torch::kCPU);
  auto any = digitnet::evaluate_captcha_folder(reader, dir.path());
  reader.options().length = digitnet::parse_captcha_length("auto");
  return {std::move(any), digitnet::evaluate_captcha_folder(reader, dir.path())};
}

TEST(CaptchaEvalTest, ShippedModelSettlesAOneLengthFolder) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  const auto [any, settled] = any_and_auto(80, 5, 5);
  EXPECT_FALSE(any.settled.length.length.constrained());
  ASSERT_GT(any.wrong_length, 0) << "every reading already had 5 digits: the test shows nothing";
  EXPECT_EQ(settled.settled.length.length.min, 5);
  EXPECT_EQ(settled.settled.length.length.max, 5);
  EXPECT_EQ(settled.settled.length.reread, any.wrong_length);
  EXPECT_EQ(settled.wrong_length, 0);
  EXPECT_GT(settled.correct, any.correct);
  // The readings marked retry are those below 0.5: the wrong ones among them are the mistakes
  // that unsure, and the readings answered are right more often than all of them.
  const auto unsure = std::count_if(settled.mistakes.begin(), settled.mistakes.end(),
                                    [](const auto& m) { return m.confidence < 0.5; });
  EXPECT_EQ(settled.retry - settled.retry_correct, unsure);
  ASSERT_GT(settled.retry, 0) << "no reading was unsure: the test shows nothing";
  EXPECT_LT(settled.retry, settled.read);
  EXPECT_GT(settled.answered_accuracy(), settled.accuracy());
}

TEST(CaptchaEvalTest, RetryBelowZeroAnswersEveryReading) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  TempDir dir;
  write_captchas(dir.path(), 30, 5, 5);
  digitnet::CaptchaReaderOptions o;
  o.retry_below = 0.0;
  digitnet::CaptchaReader reader(kModel, torch::kCPU, o);
  const auto r = digitnet::evaluate_captcha_folder(reader, dir.path());
  EXPECT_EQ(r.retry, 0);
  EXPECT_DOUBLE_EQ(r.answered_accuracy(), r.accuracy());
  EXPECT_THROW(digitnet::check_retry_below(1.5), std::invalid_argument);
  EXPECT_THROW(digitnet::check_retry_below(-0.1), std::invalid_argument);
  EXPECT_THROW(digitnet::check_retry_below(std::nan("")), std::invalid_argument);
  EXPECT_EQ(digitnet::check_retry_below(1.0), 1.0);
}

TEST(CaptchaSelfLabelTest, ShippedModelLabelsTheCaptchasItReadsSurely) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  TempDir dir;
  write_captchas(dir.path(), 40, 5, 5);
  cv::imwrite((dir / "blank.png").string(), cv::Mat(30, 90, CV_8UC1, cv::Scalar(255)));
  write_text(dir / "broken.png", "not an image");
  digitnet::CaptchaReaderOptions o;
  o.length = digitnet::parse_captcha_length("auto");
  digitnet::CaptchaReader reader(kModel, torch::kCPU, o);
  const auto self = digitnet::self_label_captchas(reader, dir.path(), 0.95);
  EXPECT_EQ(self.files, 42);
  EXPECT_EQ(self.unreadable, 1);
  EXPECT_EQ(self.settled.length.length.min, 5);
  // Exactly the readings at least 0.95 sure and not marked retry, labelled with their text.
  std::map<std::string, std::string> sure;
  int64_t right_all = 0, read = 0;
  for (const auto& r : digitnet::read_captcha_files(reader, dir.path())) {
    if (!r.ok) continue;
    const auto name = r.file.filename().string();
    const auto truth = name.substr(name.find('_') + 1, name.find('.') - name.find('_') - 1);
    ++read;
    right_all += r.reading.text == truth;
    if (!r.reading.retry && r.reading.confidence >= 0.95) sure[name] = r.reading.text;
  }
  ASSERT_EQ(self.labelled.size(), sure.size());
  int64_t right = 0;
  for (const auto& l : self.labelled) {
    const auto name = l.file.filename().string();
    ASSERT_TRUE(sure.count(name)) << name;
    EXPECT_EQ(l.digits, sure[name]) << name;
    EXPECT_NE(name, "blank.png");
    right += l.digits == name.substr(name.find('_') + 1, 5);
  }
  // Fewer captchas than the folder holds, and more of them right than of all the readings.
  ASSERT_GE(self.labelled.size(), 10u);
  EXPECT_LT(int64_t(self.labelled.size()), read);
  EXPECT_GE(double(right) / double(self.labelled.size()), 0.9);
  EXPECT_GT(double(right) / double(self.labelled.size()), double(right_all) / double(read));
  EXPECT_THROW(digitnet::self_label_captchas(reader, dir / "missing", 0.95), std::runtime_error);
}

TEST(CaptchaEvalTest, ShippedModelLeavesAMixedLengthFolderAlone) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  const auto [any, settled] = any_and_auto(60, 4, 8);
  EXPECT_FALSE(settled.settled.length.length.constrained());
  EXPECT_EQ(settled.settled.length.reread, 0);
  EXPECT_EQ(settled.correct, any.correct);
  EXPECT_EQ(settled.wrong_length, any.wrong_length);
}

TEST(CaptchaReaderTest, ShippedModelReadsGeneratedCaptchas) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "models/captcha.pt not present";
  digitnet::CaptchaReader reader(kModel, torch::kCPU);
  // A plain in-style set (no crossing clutter, nor the seventh stage's scribbles, circles,
  // erasing, turned lines or dot-matrix faces, nor the eighth's flagged 1s): the shipped model
  // reads these nearly always.
  digitnet::CaptchaOptions o;
  o.seed = 2024;
  o.require = {"solid", "fill"};
  o.exclude = {"freefont", "grid", "perspective", "speckle", "lines", "curves", "dots", "jpeg", "zeros",
               "dotted", "tilt", "scatter", "scribble", "circles", "erase", "flags", "strikes"};
  o.min_length = 4;
  o.max_length = 6;
  const digitnet::CaptchaGenerator gen(o);
  std::vector<cv::Mat> images;
  std::vector<std::string> truth;
  for (uint64_t i = 0; i < 60; ++i) {
    const auto c = gen.generate(i);
    images.push_back(c.image);
    truth.push_back(c.text);
  }
  const auto readings = reader.read(images);
  int correct = 0;
  for (size_t i = 0; i < readings.size(); ++i) correct += readings[i].text == truth[i];
  EXPECT_GE(correct, 45) << "of 60";
}

TEST(CaptchaAdaptTest, AFolderWithTooFewSureReadingsIsLeftAsRead) {
  auto reader = untrained_reader();  // never sure
  TempDir dir;
  write_captchas(dir.path(), 60, 5, 5);
  const auto r = digitnet::evaluate_captcha_folder(reader, dir.path());
  EXPECT_EQ(r.settled.adaptation.learned_from, 0);
  EXPECT_EQ(r.settled.adaptation.changed, 0);
  EXPECT_EQ(digitnet::parse_captcha_adaptation("auto"), digitnet::CaptchaAdaptation::site);
  EXPECT_EQ(digitnet::parse_captcha_adaptation(" output "), digitnet::CaptchaAdaptation::output);
  EXPECT_EQ(digitnet::parse_captcha_adaptation("off"), digitnet::CaptchaAdaptation::off);
  EXPECT_THROW(digitnet::parse_captcha_adaptation("yes"), std::invalid_argument);
}
