// The synthetic captcha renderer (vision/captcha.h).
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "digitnet/vision/captcha.h"
#include "support.h"

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// Plain captchas (solid paper, filled ink, no other family), so that one family's effect shows.
digitnet::CaptchaOptions plain_captchas() {
  digitnet::CaptchaOptions plain;
  plain.require = {"solid", "fill"};
  plain.exclude = {"wave", "perspective", "elastic", "lines", "curves", "dots", "speckle", "grid", "rings",
                   "particles", "blur", "jpeg", "binary", "framing", "weight", "implode", "zeros", "dotted",
                   "tilt", "scatter", "scribble", "circles", "erase", "flags", "strikes"};
  return plain;
}

// The same with one of the excluded families drawn on every captcha.
digitnet::CaptchaOptions plain_with(const std::string& family) {
  auto o = plain_captchas();
  o.exclude.erase(std::find(o.exclude.begin(), o.exclude.end(), family));
  o.require.push_back(family);
  return o;
}

}  // namespace

TEST(CaptchaGeneratorTest, SameSeedAndIndexGiveIdenticalCaptchas) {
  digitnet::CaptchaOptions o;
  o.seed = 42;
  const digitnet::CaptchaGenerator a(o), b(o);
  for (uint64_t i = 0; i < 20; ++i) {
    const auto x = a.generate(i), y = b.generate(i);
    EXPECT_EQ(x.text, y.text);
    EXPECT_EQ(x.families, y.families);
    EXPECT_TRUE(identical(x.image, y.image)) << "index " << i;
  }
}

TEST(CaptchaGeneratorTest, OrderOfGenerationDoesNotMatter) {
  const digitnet::CaptchaGenerator g(digitnet::CaptchaOptions{});
  const auto late = g.generate(7);
  for (uint64_t i = 0; i < 7; ++i) g.generate(i);
  EXPECT_TRUE(identical(late.image, g.generate(7).image));
}

TEST(CaptchaGeneratorTest, OtherSeedsAndIndicesGiveOtherCaptchas) {
  digitnet::CaptchaOptions o;
  const digitnet::CaptchaGenerator a(o);
  o.seed = 1;
  const digitnet::CaptchaGenerator b(o);
  EXPECT_FALSE(identical(a.generate(0).image, a.generate(1).image));
  EXPECT_FALSE(identical(a.generate(0).image, b.generate(0).image));
}

TEST(CaptchaGeneratorTest, LabelsAreDigitsWithinTheLengthRange) {
  digitnet::CaptchaOptions o;
  o.min_length = 4;
  o.max_length = 6;
  const digitnet::CaptchaGenerator g(o);
  std::set<size_t> lengths;
  std::set<char> digits;
  for (uint64_t i = 0; i < 200; ++i) {
    const auto c = g.generate(i);
    ASSERT_GE(c.text.size(), 4u);
    ASSERT_LE(c.text.size(), 6u);
    for (const char ch : c.text) ASSERT_TRUE(ch >= '0' && ch <= '9') << c.text;
    lengths.insert(c.text.size());
    digits.insert(c.text.begin(), c.text.end());
  }
  EXPECT_EQ(lengths.size(), 3u);
  EXPECT_EQ(digits.size(), 10u);
}

TEST(CaptchaGeneratorTest, ImagesHaveTheRequestedSizeAndInk) {
  digitnet::CaptchaOptions o;
  o.width = 200;
  o.height = 70;
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 10; ++i) {
    const auto c = g.generate(i);
    EXPECT_EQ(c.image.cols, 200);
    EXPECT_EQ(c.image.rows, 70);
    EXPECT_EQ(c.image.type(), CV_8UC3);
    cv::Mat grey;
    cv::cvtColor(c.image, grey, cv::COLOR_BGR2GRAY);
    double lo = 0, hi = 0;
    cv::minMaxLoc(grey, &lo, &hi);
    EXPECT_GT(hi - lo, 40) << "a captcha with no visible ink, index " << i;
  }
}

TEST(CaptchaGeneratorTest, RandomSizeVariesTheAspectRatio) {
  digitnet::CaptchaOptions o;
  o.random_size = true;
  const digitnet::CaptchaGenerator g(o);
  std::set<int> widths, heights;
  for (uint64_t i = 0; i < 30; ++i) {
    const auto c = g.generate(i);
    widths.insert(c.image.cols);
    heights.insert(c.image.rows);
  }
  EXPECT_GT(widths.size(), 10u);
  EXPECT_GT(heights.size(), 10u);
}

TEST(CaptchaGeneratorTest, DrawsTheDigitsItIsGiven) {
  const digitnet::CaptchaGenerator g(digitnet::CaptchaOptions{});
  const auto c = g.generate(3, "0042");
  EXPECT_EQ(c.text, "0042");
  // Only the style depends on the index, not on how the digits were chosen.
  const auto blank = g.generate(3, "8");
  EXPECT_FALSE(identical(c.image, blank.image));
  EXPECT_THROW(g.generate(0, "12a"), std::invalid_argument);
  EXPECT_THROW(g.generate(0, ""), std::invalid_argument);
}

TEST(CaptchaGeneratorTest, ExcludedFamiliesNeverAppear) {
  digitnet::CaptchaOptions o;
  o.exclude = {"freefont", "grid", "perspective", "hershey"};
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 150; ++i)
    for (const auto& f : g.generate(i).families) EXPECT_FALSE(has(o.exclude, f)) << f;
}

TEST(CaptchaGeneratorTest, RequiredFamiliesAlwaysAppear) {
  digitnet::CaptchaOptions o;
  o.require = {"grid", "hollow"};
  if (digitnet::captcha_freetype_available()) o.require.push_back("dejavu");
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 50; ++i) {
    const auto fam = g.generate(i).families;
    for (const auto& f : o.require) EXPECT_TRUE(has(fam, f)) << f;
  }
}

TEST(CaptchaGeneratorTest, EveryFamilyIsUsedSomewhere) {
  const digitnet::CaptchaGenerator g(digitnet::CaptchaOptions{});
  std::set<std::string> seen;
  for (uint64_t i = 0; i < 400; ++i)
    for (const auto& f : g.generate(i).families) seen.insert(f);
  for (const auto& f : digitnet::captcha_families()) {
    if (f.category == "font" && f.name != "hershey" && !has(g.font_families(), f.name)) continue;
    EXPECT_TRUE(seen.count(f.name)) << f.name;
  }
}

TEST(CaptchaGeneratorTest, BinaryFinishLeavesTwoColours) {
  digitnet::CaptchaOptions o;
  o.require = {"binary", "blur"};  // blur first: the threshold must still leave two colours
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 12; ++i) {
    const auto c = g.generate(i);
    std::set<uint32_t> colours;
    for (int y = 0; y < c.image.rows; ++y)
      for (int x = 0; x < c.image.cols; ++x) {
        const auto p = c.image.at<cv::Vec3b>(y, x);
        colours.insert(uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
      }
    EXPECT_EQ(colours.size(), 2u) << c.text;
  }
}

TEST(CaptchaGeneratorTest, ParticlesCoverTheImage) {
  // Solid paper, no other clutter: without particles most of the image is the paper's colour;
  // with them a good share of it (up to 35%) is dotted in the ink's colour.
  digitnet::CaptchaOptions o;
  o.require = {"solid", "fill"};
  o.exclude = {"wave", "perspective", "elastic", "lines", "curves", "dots", "speckle", "grid", "rings",
               "blur", "jpeg", "binary", "framing"};
  const auto paper_share = [](const cv::Mat& img) {
    const auto paper = img.at<cv::Vec3b>(0, 0);
    int same = 0;
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x) same += img.at<cv::Vec3b>(y, x) == paper;
    return double(same) / double(img.total());
  };
  auto plain = o;
  plain.exclude.push_back("particles");
  auto dotted = o;
  dotted.require.push_back("particles");
  const digitnet::CaptchaGenerator without(plain), with(dotted);
  double a = 0, b = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    a += paper_share(without.generate(i).image) / 20;
    b += paper_share(with.generate(i).image) / 20;
  }
  EXPECT_GT(a, 0.6);
  EXPECT_LT(b, a - 0.08);
}

TEST(CaptchaGeneratorTest, FramingCropsCloseAroundTheText) {
  // Plain captchas with and without framing share everything up to the crop.
  auto plain = plain_captchas(), framed = plain_with("framing");
  plain.random_size = framed.random_size = true;
  const digitnet::CaptchaGenerator without(plain), with(framed);
  for (uint64_t i = 0; i < 10; ++i) {
    const auto a = without.generate(i), b = with.generate(i);
    EXPECT_EQ(a.text, b.text);
    EXPECT_TRUE(has(b.families, "framing"));
    ASSERT_LE(b.image.cols, a.image.cols);
    ASSERT_LE(b.image.rows, a.image.rows);
    EXPECT_LT(b.image.cols * b.image.rows, a.image.cols * a.image.rows) << i;
    // The framed image is a piece of the plain one, pixel for pixel.
    cv::Mat diff;
    cv::matchTemplate(a.image, b.image, diff, cv::TM_SQDIFF);
    cv::Point at;
    cv::minMaxLoc(diff, nullptr, nullptr, &at);
    EXPECT_TRUE(identical(a.image(cv::Rect(at, b.image.size())), b.image)) << i;
  }
  // A fixed size stays fixed.
  framed.random_size = false;
  for (uint64_t i = 0; i < 5; ++i) {
    const auto c = digitnet::CaptchaGenerator(framed).generate(i);
    EXPECT_EQ(c.image.size(), cv::Size(framed.width, framed.height));
  }
}

TEST(CaptchaGeneratorTest, LaterFamiliesLeaveCaptchasThatDoNotDrawThemAlone) {
  // Allowing one of the families added after the fixed sets changes no captcha that does not
  // draw it, pixel for pixel, nor how often the others are drawn. Each is drawn about as often
  // as it is meant to be (family_probability in captcha.cpp).
  const std::map<std::string, double> later = {{"weight", 0.25},  {"implode", 0.2},   {"zeros", 0.3},
                                               {"dotted", 0.06},  {"tilt", 0.2},      {"scatter", 0.15},
                                               {"scribble", 0.2}, {"circles", 0.15}, {"erase", 0.15},
                                               {"flags", 0.3},    {"strikes", 0.3}};
  constexpr int kCaptchas = 200;
  for (const auto& [family, share] : later) {
    digitnet::CaptchaOptions o;
    auto without = o;
    without.exclude.push_back(family);
    const digitnet::CaptchaGenerator all(o), none(without);
    int drawn = 0;
    for (uint64_t i = 0; i < kCaptchas; ++i) {
      const auto a = all.generate(i), b = none.generate(i);
      EXPECT_EQ(a.text, b.text);
      if (has(a.families, family)) {
        ++drawn;
        auto rest = a.families;
        rest.erase(std::find(rest.begin(), rest.end(), family));
        EXPECT_EQ(rest, b.families) << family << " " << i;
        continue;
      }
      EXPECT_TRUE(identical(a.image, b.image)) << family << " " << i;
      EXPECT_EQ(a.families, b.families) << family << " " << i;
    }
    EXPECT_GT(drawn, share * kCaptchas / 2) << family;
    EXPECT_LT(drawn, share * kCaptchas * 2) << family;
  }
}

TEST(CaptchaGeneratorTest, ImplodeMovesTheInkAndLeavesTheBorderAlone) {
  const digitnet::CaptchaGenerator base(plain_captchas()), imploded(plain_with("implode"));
  for (uint64_t i = 0; i < 20; ++i) {
    const auto a = base.generate(i), b = imploded.generate(i);
    EXPECT_EQ(a.text, b.text);
    EXPECT_TRUE(has(b.families, "implode"));
    ASSERT_EQ(a.image.size(), b.image.size());
    // The ink moves; the paper at the corners stays paper (a warp only resamples).
    EXPECT_GT(cv::norm(a.image, b.image, cv::NORM_L1), 255.0 * 20) << i;
    const int w = a.image.cols - 1, h = a.image.rows - 1;
    for (const cv::Point p : {cv::Point(0, 0), cv::Point(w, 0), cv::Point(0, h), cv::Point(w, h)})
      EXPECT_EQ(a.image.at<cv::Vec3b>(p), b.image.at<cv::Vec3b>(p)) << i;
  }
}

TEST(CaptchaGeneratorTest, WeightMakesStrokesBolderOrThinner) {
  // On plain captchas it moves the share of ink both ways, and nothing else.
  const auto ink_share = [](const cv::Mat& img) {
    const auto paper = img.at<cv::Vec3b>(0, 0);
    int ink = 0;
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x) ink += cv::norm(img.at<cv::Vec3b>(y, x), paper, cv::NORM_L1) > 60;
    return double(ink) / double(img.total());
  };
  const digitnet::CaptchaGenerator plain_gen(plain_captchas()), weight_gen(plain_with("weight"));
  int bolder = 0, thinner = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    const auto a = plain_gen.generate(i), b = weight_gen.generate(i);
    EXPECT_EQ(a.text, b.text);
    EXPECT_TRUE(has(b.families, "weight"));
    EXPECT_EQ(a.image.size(), b.image.size());
    const double before = ink_share(a.image), after = ink_share(b.image);
    bolder += after > before * 1.1;
    thinner += after < before * 0.9;
  }
  EXPECT_GE(bolder, 3);
  EXPECT_GE(thinner, 3);
  EXPECT_EQ(bolder + thinner, 20);
}

namespace {

// The pixels of a plain captcha unlike its paper (the top-left pixel's colour).
cv::Mat ink_of(const cv::Mat& img) {
  const auto paper = img.at<cv::Vec3b>(0, 0);
  cv::Mat ink(img.size(), CV_8UC1);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      ink.at<uchar>(y, x) = cv::norm(img.at<cv::Vec3b>(y, x), paper, cv::NORM_L1) > 60 ? 255 : 0;
  return ink;
}

// How much ink there is: the summed distance of every pixel from the paper's colour.
double ink_mass(const cv::Mat& img) {
  const auto paper = img.at<cv::Vec3b>(0, 0);
  double mass = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) mass += cv::norm(img.at<cv::Vec3b>(y, x), paper, cv::NORM_L1);
  return mass;
}

// The slope (degrees, positive when the right end is lower) of the line through the ink's
// centres of mass in the left and the right third of its width.
double text_line_slope(const cv::Mat& img) {
  const cv::Mat ink = ink_of(img);
  const cv::Rect box = cv::boundingRect(ink);
  const int third = std::max(1, box.width / 3);
  const cv::Moments left = cv::moments(ink(cv::Rect(box.x, box.y, third, box.height)), true);
  const cv::Moments right = cv::moments(ink(cv::Rect(box.br().x - third, box.y, third, box.height)), true);
  if (left.m00 == 0 || right.m00 == 0) return 0;
  const double dy = right.m01 / right.m00 - left.m01 / left.m00;
  const double dx = (box.width - third) + right.m10 / right.m00 - left.m10 / left.m00;
  return std::atan2(dy, dx) * 180 / CV_PI;
}

// The standard deviation of the heights of the ink's pieces (their centres, pieces of 10
// pixels or more): glyphs set at different heights spread it.
double glyph_height_spread(const cv::Mat& img) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink_of(img), labels, stats, centroids, 8);
  std::vector<double> centres;
  for (int k = 1; k < n; ++k)
    if (stats.at<int>(k, cv::CC_STAT_AREA) >= 10) centres.push_back(centroids.at<double>(k, 1));
  if (centres.size() < 2) return 0;
  double mean = 0, var = 0;
  for (double c : centres) mean += c;
  mean /= double(centres.size());
  for (double c : centres) var += (c - mean) * (c - mean);
  return std::sqrt(var / double(centres.size()));
}

}  // namespace

TEST(CaptchaGeneratorTest, ZerosAreMarkedWithADotOrASlashAndOtherDigitsAreNot) {
  const digitnet::CaptchaGenerator plain(plain_captchas()), marked(plain_with("zeros"));
  int more_ink = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    more_ink += ink_mass(marked.generate(i, "0000").image) > ink_mass(plain.generate(i, "0000").image) * 1.03;
    EXPECT_TRUE(identical(marked.generate(i, "123456789").image, plain.generate(i, "123456789").image)) << i;
  }
  EXPECT_GE(more_ink, 17);  // counters too small for a mark stay empty
}

TEST(CaptchaGeneratorTest, FlagsGiveOnesALongFlagAndLeaveOtherDigitsAlone) {
  // A lone 1: with a flag (most 1s get one) its upper half has much more ink, reaching further
  // left, while its height and its lowest quarter (the stem's foot) stay as they were.
  const digitnet::CaptchaGenerator plain(plain_captchas()), flagged(plain_with("flags"));
  struct Shape {
    int upper_ink, upper_width, foot_width, height;
  };
  const auto shape = [](const cv::Mat& img) {
    const cv::Mat ink = ink_of(img);
    const cv::Rect box = cv::boundingRect(ink);
    const cv::Mat upper = ink(cv::Range(box.y, box.y + box.height / 2), cv::Range::all());
    const cv::Mat foot = ink(cv::Range(box.y + box.height * 3 / 4, box.br().y), cv::Range::all());
    return Shape{cv::countNonZero(upper), cv::boundingRect(upper).width, cv::boundingRect(foot).width, box.height};
  };
  int flags = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    const auto a = plain.generate(i, "1"), b = flagged.generate(i, "1");
    EXPECT_TRUE(has(b.families, "flags"));
    const Shape p = shape(a.image), f = shape(b.image);
    EXPECT_NEAR(f.height, p.height, 1) << i;
    EXPECT_EQ(f.foot_width, p.foot_width) << i;
    flags += f.upper_ink > p.upper_ink * 1.2 && f.upper_width > p.upper_width;
    EXPECT_TRUE(identical(flagged.generate(i, "234567890").image, plain.generate(i, "234567890").image)) << i;
  }
  EXPECT_GE(flags, 13);  // each 1 gets a flag with chance 0.85
}

TEST(CaptchaGeneratorTest, StrikesCrossTheTopsOfTheGlyphsAndRunOnPastThem) {
  // The ink a strike adds lies mostly in the upper half of the glyphs' box, and runs on to the
  // left or right of it (a 7's bar ends at its glyph).
  const digitnet::CaptchaGenerator plain(plain_captchas()), struck(plain_with("strikes"));
  int upper = 0, lower = 0, past = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    const auto a = plain.generate(i, "4141"), b = struck.generate(i, "4141");
    EXPECT_TRUE(has(b.families, "strikes"));
    const cv::Mat text = ink_of(a.image), added = ink_of(b.image) & ~text;
    const cv::Rect box = cv::boundingRect(text);
    const int middle = box.y + box.height / 2;
    for (int x = box.x; x < box.br().x; ++x) {
      upper += cv::countNonZero(added(cv::Range(0, middle), cv::Range(x, x + 1)));
      lower += cv::countNonZero(added(cv::Range(middle, added.rows), cv::Range(x, x + 1)));
    }
    const cv::Rect reach = cv::boundingRect(added);
    past += reach.x < box.x - box.height / 2 || reach.br().x > box.br().x + box.height / 2;
  }
  EXPECT_GT(upper, 3 * lower);
  EXPECT_GE(past, 18);
}

TEST(CaptchaGeneratorTest, DottedDrawsEachDigitAsDots) {
  // One plain 8 is one or two pieces of ink; drawn as dots, many more.
  const digitnet::CaptchaGenerator plain(plain_captchas()), dotted(plain_with("dotted"));
  const auto pieces = [](const cv::Mat& img) {
    cv::Mat labels;
    return cv::connectedComponents(ink_of(img), labels, 4) - 1;
  };
  int dots = 0;
  for (uint64_t i = 0; i < 10; ++i) {
    const auto a = plain.generate(i, "8"), b = dotted.generate(i, "8");
    EXPECT_TRUE(has(b.families, "dotted"));
    EXPECT_LE(pieces(a.image), 3) << i;
    EXPECT_GE(pieces(b.image), 5) << i;
    dots += pieces(b.image);
  }
  EXPECT_GE(dots, 80);
}

TEST(CaptchaGeneratorTest, TiltTurnsTheWholeTextLine) {
  const digitnet::CaptchaGenerator plain(plain_captchas()), tilted(plain_with("tilt"));
  double plain_sum = 0, tilted_sum = 0;
  int turned = 0;
  for (uint64_t i = 0; i < 30; ++i) {
    const double a = std::abs(text_line_slope(plain.generate(i, "88888").image));
    const double b = std::abs(text_line_slope(tilted.generate(i, "88888").image));
    plain_sum += a, tilted_sum += b, turned += b > 3;
  }
  EXPECT_LT(plain_sum / 30, 3.5);
  EXPECT_GT(tilted_sum / 30, 6.0);
  EXPECT_GE(turned, 20);
}

TEST(CaptchaGeneratorTest, ScatterSetsGlyphsAtDifferentHeights) {
  const digitnet::CaptchaGenerator plain(plain_captchas()), scattered(plain_with("scatter"));
  double a = 0, b = 0;
  for (uint64_t i = 0; i < 30; ++i) {
    a += glyph_height_spread(plain.generate(i, "11111").image);
    b += glyph_height_spread(scattered.generate(i, "11111").image);
  }
  EXPECT_GT(b, a * 2);
}

TEST(CaptchaGeneratorTest, ScribblesAndCirclesAddInkAndEraseTakesItAway) {
  const digitnet::CaptchaGenerator plain(plain_captchas()), scribbled(plain_with("scribble")),
      circled(plain_with("circles")), erased(plain_with("erase"));
  int more_scribbled = 0, more_circled = 0, less_erased = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    const auto base = plain.generate(i);
    const double mass = ink_mass(base.image);
    const auto s = scribbled.generate(i), c = circled.generate(i), e = erased.generate(i);
    EXPECT_EQ(s.text, base.text);
    EXPECT_EQ(e.text, base.text);
    more_scribbled += ink_mass(s.image) > mass * 1.05;
    more_circled += ink_mass(c.image) > mass;
    less_erased += ink_mass(e.image) < mass * 0.97;
  }
  EXPECT_GE(more_scribbled, 19);
  EXPECT_GE(more_circled, 18);  // a circle may fall mostly outside
  EXPECT_GE(less_erased, 18);
}

namespace {

// How far the ink of a one-digit plain captcha leans clockwise from upright (degrees): the
// direction of its principal axis, from the second moments of the pixels unlike the paper.
double clockwise_lean(const cv::Mat& img) {
  const auto paper = img.at<cv::Vec3b>(0, 0);
  cv::Mat ink(img.size(), CV_8UC1);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      ink.at<uchar>(y, x) = cv::norm(img.at<cv::Vec3b>(y, x), paper, cv::NORM_L1) > 60 ? 255 : 0;
  const cv::Moments m = cv::moments(ink, true);
  double axis = 0.5 * std::atan2(2 * m.mu11, m.mu20 - m.mu02) * 180 / CV_PI;  // from +x, y down
  if (axis < 0) axis += 180;
  return axis - 90;  // a stroke from top right to bottom left has axis > 90
}

// How many 1s and 7s lean more than 15 degrees either side of the middle of their range
// (anticlockwise, clockwise), over 400 plain Hershey captchas of each (the same on every machine).
struct LeanTails {
  int one_acw = 0, one_cw = 0, seven_acw = 0, seven_cw = 0;
  double one_most_cw = 0, seven_most_acw = 0;  // the extremes (degrees)
};
LeanTails lean_tails(double mirror) {
  auto o = plain_captchas();
  o.require.push_back("hershey");
  o.mirror_confusing_leans = mirror;
  const digitnet::CaptchaGenerator gen(o);
  std::vector<double> ones, sevens;
  for (uint64_t i = 0; i < 400; ++i) {
    ones.push_back(clockwise_lean(gen.generate(i, "1").image));
    sevens.push_back(clockwise_lean(gen.generate(i, "7").image));
  }
  // The flag of the 1 and the bar of the 7 tilt the measured axis; the extremes are drawn
  // both ways, so the middle of the range is that tilt.
  const auto tails = [](const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double mid = (*lo + *hi) / 2;
    int anticlockwise = 0, clockwise = 0;
    for (double x : v) anticlockwise += x < mid - 15, clockwise += x > mid + 15;
    return std::pair<int, int>{anticlockwise, clockwise};
  };
  LeanTails t;
  std::tie(t.one_acw, t.one_cw) = tails(ones);
  std::tie(t.seven_acw, t.seven_cw) = tails(sevens);
  t.one_most_cw = *std::max_element(ones.begin(), ones.end());
  t.seven_most_acw = *std::min_element(sevens.begin(), sevens.end());
  return t;
}

}  // namespace

TEST(CaptchaGeneratorTest, MirroringConfusingLeansDrawsFewerOnesLikeSevensAndSevensLikeOnes) {
  // A 1 leaning clockwise looks like a 7 and a 7 leaning anticlockwise like a 1 (transform_glyph).
  // Measured: turns alike both ways, 1s 114 anticlockwise / 85 clockwise, 7s 76 / 129; half
  // of the confusing ones mirrored, 146 / 61 and 48 / 180. All of them: 1s lean clockwise 17
  // degrees at most and 7s anticlockwise 5 (52 and 48 with turns alike).
  const auto alike = lean_tails(0.0), half = lean_tails(0.5), all = lean_tails(1.0);
  EXPECT_GT(alike.one_cw * 2, alike.one_acw);
  EXPECT_GT(alike.seven_acw * 2, alike.seven_cw);
  EXPECT_GT(half.one_cw, 10);  // fewer, not none
  EXPECT_LT(half.one_cw * 2, half.one_acw);
  EXPECT_GT(half.seven_acw, 10);
  EXPECT_LT(half.seven_acw * 2, half.seven_cw);
  EXPECT_GT(alike.one_most_cw, 40);
  EXPECT_GT(-alike.seven_most_acw, 40);
  EXPECT_LT(all.one_most_cw, 25);
  EXPECT_LT(-all.seven_most_acw, 15);
  // Only 1s and 7s are touched: other digits draw the same pixels whatever the share.
  auto o = plain_captchas();
  const digitnet::CaptchaGenerator plain(o);
  o.mirror_confusing_leans = 1.0;
  const digitnet::CaptchaGenerator mirrored(o);
  for (uint64_t i = 0; i < 20; ++i)
    EXPECT_TRUE(identical(plain.generate(i, "2345690").image, mirrored.generate(i, "2345690").image)) << i;
  int changed = 0;
  for (uint64_t i = 0; i < 20; ++i)
    changed += !identical(plain.generate(i, "1717").image, mirrored.generate(i, "1717").image);
  EXPECT_GT(changed, 10);
}

TEST(CaptchaGeneratorTest, RejectsAMirroredShareOutsideZeroToOne) {
  for (double share : {-0.1, 1.5, std::nan("")}) {
    digitnet::CaptchaOptions o;
    o.mirror_confusing_leans = share;
    EXPECT_THROW(digitnet::validate(o), std::invalid_argument) << share;
  }
}

TEST(CaptchaGeneratorTest, TellsTheFacesWhoseOneHasAFoot) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without freetype";
  const std::string fonts = "/usr/share/fonts/";
  const std::map<std::string, bool> faces = {{"truetype/dejavu/DejaVuSans.ttf", true},
                                             {"truetype/liberation2/LiberationSerif-Regular.ttf", true},
                                             {"truetype/lato/Lato-Regular.ttf", true},
                                             {"truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf", false},
                                             {"truetype/open-sans/OpenSans-Regular.ttf", false},
                                             {"opentype/cantarell/Cantarell-Regular.otf", false},
                                             {"truetype/liberation2/LiberationSans-Regular.ttf", true}};
  for (const auto& [face, foot] : faces) {
    if (!std::filesystem::exists(fonts + face)) GTEST_SKIP() << "no " << face << " (scripts/setup.sh installs it)";
    EXPECT_EQ(digitnet::one_has_foot(fonts + face), foot) << face;
  }
  digitnet::test::TempDir dir;
  digitnet::test::write_text(dir / "Broken.ttf", "not a font");
  EXPECT_FALSE(digitnet::one_has_foot((dir / "Broken.ttf").string()));
}

TEST(CaptchaGeneratorTest, TheFootlessShareMirrorsOnlyTheFacesWhoseOneHasNoFoot) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without freetype";
  const std::filesystem::path dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                              roboto = "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf";
  if (!std::filesystem::exists(dejavu) || !std::filesystem::exists(roboto))
    GTEST_SKIP() << "DejaVu Sans or Roboto missing (scripts/setup.sh installs them)";
  digitnet::test::TempDir dir;
  std::filesystem::create_directories(dir / "dejavu");
  std::filesystem::create_directories(dir / "roboto");
  std::filesystem::copy_file(dejavu, dir / "dejavu" / dejavu.filename());
  std::filesystem::copy_file(roboto, dir / "roboto" / roboto.filename());
  // How many of 20 captchas of 1s and 7s in `family` draw other pixels than with no mirror.
  const auto changed = [&](const std::string& family, double share, std::optional<double> footless) {
    auto o = plain_captchas();
    o.font_dir = dir.path();
    o.require.push_back(family);
    const digitnet::CaptchaGenerator plain(o);
    o.mirror_confusing_leans = share;
    o.mirror_footless_leans = footless;
    const digitnet::CaptchaGenerator mirrored(o);
    int n = 0;
    for (uint64_t i = 0; i < 20; ++i) n += !identical(plain.generate(i, "1717").image, mirrored.generate(i, "1717").image);
    return n;
  };
  EXPECT_EQ(changed("dejavu", 0.0, 1.0), 0);  // DejaVu's 1 has a foot: --mirror-1-7 0 holds there
  EXPECT_GT(changed("more", 0.0, 1.0), 10);   // Roboto's has none
  EXPECT_GT(changed("dejavu", 1.0, 0.0), 10);
  EXPECT_EQ(changed("more", 1.0, 0.0), 0);
  EXPECT_GT(changed("dejavu", 1.0, std::nullopt), 10);  // unset: one share for every face
  EXPECT_GT(changed("more", 1.0, std::nullopt), 10);
  for (double share : {-0.1, 1.5, std::nan("")}) {
    digitnet::CaptchaOptions o;
    o.mirror_footless_leans = share;
    EXPECT_THROW(digitnet::validate(o), std::invalid_argument) << share;
  }
}

const std::filesystem::path kHandwriting = std::filesystem::path(DIGITNET_TEST_DATA) / "mnist-tiny";

TEST(CaptchaGeneratorTest, HandwritingDrawsAShareOfCaptchasAndLeavesTheOthersAlone) {
  digitnet::CaptchaOptions o;
  o.seed = 5;
  const digitnet::CaptchaGenerator fonts(o);
  o.handwriting_dir = kHandwriting;
  const digitnet::CaptchaGenerator hand(o);
  int handwritten = 0;
  for (uint64_t i = 0; i < 160; ++i) {
    const auto a = fonts.generate(i), b = hand.generate(i);
    ASSERT_EQ(a.text, b.text);
    EXPECT_FALSE(has(a.families, "handwriting"));
    if (!has(b.families, "handwriting")) {
      EXPECT_EQ(a.families, b.families) << i;
      EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_L1), 0.0) << i << ": a captcha without handwriting changed";
      continue;
    }
    ++handwritten;
    // The font family drawn for the main stream is not used, every other family is.
    auto rest = b.families;
    rest.erase(std::find(rest.begin(), rest.end(), "handwriting"));
    for (const auto& f : rest) EXPECT_TRUE(has(a.families, f)) << i << ": " << f;
    EXPECT_EQ(rest.size() + 1, a.families.size()) << i;
    EXPECT_GT(cv::norm(a.image, b.image, cv::NORM_L1), 0.0) << i;
  }
  // 15% of 160 is 24; the seed fixes the count, the range says what the share means.
  EXPECT_GE(handwritten, 12);
  EXPECT_LE(handwritten, 38);

  // A larger share keeps every captcha the default share writes in handwriting, and adds more.
  o.handwriting_share = 0.4;
  const digitnet::CaptchaGenerator more(o);
  int more_handwritten = 0;
  for (uint64_t i = 0; i < 160; ++i) {
    const bool by_default = has(hand.generate(i).families, "handwriting");
    const bool now = has(more.generate(i).families, "handwriting");
    if (by_default) {
      EXPECT_TRUE(now) << i;
    }
    more_handwritten += now;
  }
  EXPECT_GE(more_handwritten, 48);  // 40% of 160 is 64
  EXPECT_LE(more_handwritten, 80);
  o.handwriting_share = 0;
  const digitnet::CaptchaGenerator none(o);
  for (uint64_t i = 0; i < 40; ++i) EXPECT_FALSE(has(none.generate(i).families, "handwriting")) << i;
  for (const double share : {-0.1, 1.5}) {
    o.handwriting_share = share;
    EXPECT_THROW(digitnet::validate(o), std::invalid_argument) << share;
  }
}

TEST(CaptchaGeneratorTest, RequiredHandwritingDrawsEveryCaptchaFromTheFolder) {
  digitnet::CaptchaOptions o;
  o.require = {"handwriting", "solid", "fill"};
  o.exclude = {"wave", "perspective", "elastic", "implode", "lines", "curves", "dots", "speckle", "grid",
               "particles", "rings", "blur", "jpeg", "binary", "framing", "weight"};
  EXPECT_THROW(digitnet::CaptchaGenerator{o}, std::invalid_argument);  // no folder
  o.handwriting_dir = "/nonexistent/mnist";
  EXPECT_THROW(digitnet::CaptchaGenerator{o}, std::runtime_error);
  o.handwriting_dir = kHandwriting;
  const digitnet::CaptchaGenerator g(o);
  const auto first = g.generate(0);
  for (uint64_t i = 0; i < 20; ++i) {
    const auto c = g.generate(i);
    EXPECT_TRUE(has(c.families, "handwriting")) << i;
    for (const auto& f : {"hershey", "dejavu", "liberation", "freefont", "extra", "more"}) EXPECT_FALSE(has(c.families, f));
    EXPECT_EQ(c.image.size(), cv::Size(o.width, o.height));
  }
  // The same seed draws the same handwritten digits.
  EXPECT_EQ(cv::norm(first.image, digitnet::CaptchaGenerator(o).generate(0).image, cv::NORM_L1), 0.0);
}

TEST(CaptchaGeneratorTest, ExcludedHandwritingReadsNoFolder) {
  digitnet::CaptchaOptions o;
  o.exclude = {"handwriting"};
  o.handwriting_dir = "/nonexistent/mnist";
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 40; ++i) EXPECT_FALSE(has(g.generate(i).families, "handwriting"));
}

TEST(CaptchaGeneratorTest, FallsBackToHersheyWithoutFonts) {
  digitnet::CaptchaOptions o;
  o.font_dir = "/nonexistent/fonts";
  const digitnet::CaptchaGenerator g(o);
  EXPECT_EQ(g.font_count(), 0u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(has(g.generate(i).families, "hershey"));
  o.require = {"dejavu"};
  EXPECT_THROW(digitnet::CaptchaGenerator{o}, std::runtime_error);
}

TEST(CaptchaGeneratorTest, FindsTheDebianFontFamilies) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without freetype";
  const auto fonts = digitnet::find_captcha_fonts("/usr/share/fonts");
  if (fonts.empty()) GTEST_SKIP() << "no fonts under /usr/share/fonts (run scripts/setup.sh)";
  const digitnet::CaptchaGenerator g(digitnet::CaptchaOptions{});
  EXPECT_TRUE(has(g.font_families(), "dejavu"));
}

TEST(CaptchaGeneratorTest, OtherFontsOnlyWhenAskedFor) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without freetype";
  const std::filesystem::path dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!std::filesystem::exists(dejavu)) GTEST_SKIP() << "fonts-dejavu-core not installed";
  digitnet::test::TempDir dir;
  std::filesystem::copy_file(dejavu, dir / "DejaVuSans.ttf");
  std::filesystem::copy_file(dejavu, dir / "SomeCaptchaFont.ttf");  // what a generator may ship
  digitnet::CaptchaOptions o;
  o.font_dir = dir.path();
  const digitnet::CaptchaGenerator plain(o);
  EXPECT_EQ(plain.font_count(), 1u);
  EXPECT_EQ(plain.font_families(), std::vector<std::string>{"dejavu"});
  for (uint64_t i = 0; i < 40; ++i) EXPECT_FALSE(has(plain.generate(i).families, "ttf-other"));
  o.other_fonts = true;
  const digitnet::CaptchaGenerator other(o);
  EXPECT_EQ(other.font_count(), 2u);
  EXPECT_TRUE(has(other.font_families(), "ttf-other"));
  o.other_fonts = false;
  o.require = {"ttf-other"};
  const digitnet::CaptchaGenerator required(o);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(has(required.generate(i).families, "ttf-other"));
}

TEST(CaptchaGeneratorTest, ExtraFontsAreKnownByTheirPackagesFolder) {
  if (!digitnet::captcha_freetype_available()) GTEST_SKIP() << "OpenCV without freetype";
  const std::filesystem::path dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!std::filesystem::exists(dejavu)) GTEST_SKIP() << "fonts-dejavu-core not installed";
  digitnet::test::TempDir dir;
  for (const char* sub : {"dejavu", "comic-neue", "urw-base35", "elsewhere"})
    std::filesystem::create_directories(dir / "truetype" / sub);
  std::filesystem::copy_file(dejavu, dir / "truetype" / "dejavu" / "DejaVuSans.ttf");
  std::filesystem::copy_file(dejavu, dir / "truetype" / "comic-neue" / "ComicNeue-Regular.ttf");
  std::filesystem::copy_file(dejavu, dir / "truetype" / "urw-base35" / "D050000L.otf");  // dingbats
  std::filesystem::copy_file(dejavu, dir / "truetype" / "elsewhere" / "Comic.ttf");
  // "more" packages are known at any depth (fantasque-sans keeps its faces two folders down).
  std::filesystem::create_directories(dir / "truetype" / "fantasque-sans" / "Normal" / "TTF");
  std::filesystem::copy_file(dejavu, dir / "truetype" / "fantasque-sans" / "Normal" / "TTF" / "Fantasque.ttf");
  // A face without digits (fonts-dustin's Flatline draws its missing-glyph box) is left out,
  // and so is a file that is no font at all.
  const std::filesystem::path digitless = "/usr/share/fonts/truetype/dustin/flatline.ttf";
  if (std::filesystem::exists(digitless)) {
    std::filesystem::create_directories(dir / "truetype" / "dustin");
    std::filesystem::copy_file(digitless, dir / "truetype" / "dustin" / "flatline.ttf");
  }
  digitnet::test::write_text(dir / "truetype" / "elsewhere" / "Broken.ttf", "not a font");
  std::map<std::string, std::string> family;
  for (const auto& f : digitnet::find_captcha_fonts(dir.path()))
    family[std::filesystem::path(f.path).filename().string()] = f.family;
  EXPECT_EQ(family, (std::map<std::string, std::string>{{"DejaVuSans.ttf", "dejavu"},
                                                        {"ComicNeue-Regular.ttf", "extra"},
                                                        {"Fantasque.ttf", "more"},
                                                        {"Comic.ttf", "ttf-other"}}));
  digitnet::CaptchaOptions o;
  o.font_dir = dir.path();
  o.require = {"extra"};
  const digitnet::CaptchaGenerator g(o);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(has(g.generate(i).families, "extra"));
}

TEST(CaptchaGeneratorTest, RejectsBadOptions) {
  digitnet::CaptchaOptions o;
  o.width = 8;
  EXPECT_THROW(digitnet::validate(o), std::invalid_argument);
  o = {};
  o.min_length = 7;
  o.max_length = 5;
  EXPECT_THROW(digitnet::validate(o), std::invalid_argument);
  o = {};
  o.exclude = {"sparkles"};
  EXPECT_THROW(digitnet::validate(o), std::invalid_argument);
  o = {};
  o.exclude = {"grid"};
  o.require = {"grid"};
  EXPECT_THROW(digitnet::validate(o), std::invalid_argument);
}

TEST(CaptchaFamiliesTest, ParsesListsAndRejectsUnknownNames) {
  EXPECT_EQ(digitnet::parse_captcha_families("grid,wave,grid", "--exclude"),
            (std::vector<std::string>{"grid", "wave"}));
  EXPECT_TRUE(digitnet::parse_captcha_families("", "--exclude").empty());
  try {
    digitnet::parse_captcha_families("grid,glitter", "--exclude");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("glitter"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--exclude"), std::string::npos);
  }
}

TEST(CaptchaGreyTest, DarkTextOnTransparencyBecomesDarkOnWhite) {
  cv::Mat bgra(20, 40, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  cv::rectangle(bgra, {10, 5}, {20, 15}, cv::Scalar(10, 10, 10, 255), -1);
  const auto grey = digitnet::captcha_grey(bgra);
  EXPECT_EQ(grey.type(), CV_8UC1);
  EXPECT_EQ(grey.at<uchar>(0, 0), 255);
  EXPECT_LT(grey.at<uchar>(10, 15), 20);
}

TEST(CaptchaGreyTest, LightTextOnTransparencyStaysReadable) {
  cv::Mat bgra(20, 40, CV_8UC4, cv::Scalar(255, 255, 255, 0));
  cv::rectangle(bgra, {10, 5}, {20, 15}, cv::Scalar(250, 250, 250, 255), -1);
  const auto grey = digitnet::captcha_grey(bgra);
  EXPECT_EQ(grey.at<uchar>(0, 0), 0);
  EXPECT_GT(grey.at<uchar>(10, 15), 230);
}

TEST(CaptchaGreyTest, GreyAndSixteenBitInputsWork) {
  cv::Mat grey(10, 10, CV_8UC1, cv::Scalar(77));
  EXPECT_EQ(digitnet::captcha_grey(grey).at<uchar>(5, 5), 77);
  cv::Mat wide(10, 10, CV_16UC3, cv::Scalar(65535, 65535, 65535));
  EXPECT_EQ(digitnet::captcha_grey(wide).at<uchar>(5, 5), 255);
}

TEST(CaptchaInputTest, ResizesToTheModelInput) {
  cv::Mat grey(60, 160, CV_8UC1, cv::Scalar(255));
  const auto t = digitnet::captcha_input(grey, 32, 128);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{1, 32, 128}));
  EXPECT_NEAR(t.max().item<double>(), 1.0, 1e-6);
}

TEST(CaptchaSheetTest, CaptionsWiderThanTheirCaptchaStayInTheirCell) {
  const std::string caption = "370971 -> 379718 99%";
  const digitnet::Captcha narrow{cv::Mat(20, 30, CV_8UC3, cv::Scalar(0, 0, 0)), caption, {}};
  const digitnet::Captcha blank{cv::Mat(20, 30, CV_8UC3, cv::Scalar(255, 255, 255)), "", {}};
  const cv::Mat sheet = digitnet::captcha_sheet({narrow, blank}, 2);
  int baseline = 0;
  const int text_w = cv::getTextSize(caption, cv::FONT_HERSHEY_PLAIN, 0.9, 1, &baseline).width;
  ASSERT_GE(sheet.cols, 2 * text_w);
  // The right half holds only the blank captcha: no ink of the left caption reaches it.
  cv::Mat grey;
  cv::cvtColor(sheet(cv::Rect(sheet.cols / 2, 0, sheet.cols - sheet.cols / 2, sheet.rows)), grey, cv::COLOR_BGR2GRAY);
  double darkest = 0;
  cv::minMaxLoc(grey, &darkest);
  EXPECT_GT(darkest, 200);
  // The caption is drawn whole in the left half: ink reaches past the captcha's own width.
  cv::Mat left;
  cv::cvtColor(sheet(cv::Rect(40, 20, sheet.cols / 2 - 40, sheet.rows - 20)), left, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(left < 128), 20);
}
