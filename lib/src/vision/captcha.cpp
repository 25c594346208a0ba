#include "digitnet/vision/captcha.h"

#include "digitnet/datasets.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#ifdef DIGITNET_HAVE_FREETYPE
#include <opencv2/freetype.hpp>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace digitnet {

// Tight 8-bit masks of handwritten digits, per digit: white ink on black, as MNIST stores them.
struct HandwrittenDigits {
  std::array<std::vector<cv::Mat>, 10> digits;
};

namespace {

constexpr double kPi = 3.14159265358979323846;

// splitmix64: tiny, fast and the same on every platform (std:: distributions are not).
uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return mix64(state_ += 0x9E3779B97F4A7C15ULL); }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi].
  int integer(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }
  bool chance(double p) { return uniform() < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[next() % v.size()]; }

 private:
  uint64_t state_;
};

const std::vector<CaptchaFamily> kFamilies = {
    {"hershey", "font"},     {"dejavu", "font"},     {"liberation", "font"},
    {"freefont", "font"},    {"extra", "font"},      {"more", "font"},
    {"ttf-other", "font"},   {"handwriting", "font"},
    {"solid", "background"},
    {"gradient", "background"}, {"texture", "background"}, {"fill", "ink"},
    {"outline", "ink"},      {"hollow", "ink"},      {"shadow", "ink"},
    {"zeros", "glyph"},      {"dotted", "glyph"},      {"flags", "glyph"},
    {"wave", "warp"},        {"perspective", "warp"}, {"elastic", "warp"},
    {"implode", "warp"},     {"tilt", "warp"},       {"scatter", "warp"},
    {"lines", "noise"},      {"curves", "noise"},    {"dots", "noise"},
    {"speckle", "noise"},    {"grid", "noise"},      {"particles", "noise"},
    {"rings", "noise"},      {"scribble", "noise"},  {"circles", "noise"},
    {"erase", "noise"},      {"strikes", "noise"},
    {"blur", "finish"},      {"jpeg", "finish"},
    {"binary", "finish"},    {"framing", "finish"},  {"weight", "finish"},
};

// Families added after the fixed benchmark sets were made draw whether and how they apply from
// a stream of their own, one per family: a captcha that does not use them has the same pixels
// as before they existed, so the published sets and their figures stay valid whichever
// families are allowed, and allowing or excluding one of them changes no other.
bool own_stream(const std::string& name) {
  static const std::set<std::string> later = {"weight", "implode", "zeros", "dotted", "tilt",
                                              "scatter", "scribble", "circles", "erase", "flags",
                                              "strikes"};
  return later.count(name) > 0;
}

Rng family_stream(const std::string& name, uint64_t seed, uint64_t index) {
  uint64_t key = 0x5EED0F57B0CE11ULL;  // weight's, as it was when it was the only one
  if (name != "weight")
    for (const char c : name) key = mix64(key ^ uint64_t(uint8_t(c)));
  return Rng(mix64(seed ^ key) ^ mix64(index * 0xD1B54A32D192ED03ULL + 11));
}

// How often an optional family is applied when it is neither excluded nor required.
double family_probability(const std::string& name) {
  static const std::map<std::string, double> p = {
      {"wave", 0.45}, {"perspective", 0.35}, {"lines", 0.35}, {"curves", 0.35}, {"dots", 0.3},
      {"speckle", 0.25}, {"grid", 0.12}, {"blur", 0.35}, {"jpeg", 0.3}, {"elastic", 0.3},
      {"particles", 0.2}, {"rings", 0.15}, {"binary", 0.12}, {"framing", 0.25}, {"weight", 0.25},
      {"implode", 0.2}, {"zeros", 0.3}, {"dotted", 0.06}, {"tilt", 0.2}, {"scatter", 0.15},
      {"scribble", 0.2}, {"circles", 0.15}, {"erase", 0.15}, {"flags", 0.3}, {"strikes", 0.3}};
  return p.at(name);
}

const std::string& category_of(const std::string& name) {
  for (const auto& f : kFamilies)
    if (f.name == name) return f.category;
  throw std::invalid_argument("unknown captcha style family '" + name + "'");
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

int luminance(const cv::Vec3b& c) { return (29 * c[0] + 150 * c[1] + 77 * c[2]) >> 8; }

cv::Vec3b clamp_colour(double b, double g, double r) {
  const auto c = [](double v) { return cv::saturate_cast<uchar>(v); };
  return {c(b), c(g), c(r)};
}

// A colour whose luminance lies in [lo, hi], with random hue and saturation.
cv::Vec3b colour_in(Rng& rng, int lo, int hi) {
  const double target = rng.uniform(lo, hi);
  const double sat = rng.chance(0.35) ? 0.0 : rng.uniform(20, 110);
  cv::Vec3b c = clamp_colour(target + rng.uniform(-sat, sat), target + rng.uniform(-sat, sat),
                             target + rng.uniform(-sat, sat));
  // Pull the luminance back into range after clamping.
  const int shift = int(target) - luminance(c);
  return clamp_colour(c[0] + shift, c[1] + shift, c[2] + shift);
}

// Alpha-blends `colour` into `canvas` through `mask` (0..255) placed with its top-left at `tl`.
void blend(cv::Mat& canvas, const cv::Mat& mask, cv::Point tl, const cv::Vec3b& colour,
           double opacity = 1.0) {
  const cv::Rect area = cv::Rect(tl, mask.size()) & cv::Rect(0, 0, canvas.cols, canvas.rows);
  if (area.empty()) return;
  const int a_scale = int(opacity * 256);
  for (int y = area.y; y < area.y + area.height; ++y) {
    const uchar* m = mask.ptr<uchar>(y - tl.y);
    cv::Vec3b* px = canvas.ptr<cv::Vec3b>(y);
    for (int x = area.x; x < area.x + area.width; ++x) {
      const int a = (m[x - tl.x] * a_scale) >> 8;
      if (a == 0) continue;
      cv::Vec3b& p = px[x];
      for (int k = 0; k < 3; ++k) p[k] = uchar((p[k] * (255 - a) + colour[k] * a + 127) / 255);
    }
  }
}

#ifdef DIGITNET_HAVE_FREETYPE
// FreeType faces are not thread-safe: each thread loads its own, once per file.
cv::freetype::FreeType2& thread_font(const std::string& path) {
  thread_local std::unordered_map<std::string, cv::Ptr<cv::freetype::FreeType2>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) {
    auto ft = cv::freetype::createFreeType2();
    ft->loadFontData(path, 0);
    it = cache.emplace(path, ft).first;
  }
  return *it->second;
}
#endif

// The digit as a tight 8-bit coverage mask about `height` pixels tall.
cv::Mat glyph_mask(Rng& rng, const CaptchaGenerator::Font* font, char digit, int height) {
  const std::string text(1, digit);
#ifdef DIGITNET_HAVE_FREETYPE
  if (font) {
    // TrueType rendering (hinting bytecode) dominates the cost: keep each thread's rendered
    // glyphs, by file, digit and height. Bounded: cleared when it grows past ~20 MB.
    thread_local std::unordered_map<std::string, cv::Mat> cache;
    const std::string key = font->path + '/' + digit + '/' + std::to_string(height);
    const auto hit = cache.find(key);
    if (hit != cache.end()) return hit->second;
    if (cache.size() > 20000) cache.clear();
    auto& ft = thread_font(font->path);
    // FreeType's font height is the em size; digits are about 0.72 em tall in most faces.
    const int em = std::max(6, int(height / 0.72));
    // cv::freetype draws only into 3-channel images.
    cv::Mat bgr = cv::Mat::zeros(height * 2, height + height / 2 + 4, CV_8UC3);
    // In OpenCV 4.6's freetype module, bottomLeftOrigin=true puts `org` on the baseline.
    ft.putText(bgr, text, cv::Point(height / 4, height * 3 / 2), em, cv::Scalar(255, 255, 255), -1,
               cv::LINE_AA, true);
    cv::Mat canvas;
    cv::extractChannel(bgr, canvas, 0);
    const cv::Rect box = cv::boundingRect(canvas);
    cv::Mat out = box.empty() ? cv::Mat::zeros(height, height / 2 + 1, CV_8UC1) : canvas(box).clone();
    cache.emplace(key, out);
    return out;
  }
#else
  (void)font;
#endif
  static const int faces[] = {cv::FONT_HERSHEY_SIMPLEX, cv::FONT_HERSHEY_PLAIN,
                              cv::FONT_HERSHEY_DUPLEX,  cv::FONT_HERSHEY_COMPLEX,
                              cv::FONT_HERSHEY_TRIPLEX, cv::FONT_HERSHEY_SCRIPT_SIMPLEX,
                              cv::FONT_HERSHEY_SCRIPT_COMPLEX};
  int face = faces[rng.integer(0, 6)];
  if (rng.chance(0.25)) face |= cv::FONT_ITALIC;
  const int thickness = rng.integer(1, std::max(1, height / 9));
  int baseline = 0;
  const cv::Size unit = cv::getTextSize(text, face, 1.0, thickness, &baseline);
  const double scale = double(height) / std::max(1, unit.height);
  cv::Mat canvas = cv::Mat::zeros(height * 2 + thickness * 2, height * 2, CV_8UC1);
  cv::putText(canvas, text, cv::Point(height / 3, height * 3 / 2), face, scale, cv::Scalar(255), thickness,
              cv::LINE_AA);
  const cv::Rect box = cv::boundingRect(canvas);
  if (box.empty()) return cv::Mat::zeros(height, height / 2 + 1, CV_8UC1);
  return canvas(box).clone();
}

// The handwritten digits of `dir`'s train split, cropped to their ink. Throws
// std::runtime_error (from load_idx_split) for a missing or corrupt folder, and when a digit has
// no images.
std::shared_ptr<const HandwrittenDigits> read_handwriting(const std::filesystem::path& dir) {
  const Dataset train = load_idx_split(dir, "train");
  auto out = std::make_shared<HandwrittenDigits>();
  const auto images = train.images.contiguous();
  const auto labels = train.labels.contiguous();
  const int rows = int(images.size(1)), cols = int(images.size(2));
  const auto* pixels = images.data_ptr<uint8_t>();
  const auto* label = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < train.size(); ++i) {
    const cv::Mat image(rows, cols, CV_8UC1, const_cast<uint8_t*>(pixels + i * rows * cols));
    const cv::Rect box = cv::boundingRect(image);
    if (!box.empty()) out->digits[size_t(label[i])].push_back(image(box).clone());
  }
  for (int d = 0; d < 10; ++d)
    if (out->digits[size_t(d)].empty())
      throw std::runtime_error(dir.string() + ": its train split has no handwritten " + std::to_string(d));
  return out;
}

// read_handwriting, once per folder while any generator holds it: a training run builds a
// generator for training, validation and each held-out family, all from one folder.
std::shared_ptr<const HandwrittenDigits> load_handwriting(const std::filesystem::path& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const HandwrittenDigits>> loaded;
  const std::string key = std::filesystem::absolute(dir).lexically_normal().string();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto held = loaded[key].lock()) return held;
  auto digits = read_handwriting(dir);
  loaded[key] = digits;
  return digits;
}

// One of the handwritten `digit`s, `height` pixels tall, as a tight coverage mask.
cv::Mat handwritten_mask(Rng& rng, const HandwrittenDigits& hand, char digit, int height) {
  const auto& choices = hand.digits[size_t(digit - '0')];
  const cv::Mat& src = choices[rng.next() % choices.size()];
  const int width = std::max(1, int(std::lround(double(src.cols) * height / src.rows)));
  cv::Mat out;
  cv::resize(src, out, cv::Size(width, height), 0, 0, height < src.rows ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

struct Glyph {
  cv::Mat fill;  // coverage of the fill colour
  cv::Mat rim;   // coverage of the rim colour (outline and hollow inks), may be empty
  cv::Vec3b fill_colour, rim_colour;
  cv::Rect ink_box;  // tight box of the ink inside the patch
};

// Beyond this (degrees), a 1 leaning clockwise or a 7 leaning anticlockwise looks like the other.
constexpr double kConfusingLean = 6.0;

// Rotates, scales and shears a tight mask of `digit`; the result is again tight.
//
// A 1 turned clockwise is a 7, and a 7 turned anticlockwise is a 1: a 1 with a long flag
// (Roboto, Open Sans, Cantarell) leaning 20 degrees to the right draws the bar and the slanted
// stem of a 7, and a 7 leaning 20 degrees to the left draws an upright stem with a flag. With
// turns up to 28 degrees either way for every digit, the model reads upright Roboto 1s as 7s.
// Never drawing such leans is worse: real generators turn 1s and 7s that way (django-simple-
// captcha by up to 35 degrees, captchapng's script 1 leans 30), and those then read as each
// other. `mirror` is the share of such glyphs that take the mirrored turn and shear instead
// (CaptchaOptions::mirror_confusing_leans); only those glyphs draw the extra coin, so no
// captcha without them changes, and with 0 none does.
// `turn` scales the glyph's own turn and `line_turn` (radians) is added to it: a tilted text
// line (the tilt family) turns its glyphs with it, and each glyph less on its own.
cv::Mat transform_glyph(Rng& rng, const cv::Mat& mask, char digit, double mirror, double turn = 1.0,
                        double line_turn = 0.0) {
  double angle = rng.uniform(-28, 28) * kPi / 180 * turn;
  const double sx = rng.uniform(0.8, 1.2);
  double shear = rng.chance(0.3) ? rng.uniform(-0.3, 0.3) : 0.0;
  // The clockwise lean of an upright stroke (y points down: a positive angle turns clockwise, a
  // negative shear moves the top to the right).
  const double lean = (angle - std::atan(shear)) * 180 / kPi;
  if (mirror > 0 && ((digit == '1' && lean > kConfusingLean) || (digit == '7' && lean < -kConfusingLean)) &&
      rng.chance(mirror))
    angle = -angle, shear = -shear;
  angle += line_turn;
  // x' = R * [sx shear; 0 1] * (x - c), then shifted so that the result box starts at 0.
  const double ca = std::cos(angle), sa = std::sin(angle);
  const double a = ca * sx, b = ca * shear - sa, c = sa * sx, d = sa * shear + ca;
  const double cx = mask.cols / 2.0, cy = mask.rows / 2.0;
  double min_x = 1e9, max_x = -1e9, min_y = 1e9, max_y = -1e9;
  for (const auto& [px, py] : {std::pair<double, double>{-cx, -cy}, {cx, -cy}, {cx, cy}, {-cx, cy}}) {
    const double x = a * px + b * py, y = c * px + d * py;
    min_x = std::min(min_x, x), max_x = std::max(max_x, x);
    min_y = std::min(min_y, y), max_y = std::max(max_y, y);
  }
  const cv::Size size(int(std::ceil(max_x - min_x)) + 2, int(std::ceil(max_y - min_y)) + 2);
  const double tx = -min_x + 1 - (a * cx + b * cy), ty = -min_y + 1 - (c * cx + d * cy);
  const cv::Mat m = (cv::Mat_<double>(2, 3) << a, b, tx, c, d, ty);
  cv::Mat out;
  cv::warpAffine(mask, out, m, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  const cv::Rect box = cv::boundingRect(out);
  return box.empty() ? mask : out(box).clone();
}

void draw_background(Rng& rng, cv::Mat& img, const std::string& kind, bool dark) {
  const int lo = dark ? 0 : 165, hi = dark ? 95 : 255;
  const cv::Vec3b a = colour_in(rng, lo, hi);
  if (kind == "solid") {
    img.setTo(cv::Scalar(a[0], a[1], a[2]));
    return;
  }
  if (kind == "gradient") {
    const cv::Vec3b b = colour_in(rng, lo, hi);
    const double t = rng.uniform(0, 2 * kPi);
    const double cx = std::cos(t), cy = std::sin(t);
    const double span = std::abs(cx) * img.cols + std::abs(cy) * img.rows + 1e-9;
    const double off = (cx < 0 ? -cx * img.cols : 0) + (cy < 0 ? -cy * img.rows : 0);
    for (int y = 0; y < img.rows; ++y) {
      auto* p = img.ptr<cv::Vec3b>(y);
      for (int x = 0; x < img.cols; ++x) {
        const double w = (x * cx + y * cy + off) / span;
        for (int k = 0; k < 3; ++k) p[x][k] = uchar(a[k] + (b[k] - a[k]) * w);
      }
    }
    return;
  }
  // texture: low-frequency colour noise plus a few soft blotches
  img.setTo(cv::Scalar(a[0], a[1], a[2]));
  const int cell = rng.integer(4, 16);
  cv::Mat small(std::max(2, img.rows / cell), std::max(2, img.cols / cell), CV_32FC3);
  const double amp = rng.uniform(15, 45);
  for (int y = 0; y < small.rows; ++y)
    for (int x = 0; x < small.cols; ++x) {
      const double common = rng.uniform(-amp, amp);
      small.at<cv::Vec3f>(y, x) = cv::Vec3f(float(common + rng.uniform(-amp, amp) * 0.4),
                                            float(common + rng.uniform(-amp, amp) * 0.4),
                                            float(common + rng.uniform(-amp, amp) * 0.4));
    }
  cv::Mat big;
  cv::resize(small, big, img.size(), 0, 0, cv::INTER_CUBIC);
  cv::Mat base;
  img.convertTo(base, CV_32FC3);
  base += big;
  base.convertTo(img, CV_8UC3);
  const int blotches = rng.integer(0, 6);
  for (int i = 0; i < blotches; ++i) {
    const cv::Vec3b c = colour_in(rng, lo, hi);
    cv::ellipse(img, cv::Point(rng.integer(0, img.cols), rng.integer(0, img.rows)),
                cv::Size(rng.integer(3, img.cols / 4 + 4), rng.integer(3, img.rows / 3 + 4)),
                rng.uniform(0, 180), 0, 360, cv::Scalar(c[0], c[1], c[2]), -1, cv::LINE_AA);
  }
}

// Concentric ellipses (circles a third of the time) about a random centre, thin and close
// together, like the ring patterns some generators fill the whole image with.
void draw_rings(Rng& rng, cv::Mat& img, const cv::Vec3b& colour) {
  const cv::Point centre(rng.integer(0, img.cols - 1), rng.integer(0, img.rows - 1));
  const double aspect = rng.chance(0.35) ? 1.0 : rng.uniform(0.3, 0.8);
  const double angle = rng.chance(0.7) ? 0.0 : rng.uniform(-30, 30);
  const int step = rng.integer(3, std::max(4, img.rows / 7));
  const int thick = rng.chance(0.85) ? 1 : 2;
  const int reach = img.cols + img.rows;
  for (int r = rng.integer(1, step); r < reach; r += step)
    cv::ellipse(img, centre, cv::Size(r, std::max(1, int(r * aspect))), angle, 0, 360,
                cv::Scalar(colour[0], colour[1], colour[2]), thick, cv::LINE_8);
}

void draw_grid(Rng& rng, cv::Mat& img, const cv::Vec3b& colour) {
  const int step = rng.integer(5, 16);
  const int thick = rng.chance(0.8) ? 1 : 2;
  const cv::Scalar c(colour[0], colour[1], colour[2]);
  const int ox = rng.integer(0, step), oy = rng.integer(0, step);
  const bool diagonal = rng.chance(0.3);
  const int reach = img.cols + img.rows;
  for (int x = ox - (diagonal ? reach : 0); x < img.cols + (diagonal ? reach : 0); x += step) {
    const int dx = diagonal ? img.rows : 0;
    cv::line(img, {x, 0}, {x + dx, img.rows}, c, thick, cv::LINE_8);
  }
  for (int y = oy; y < img.rows; y += step) cv::line(img, {0, y}, {img.cols, y}, c, thick, cv::LINE_8);
}

// The width of a mask's strokes: twice the largest distance from ink to paper.
double stroke_width(const cv::Mat& mask) {
  cv::Mat ink, dist;
  cv::threshold(mask, ink, 127, 255, cv::THRESH_BINARY);
  cv::distanceTransform(ink, dist, cv::DIST_L2, 3);
  double most = 0;
  cv::minMaxLoc(dist, nullptr, &most);
  return std::max(1.0, 2 * most);
}

// A zero marked as monospace faces mark it, so that it is not an O: a dot (an upright oval) in
// its middle, or a slash through it (`slash`). Counters too small to hold a mark stay empty.
cv::Mat mark_zero(Rng& rng, const cv::Mat& zero, bool slash) {
  const double sw = stroke_width(zero);
  const double counter = std::min(zero.cols, zero.rows) - 2 * sw;
  if (counter < 3) return zero;
  cv::Mat out = zero.clone();
  const cv::Point centre(zero.cols / 2, zero.rows / 2);
  if (slash) {
    const int t = std::max(1, int(std::lround(sw * rng.uniform(0.6, 1.0))));
    cv::line(out, {int(zero.cols * 0.78), int(zero.rows * 0.16)}, {int(zero.cols * 0.22), int(zero.rows * 0.84)},
             cv::Scalar(255), t, cv::LINE_AA);
  } else {
    const int rx = std::max(1, int(std::min(sw * rng.uniform(0.45, 0.8), counter * 0.3)));
    const int ry = std::max(rx, int(std::min(sw * rng.uniform(0.6, 1.2), (zero.rows - 2 * sw) * 0.3)));
    cv::ellipse(out, centre, {rx, ry}, 0, 0, 360, cv::Scalar(255), -1, cv::LINE_AA);
  }
  return out;
}

// A 1 with a long flag, as handwriting and some captcha faces draw it: a stroke from the top of
// the (turned) stem down to the left, 30 to 60 degrees below the horizontal of the image, a
// third to two thirds of the glyph's height long (reaching at most 0.38 of it down), straight
// or a little bent, a little lighter than the stem. A 7's bar leaves its top level; 1s with such
// flags, never drawn in training before, were read as 7s (Gregwar's and simple_captcha2's
// faces). Drawn after the glyph is turned, so that no lean makes the flag level.
cv::Mat flag_one(Rng& rng, const cv::Mat& one) {
  int top = 0;
  while (top < one.rows && cv::countNonZero(one.row(top) >= 128) == 0) ++top;
  if (top == one.rows) return one;
  const double sw = stroke_width(one);
  int right = 0;  // the stem's right edge near the top
  for (int y = top; y < std::min(one.rows, top + std::max(1, int(sw))); ++y)
    for (int x = one.cols - 1; x > right; --x)
      if (one.at<uchar>(y, x) >= 128) {
        right = x;
        break;
      }
  const double angle = rng.uniform(30, 60) * kPi / 180;
  // Down by at most 0.38 of the height: a flag as long as the stem draws a caret, not a 1.
  const double length = one.rows * std::min(rng.uniform(0.35, 0.65), 0.38 / std::sin(angle));
  const double bend = rng.chance(0.5) ? rng.uniform(-0.15, 0.15) * length : 0.0;
  const int t = std::max(1, int(std::lround(sw * rng.uniform(0.55, 0.9))));
  const double sx = right - sw / 2, sy = top + sw / 2;
  const double ex = sx - length * std::cos(angle), ey = sy + length * std::sin(angle);
  const int pad = std::max(0, int(std::ceil(t - ex)));
  cv::Mat out;
  cv::copyMakeBorder(one, out, 0, 0, pad, 0, cv::BORDER_CONSTANT, 0);
  // A quadratic curve from the stem to the flag's end, its middle pushed `bend` across the line.
  const double nx = -std::sin(angle), ny = -std::cos(angle);
  const double mx = (sx + ex) / 2 + bend * nx, my = (sy + ey) / 2 + bend * ny;
  std::vector<cv::Point> curve;
  for (int k = 0; k <= 8; ++k) {
    const double u = k / 8.0, a = (1 - u) * (1 - u), b = 2 * u * (1 - u), c = u * u;
    curve.emplace_back(int(std::lround(a * sx + b * mx + c * ex)) + pad, int(std::lround(a * sy + b * my + c * ey)));
  }
  cv::polylines(out, curve, false, cv::Scalar(255), t, cv::LINE_AA);
  const cv::Rect box = cv::boundingRect(out);
  return box.empty() ? one : out(box).clone();
}

// A dot-matrix copy of a glyph: round dots of `radius` pixels, apart on a grid of `step`
// pixels (at least 2 * radius + 2), wherever the glyph has ink within a quarter of a step (so
// thin strokes keep their dots), a little jittered, as dot-matrix captcha faces draw digits.
cv::Mat dot_matrix(Rng& rng, const cv::Mat& glyph, double step, int radius) {
  cv::Mat mask;
  const int reach = std::max(1, int(step / 4));
  cv::dilate(glyph, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * reach + 1, 2 * reach + 1}));
  const int pad = radius + 1;
  cv::Mat out = cv::Mat::zeros(mask.rows + 2 * pad, mask.cols + 2 * pad, CV_8UC1);
  const double ox = rng.uniform(0, step), oy = rng.uniform(0, step);
  for (double y = oy; y < mask.rows; y += step)
    for (double x = ox; x < mask.cols; x += step) {
      if (mask.at<uchar>(int(y), int(x)) < 128) continue;
      const double jx = rng.uniform(-0.1, 0.1) * step, jy = rng.uniform(-0.1, 0.1) * step;
      cv::circle(out, {int(x + jx) + pad, int(y + jy) + pad}, radius, cv::Scalar(255), -1, cv::LINE_AA);
    }
  const cv::Rect box = cv::boundingRect(out);
  return box.empty() ? mask : out(box).clone();
}

// A jagged or wavy line across most of the image: a random walk in height whose steps follow
// the previous ones a little, like hand-drawn scribbles or lines bent by a distortion.
void draw_scribble(Rng& rng, cv::Mat& img, const cv::Vec3b& colour, int thickness) {
  const int w = img.cols, h = img.rows;
  const int x0 = rng.integer(-w / 10, w / 4), x1 = rng.integer(3 * w / 4, w + w / 10);
  const int step = rng.integer(2, 6);
  const double jag = rng.uniform(0.2, 1.6), slope = rng.uniform(-0.3, 0.3) * h / w;
  double y = rng.uniform(0.2, 0.8) * h, dy = 0;
  std::vector<cv::Point> pts;
  for (int x = x0; x <= x1; x += step) {
    dy = 0.6 * dy + rng.uniform(-jag, jag);
    y = std::clamp(y + slope * step + dy, 0.0, double(h - 1));
    pts.emplace_back(x, int(y));
  }
  cv::polylines(img, pts, false, cv::Scalar(colour[0], colour[1], colour[2]), thickness, cv::LINE_AA);
}

// Loose circles and ellipses, mostly hollow and thin, a few small filled ones.
void draw_circles(Rng& rng, cv::Mat& img, int count, const std::function<cv::Vec3b()>& colour) {
  for (int i = 0; i < count; ++i) {
    // One draw per statement: the order of a call's arguments differs between compilers.
    const cv::Vec3b c = colour();
    const bool filled = rng.chance(0.2);
    const double r = (filled ? rng.uniform(0.03, 0.12) : rng.uniform(0.05, 0.35)) * img.rows;
    const double aspect = rng.chance(0.6) ? 1.0 : rng.uniform(0.5, 1.5);
    const cv::Point centre{rng.integer(0, img.cols - 1), rng.integer(0, img.rows - 1)};  // braces: in order
    const double angle = rng.uniform(0, 180);
    const int thickness = filled ? -1 : (rng.chance(0.75) ? 1 : 2);
    cv::ellipse(img, centre, {std::max(1, int(r)), std::max(1, int(r * aspect))}, angle, 0, 360,
                cv::Scalar(c[0], c[1], c[2]), thickness, cv::LINE_AA);
  }
}

// How much of the ink survives at each pixel (0..1, CV_32FC1), for erase: soft stripes at any
// angle, or low-frequency blotches, fading strokes down to `floor` in places.
cv::Mat ink_fade(Rng& rng, cv::Size size) {
  const double floor = rng.uniform(0.1, 0.55);
  cv::Mat field(size, CV_32FC1);
  if (rng.chance(0.5)) {
    const double t = rng.uniform(0, kPi), period = rng.uniform(0.12, 0.45) * size.height;
    const double phase = rng.uniform(0, 2 * kPi), sharp = rng.uniform(1, 4);
    for (int y = 0; y < size.height; ++y) {
      float* f = field.ptr<float>(y);
      for (int x = 0; x < size.width; ++x) {
        const double v = std::sin(2 * kPi * (x * std::cos(t) + y * std::sin(t)) / period + phase);
        f[x] = float(std::clamp(0.5 + sharp * v, 0.0, 1.0));
      }
    }
  } else {
    const int cell = rng.integer(3, 10);
    cv::Mat small(std::max(2, size.height / cell), std::max(2, size.width / cell), CV_32FC1);
    for (int y = 0; y < small.rows; ++y)
      for (int x = 0; x < small.cols; ++x) small.at<float>(y, x) = float(rng.uniform(-1.0, 2.0));
    cv::resize(small, field, size, 0, 0, cv::INTER_CUBIC);
    cv::min(cv::max(field, 0.0), 1.0, field);
  }
  field = field * (1 - floor) + floor;
  return field;
}

// `mask` (placed at `tl`) times the fade field under it.
cv::Mat faded(const cv::Mat& mask, cv::Point tl, const cv::Mat& fade) {
  cv::Mat under(mask.size(), CV_32FC1, cv::Scalar(1.0));
  const cv::Rect area = cv::Rect(tl, mask.size()) & cv::Rect(0, 0, fade.cols, fade.rows);
  if (!area.empty()) fade(area).copyTo(under(area - tl));
  cv::Mat m32, out;
  mask.convertTo(m32, CV_32FC1);
  cv::multiply(m32, under, m32);
  m32.convertTo(out, CV_8UC1);
  return out;
}

}  // namespace

const std::vector<CaptchaFamily>& captcha_families() { return kFamilies; }

std::vector<std::string> parse_captcha_families(const std::string& text, const std::string& flag) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string word = text.substr(start, comma - start);
    if (!word.empty()) {
      bool known = false;
      for (const auto& f : kFamilies) known = known || f.name == word;
      if (!known) {
        std::string names;
        for (const auto& f : kFamilies) names += (names.empty() ? "" : ", ") + f.name;
        throw std::invalid_argument(flag + ": unknown captcha style family '" + word +
                                    "' (known: " + names + ")");
      }
      if (!contains(out, word)) out.push_back(word);
    }
    start = comma + 1;
  }
  return out;
}

void validate(const CaptchaOptions& o) {
  if (o.width < 16 || o.width > 2048 || o.height < 16 || o.height > 2048)
    throw std::invalid_argument("captcha size must be between 16 and 2048 pixels per side, not " +
                                std::to_string(o.width) + "x" + std::to_string(o.height));
  if (!(o.mirror_confusing_leans >= 0.0 && o.mirror_confusing_leans <= 1.0))
    throw std::invalid_argument("the share of confusing 1 and 7 leans mirrored must be within 0..1, not " +
                                std::to_string(o.mirror_confusing_leans));
  if (o.mirror_footless_leans && !(*o.mirror_footless_leans >= 0.0 && *o.mirror_footless_leans <= 1.0))
    throw std::invalid_argument("the share of confusing 1 and 7 leans mirrored in faces whose 1 has no foot must be "
                                "within 0..1, not " + std::to_string(*o.mirror_footless_leans));
  if (!(o.handwriting_share >= 0.0 && o.handwriting_share <= 1.0))
    throw std::invalid_argument("the share of captchas drawn in handwriting must be within 0..1, not " +
                                std::to_string(o.handwriting_share));
  if (o.min_length < 1 || o.max_length > 16 || o.min_length > o.max_length)
    throw std::invalid_argument("captcha length must be within 1..16 with min <= max, not " +
                                std::to_string(o.min_length) + "-" + std::to_string(o.max_length));
  for (const auto& name : o.exclude) category_of(name);
  for (const auto& name : o.require) {
    category_of(name);
    if (contains(o.exclude, name))
      throw std::invalid_argument("captcha style family '" + name + "' is both excluded and required");
  }
  if (contains(o.require, "handwriting") && o.handwriting_dir.empty())
    throw std::invalid_argument("captcha style family 'handwriting' is required but no handwriting folder is given");
}

const std::vector<std::string>& extra_font_dirs() {
  static const std::vector<std::string> dirs = {"andika",   "comic-neue", "dancingscript", "hack",
                                                "humor-sans", "open-sans", "urw-base35"};
  return dirs;
}

const std::vector<std::string>& more_font_dirs() {
  static const std::vector<std::string> dirs = {
      "anonymous-pro", "breip",     "cabin",          "cantarell",      "comfortaa",        "dustin",
      "fantasque-sans", "femkeklaver", "firacode",     "fonts-oldstandard", "inconsolata",   "jetbrains-mono",
      "kristi",        "lato",      "linux-libertine", "oxygen",         "quicksand",        "roboto",
      "tomsontalks",   "yanone-kaffeesatz"};
  return dirs;
}

bool captcha_freetype_available() {
#ifdef DIGITNET_HAVE_FREETYPE
  return true;
#else
  return false;
#endif
}

namespace {

#ifdef DIGITNET_HAVE_FREETYPE
// Whether a face draws digits: some decorative faces have none, and draw each digit as their
// missing-glyph box (which would teach the box as every digit). Checked once per file.
bool draws_digits(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, bool> known;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = known.find(path);
    if (it != known.end()) return it->second;
  }
  bool ok = false;
  try {
    auto ft = cv::freetype::createFreeType2();
    ft->loadFontData(path, 0);
    const auto draw = [&](const std::string& text) {
      cv::Mat canvas(48, 48, CV_8UC3, cv::Scalar(0, 0, 0)), grey;
      ft->putText(canvas, text, cv::Point(8, 36), 28, cv::Scalar(255, 255, 255), -1, cv::LINE_8, true);
      cv::cvtColor(canvas, grey, cv::COLOR_BGR2GRAY);
      return grey;
    };
    const cv::Mat missing = draw("\xee\x80\x80");  // U+E000, private use: no face draws it
    ok = true;
    for (char d = '0'; d <= '9' && ok; ++d) {
      const cv::Mat m = draw(std::string(1, d));
      ok = cv::countNonZero(m) > 0 && cv::norm(m, missing, cv::NORM_L1) > 0;
    }
  } catch (const cv::Exception&) {
    ok = false;  // a file FreeType cannot load
  }
  std::lock_guard<std::mutex> lock(mutex);
  known[path] = ok;
  return ok;
}
#endif

// Whether `file` lies in a folder named one of `dirs` somewhere below `root`.
bool under_one_of(const std::filesystem::path& file, const std::filesystem::path& root,
                  const std::vector<std::string>& dirs) {
  for (const auto& part : file.parent_path().lexically_relative(root))
    if (contains(dirs, part.string())) return true;
  return false;
}

}  // namespace

bool one_has_foot(const std::string& font) {
#ifdef DIGITNET_HAVE_FREETYPE
  static std::mutex mutex;
  static std::map<std::string, bool> known;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = known.find(font);
    if (it != known.end()) return it->second;
  }
  bool foot = false;
  try {
    auto ft = cv::freetype::createFreeType2();
    ft->loadFontData(font, 0);
    cv::Mat canvas(160, 160, CV_8UC3, cv::Scalar(0, 0, 0)), grey;
    ft->putText(canvas, "1", cv::Point(40, 120), 96, cv::Scalar(255, 255, 255), -1, cv::LINE_8, true);
    cv::extractChannel(canvas, grey, 0);
    const cv::Rect box = cv::boundingRect(grey);
    if (box.height >= 16) {
      const cv::Mat ink = grey(box) > 127;
      // The stem: the median count of ink pixels of the rows at 35-65% of the height.
      std::vector<int> stem;
      for (int y = box.height * 35 / 100; y <= box.height * 65 / 100; ++y) stem.push_back(cv::countNonZero(ink.row(y)));
      std::nth_element(stem.begin(), stem.begin() + long(stem.size() / 2), stem.end());
      const int stem_width = std::max(1, stem[stem.size() / 2]);
      // The base: the widest span of ink over the lowest 6% of the rows.
      int base = 0;
      for (int y = box.height - std::max(2, box.height * 6 / 100); y < box.height; ++y) {
        std::vector<cv::Point> points;
        cv::findNonZero(ink.row(y), points);
        if (points.empty()) continue;
        const auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                                  [](const cv::Point& a, const cv::Point& b) { return a.x < b.x; });
        base = std::max(base, hi->x - lo->x + 1);
      }
      foot = base * 10 >= stem_width * 17;
    }
  } catch (const cv::Exception&) {
    foot = false;  // a file FreeType cannot load
  }
  std::lock_guard<std::mutex> lock(mutex);
  known[font] = foot;
  return foot;
#else
  (void)font;
  return false;
#endif
}

std::vector<CaptchaGenerator::Font> find_captcha_fonts(const std::filesystem::path& dir) {
  std::vector<CaptchaGenerator::Font> fonts;
  if (!captcha_freetype_available()) return fonts;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return fonts;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != ".ttf" && ext != ".otf") continue;
    std::string name = it->path().filename().string();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    // Symbol, maths and dingbat faces draw no ordinary digits.
    if (name.find("math") != std::string::npos || name.find("symbol") != std::string::npos ||
        name.rfind("d050000l", 0) == 0)
      continue;
    std::string family = "ttf-other";
    if (name.rfind("dejavu", 0) == 0) family = "dejavu";
    else if (name.rfind("liberation", 0) == 0) family = "liberation";
    else if (name.rfind("free", 0) == 0) family = "freefont";
    else if (contains(extra_font_dirs(), it->path().parent_path().filename().string())) family = "extra";
    else if (under_one_of(it->path(), dir, more_font_dirs())) family = "more";
#ifdef DIGITNET_HAVE_FREETYPE
    if (!draws_digits(it->path().string())) continue;
#endif
    fonts.push_back({it->path().string(), family});
  }
  std::sort(fonts.begin(), fonts.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return fonts;
}

CaptchaGenerator::CaptchaGenerator(CaptchaOptions options) : options_(std::move(options)) {
  validate(options_);
  const auto allowed = [&](const std::string& name) { return !contains(options_.exclude, name); };
  const auto required_in = [&](const std::string& category) {
    std::vector<std::string> r;
    for (const auto& f : kFamilies)
      if (f.category == category && contains(options_.require, f.name)) r.push_back(f.name);
    return r;
  };
  const bool other_fonts = options_.other_fonts || contains(options_.require, "ttf-other");
  for (const auto& font : find_captcha_fonts(options_.font_dir))
    if (allowed(font.family) && (other_fonts || font.family != "ttf-other")) fonts_.push_back(font);

  // Handwriting is not picked with the fonts: its own stream decides (generate).
  handwriting_required_ = contains(options_.require, "handwriting");
  if (!options_.handwriting_dir.empty() && allowed("handwriting"))
    handwriting_ = load_handwriting(options_.handwriting_dir);

  // Fonts: the required ones, else every allowed family that has files (Hershey always has).
  auto req_fonts = required_in("font");
  req_fonts.erase(std::remove(req_fonts.begin(), req_fonts.end(), "handwriting"), req_fonts.end());
  for (const auto& f : req_fonts)
    if (f != "hershey" && std::none_of(fonts_.begin(), fonts_.end(), [&](const Font& x) { return x.family == f; }))
      throw std::runtime_error("captcha font family '" + f + "' is required but no such font was found under " +
                               options_.font_dir.string() +
                               (captcha_freetype_available() ? " (run scripts/setup.sh, which installs the font packages)"
                                                              : " (OpenCV was built without freetype)"));
  if (!req_fonts.empty()) {
    allowed_fonts_ = req_fonts;
  } else {
    if (allowed("hershey")) allowed_fonts_.push_back("hershey");
    for (const auto& f : font_families()) allowed_fonts_.push_back(f);
    if (allowed_fonts_.empty()) allowed_fonts_.push_back("hershey");  // the graceful fallback
  }
  const auto exclusive = [&](const std::string& category, const std::string& fallback) {
    auto r = required_in(category);
    if (!r.empty()) return r;
    for (const auto& f : kFamilies)
      if (f.category == category && allowed(f.name)) r.push_back(f.name);
    if (r.empty()) r.push_back(fallback);
    return r;
  };
  allowed_backgrounds_ = exclusive("background", "solid");
  allowed_inks_ = exclusive("ink", "fill");
  for (const auto& f : kFamilies)
    if ((f.category == "glyph" || f.category == "warp" || f.category == "noise" || f.category == "finish") &&
        allowed(f.name))
      optional_.push_back(f.name);
}

std::vector<std::string> CaptchaGenerator::font_families() const {
  std::vector<std::string> out;
  for (const auto& f : fonts_)
    if (!contains(out, f.family)) out.push_back(f.family);
  return out;
}

Captcha CaptchaGenerator::generate(uint64_t index) const {
  Rng rng(mix64(options_.seed * 0x2545F4914F6CDD1DULL + 0x1234567ULL) ^ mix64(index));
  const int n = rng.integer(options_.min_length, options_.max_length);
  std::string digits;
  for (int i = 0; i < n; ++i) digits += char('0' + rng.integer(0, 9));
  return generate(index, digits);
}

Captcha CaptchaGenerator::generate(uint64_t index, const std::string& digits) const {
  if (digits.empty() || digits.size() > 16 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw std::invalid_argument("captcha text must be 1 to 16 digits, not '" + digits + "'");
  // A second stream, so the style does not depend on how the digits were drawn.
  Rng rng(mix64(options_.seed ^ 0xC0FFEE1234567ULL) ^ mix64(index * 0x9E3779B97F4A7C15ULL + 7));
  const int n = int(digits.size());

  int width = options_.width, height = options_.height;
  if (options_.random_size) {
    height = std::clamp(int(options_.height * rng.uniform(0.6, 1.4)), 16, 2048);
    const double per_char = rng.uniform(0.42, 0.95);
    width = std::clamp(int(height * (n * per_char + rng.uniform(0.2, 0.8))), height + height / 2, 2048);
  }

  std::set<std::string> used;
  const std::string font_family = rng.pick(allowed_fonts_);
  const std::string background = rng.pick(allowed_backgrounds_);
  const std::string ink = rng.pick(allowed_inks_);
  used.insert(font_family);
  used.insert(background);
  used.insert(ink);
  std::set<std::string> effects;
  std::map<std::string, Rng> own;  // the streams of the families that have one
  for (const auto& name : optional_) {
    Rng& r = own_stream(name) ? own.emplace(name, family_stream(name, options_.seed, index)).first->second : rng;
    if (contains(options_.require, name) || r.chance(family_probability(name))) effects.insert(name);
  }
  used.insert(effects.begin(), effects.end());
  const auto on = [&](const char* name) { return effects.count(name) > 0; };
  // Handwriting: its own stream (family_stream) decides whether, with chance
  // handwriting_share, and picks the digits; the font drawn for the main stream is then not
  // used.
  std::optional<Rng> hand;
  if (handwriting_) {
    hand.emplace(family_stream("handwriting", options_.seed, index));
    if (!handwriting_required_ && !hand->chance(options_.handwriting_share)) hand.reset();
  }
  if (hand) {
    used.erase(font_family);
    used.insert("handwriting");
  }

  std::vector<const Font*> family_fonts;
  for (const auto& f : fonts_)
    if (f.family == font_family) family_fonts.push_back(&f);
  // One face for the whole captcha, or (a third of the time) one per character.
  const Font* captcha_font = family_fonts.empty() ? nullptr : family_fonts[rng.next() % family_fonts.size()];
  const bool mixed_faces = rng.chance(0.3);

  const bool dark = rng.chance(0.25);
  cv::Mat img(height, width, CV_8UC3);
  draw_background(rng, img, background, dark);
  const int ink_lo = dark ? 160 : 0, ink_hi = dark ? 255 : 100;
  const bool one_colour = rng.chance(0.5);
  const cv::Vec3b text_colour = colour_in(rng, ink_lo, ink_hi);
  const bool grid_behind = rng.chance(0.6);
  if (on("grid") && grid_behind)
    draw_grid(rng, img, rng.chance(0.5) ? colour_in(rng, dark ? 60 : 110, dark ? 140 : 200) : text_colour);
  const bool rings_behind = on("rings") && rng.chance(0.7);
  if (rings_behind) draw_rings(rng, img, rng.chance(0.6) ? text_colour : colour_in(rng, dark ? 60 : 90, dark ? 160 : 190));

  // The later families each draw from their own stream (own), so that a captcha without them
  // keeps its pixels.
  // Scribbles: wavy or jagged lines across the text, some behind it and the rest in front.
  int scribbles_in_front = 0, scribble_thickness = 1;
  const auto scribble_colour = [&](Rng& r) {
    if (r.chance(0.45)) return text_colour;
    const int lo = r.chance(0.7) ? ink_lo : 0;  // one draw after the other: the same on every compiler
    const int hi = r.chance(0.7) ? ink_hi : 255;
    return colour_in(r, lo, hi);
  };
  if (on("scribble")) {
    Rng& r = own.at("scribble");
    const int count = r.integer(2, 7), behind = r.integer(0, count);
    scribble_thickness = r.chance(0.7) ? r.integer(1, 2) : r.integer(1, std::max(1, height / 16));
    for (int i = 0; i < behind; ++i) draw_scribble(r, img, scribble_colour(r), scribble_thickness);
    scribbles_in_front = count - behind;
  }
  // Erase: the paper shows through the ink, along thin cuts across it or in faded patches.
  cv::Mat paper, fade;
  bool cuts = false;
  if (on("erase")) {
    Rng& r = own.at("erase");
    paper = img.clone();
    if (r.chance(0.6)) fade = ink_fade(r, img.size());
    cuts = fade.empty() || r.chance(0.4);
  }
  // Tilt: the text line turned as a whole, its glyphs with it and each less on its own, and
  // smaller so that the line stays inside the image. Scatter: each glyph anywhere in the free
  // height (also smaller, to leave some).
  double size_scale = 1.0, own_turn = 1.0, line_turn = 0.0, glyph_line_turn = 0.0;
  if (on("tilt")) {
    Rng& r = own.at("tilt");
    size_scale *= r.uniform(0.55, 0.85);
    own_turn = r.uniform(0.0, 0.4);
    line_turn = r.uniform(5, 20) * kPi / 180 * (r.chance(0.5) ? 1 : -1);
  }
  if (on("scatter")) size_scale *= own.at("scatter").uniform(0.7, 0.9);
  const bool zero_slash = on("zeros") && own.at("zeros").chance(0.4);

  // Characters: glyph masks, transformed, with their colours.
  const int char_h = std::max(8, int(height * rng.uniform(0.45, 0.72) * size_scale));
  if (line_turn != 0.0) {  // the glyphs turn with the line as far as a line of about a third of the width may
    const double room_y = (height - 1.15 * char_h) / 2;
    const double most = room_y > 0 ? std::atan(room_y / (0.35 * width)) : 0.0;
    glyph_line_turn = std::clamp(line_turn, -most, most);
  }
  double dot_step = 0;
  int dot_radius = 0;
  if (on("dotted")) {
    Rng& r = own.at("dotted");
    dot_step = char_h * r.uniform(0.08, 0.14);
    dot_radius = std::max(1, int(std::lround(dot_step * r.uniform(0.25, 0.4))));
    dot_step = std::max(dot_step, 2.0 * dot_radius + 2);
  }
  std::vector<Glyph> glyphs;
  for (int i = 0; i < n; ++i) {
    const Font* font = captcha_font;
    if (mixed_faces && !family_fonts.empty()) font = family_fonts[rng.next() % family_fonts.size()];
    const int h = std::max(6, int(char_h * rng.uniform(0.82, 1.18)));
    const cv::Mat drawn = hand ? handwritten_mask(*hand, *handwriting_, digits[size_t(i)], h)
                               : glyph_mask(rng, font, digits[size_t(i)], h);
    const cv::Mat marked = on("zeros") && digits[size_t(i)] == '0' ? mark_zero(own.at("zeros"), drawn, zero_slash) : drawn;
    const char digit = digits[size_t(i)];
    // Hershey faces and handwriting count as footless; the foot is looked up for 1s and 7s only.
    const bool footless = options_.mirror_footless_leans && (digit == '1' || digit == '7') &&
                          (hand || !font || !one_has_foot(font->path));
    const double mirror = footless ? *options_.mirror_footless_leans : options_.mirror_confusing_leans;
    cv::Mat mask = transform_glyph(rng, marked, digit, mirror, own_turn, glyph_line_turn);
    if (on("flags") && digits[size_t(i)] == '1' && own.at("flags").chance(0.85)) mask = flag_one(own.at("flags"), mask);
    if (on("dotted")) mask = dot_matrix(own.at("dotted"), mask, dot_step, dot_radius);
    Glyph g;
    g.fill_colour = one_colour ? text_colour : colour_in(rng, ink_lo, ink_hi);
    if (ink == "fill") {
      g.fill = mask;
    } else if (ink == "shadow") {
      // An extruded copy behind the face: d steps of one pixel in one direction, in the rim
      // colour; the face is either in an ink colour too or pale, the shadow then carrying
      // the contrast.
      const int d = rng.integer(1, std::max(2, h / 7));
      const int sx = rng.chance(0.5) ? 1 : -1, sy = rng.integer(-1, 1);
      cv::Mat grown;
      cv::copyMakeBorder(mask, grown, d, d, d, d, cv::BORDER_CONSTANT, 0);
      cv::Mat shadow = cv::Mat::zeros(grown.size(), CV_8UC1);
      for (int k = 1; k <= d; ++k) {
        const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, k * sx, 0, 1, k * sy);
        cv::Mat moved;
        cv::warpAffine(grown, moved, shift, grown.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
        shadow = cv::max(shadow, moved);
      }
      g.rim = shadow;
      g.fill = grown;
      g.rim_colour = g.fill_colour;
      if (rng.chance(0.5)) g.fill_colour = colour_in(rng, dark ? 0 : 130, dark ? 130 : 255);
    } else {
      const int k = std::max(1, h / 16) + (rng.chance(0.4) ? 1 : 0);
      const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * k + 1, 2 * k + 1));
      cv::Mat grown;
      cv::copyMakeBorder(mask, grown, k, k, k, k, cv::BORDER_CONSTANT, 0);
      if (ink == "outline") {
        cv::Mat dilated;
        cv::dilate(grown, dilated, kernel);
        g.rim = dilated;
        g.fill = grown;
        g.rim_colour = g.fill_colour;
        // The fill takes a colour near the background's, the rim carries the contrast.
        g.fill_colour = colour_in(rng, dark ? 0 : 150, dark ? 110 : 255);
      } else {  // hollow
        cv::Mat eroded;
        cv::erode(grown, eroded, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
        cv::Mat dilated;
        cv::dilate(grown, dilated, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * (k / 2) + 3, 2 * (k / 2) + 3)));
        g.rim = dilated - eroded;
        g.rim_colour = g.fill_colour;
      }
    }
    glyphs.push_back(g);
  }

  // Layout: advances of 70..115% of each glyph's width (neighbours overlap below 100%),
  // squeezed to fit the width, with vertical jitter.
  const double spacing = rng.uniform(0.72, 1.12);
  std::vector<double> advance(static_cast<size_t>(n));
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const cv::Mat& m = glyphs[size_t(i)].rim.empty() ? glyphs[size_t(i)].fill : glyphs[size_t(i)].rim;
    advance[size_t(i)] = m.cols * (i + 1 < n ? spacing * rng.uniform(0.92, 1.08) : 1.0);
    total += advance[size_t(i)];
  }
  const double margin = width * rng.uniform(0.02, 0.08);
  const double room = width - 2 * margin;
  double fit = total > room ? room / total : 1.0;
  if (fit < 1.0) {
    for (auto& g : glyphs) {
      const auto shrink = [&](cv::Mat& m) {
        if (m.empty()) return;
        cv::resize(m, m, cv::Size(std::max(1, int(m.cols * fit)), std::max(1, int(m.rows * std::sqrt(fit)))),
                   0, 0, cv::INTER_AREA);
      };
      shrink(g.fill);
      shrink(g.rim);
    }
    for (auto& a : advance) a *= fit;
    total *= fit;
  }
  double x = margin + rng.uniform(0, std::max(0.0, room - total));
  const double line_centre = x + total / 2;
  if (line_turn != 0.0) {  // the line itself turns as far as the glyphs' height leaves room
    int tallest = 0;
    for (const auto& g : glyphs) tallest = std::max(tallest, (g.rim.empty() ? g.fill : g.rim).rows);
    const double room_y = (height - tallest) / 2.0;
    const double most = room_y > 0 && total > 0 ? std::atan(room_y / (total / 2)) : 0.0;
    line_turn = std::clamp(line_turn, -most, most);
  }
  const double baseline_y = height / 2.0 + rng.uniform(-0.08, 0.08) * height;
  cv::Rect text_box;  // the glyphs' union, before warps
  std::vector<cv::Rect> boxes;  // each glyph's ink, for strikes
  for (int i = 0; i < n; ++i) {
    Glyph& g = glyphs[size_t(i)];
    const cv::Mat& outer = g.rim.empty() ? g.fill : g.rim;
    const double slack = std::max(0.0, (height - outer.rows) / 2.0);
    int cy = int(baseline_y + rng.uniform(-0.6, 0.6) * std::min(slack, height * 0.18));
    if (on("scatter")) cy = int(height / 2.0 + own.at("scatter").uniform(-0.95, 0.95) * slack);
    if (line_turn != 0.0) cy += int(std::tan(line_turn) * (x + outer.cols / 2.0 - line_centre));
    if (on("scatter") || line_turn != 0.0) cy = std::clamp(cy, outer.rows / 2, std::max(outer.rows / 2, height - (outer.rows + 1) / 2));
    const cv::Point tl(int(x), cy - outer.rows / 2);
    if (on("strikes")) {
      const cv::Rect ink_box = cv::boundingRect(outer >= 128);
      boxes.emplace_back(tl + ink_box.tl(), ink_box.area() ? ink_box.size() : outer.size());
    }
    text_box = text_box.area() ? (text_box | cv::Rect(tl, outer.size())) : cv::Rect(tl, outer.size());
    const auto ink_at = [&](const cv::Mat& m, cv::Point at) { return fade.empty() ? m : faded(m, at, fade); };
    if (!g.rim.empty() && (ink == "outline" || ink == "shadow")) {
      blend(img, ink_at(g.rim, tl), tl, g.rim_colour);
      const cv::Point off((g.rim.cols - g.fill.cols) / 2, (g.rim.rows - g.fill.rows) / 2);
      blend(img, ink_at(g.fill, tl + off), tl + off, g.fill_colour);
    } else if (!g.rim.empty()) {
      blend(img, ink_at(g.rim, tl), tl, g.rim_colour);
    } else {
      blend(img, ink_at(g.fill, tl), tl, g.fill_colour, rng.uniform(0.85, 1.0));
    }
    x += advance[size_t(i)];
  }

  if (cuts) {
    // Thin cuts in the paper's colour across the text, mostly along it.
    Rng& r = own.at("erase");
    cv::Mat cut = cv::Mat::zeros(img.size(), CV_8UC1);
    const int count = r.integer(2, 10), thick = r.integer(1, std::max(1, height / 25));
    for (int i = 0; i < count; ++i) {
      const bool across = r.chance(0.3);
      const cv::Point a = across ? cv::Point(r.integer(0, width - 1), 0) : cv::Point(0, r.integer(0, height - 1));
      const cv::Point b = across ? cv::Point(r.integer(0, width - 1), height - 1)
                                 : cv::Point(width - 1, r.integer(0, height - 1));
      cv::line(cut, a, b, cv::Scalar(255), thick, cv::LINE_8);
    }
    paper.copyTo(img, cut);
  }

  // Strikes: long, slightly wavy lines in the ink's colour and about its weight, in front of
  // the text, each through the top third of one glyph (of a 1 or a 4 three times in four,
  // where there is one) and not steep, so that they stay near the tops of its neighbours: a
  // line across a 1's top draws a 7's bar, one across a 4's closes it into a 9 (Gregwar's
  // captchas cross their digits so). The line runs on past the glyph, which a bar does not.
  if (on("strikes")) {
    Rng& r = own.at("strikes");
    std::vector<int> tops;  // the glyphs whose tops a line makes another digit
    for (int i = 0; i < n; ++i)
      if (digits[size_t(i)] == '1' || digits[size_t(i)] == '4') tops.push_back(i);
    const int count = r.integer(1, 3);
    for (int k = 0; k < count; ++k) {
      const int i = !tops.empty() && r.chance(0.75) ? tops[size_t(r.integer(0, int(tops.size()) - 1))]
                                                    : r.integer(0, n - 1);
      const cv::Rect& box = boxes[size_t(i)];
      const double cx = box.x + box.width * r.uniform(0.3, 0.8), cy = box.y + box.height * r.uniform(0.03, 0.3);
      const double slope = r.uniform(-0.07, 0.07);
      const double amp = r.uniform(0, 0.05) * height, period = r.uniform(0.5, 1.5) * width;
      const double phase = r.uniform(0, 2 * kPi);
      const int x0 = int(cx - r.uniform(0.25, 1.0) * width), x1 = int(cx + r.uniform(0.25, 1.0) * width);
      std::vector<cv::Point> pts;
      for (int px = x0; px <= x1; px += 3) {
        const double wave = amp * (std::sin(2 * kPi * (px - cx) / period + phase) - std::sin(phase));
        pts.emplace_back(px, int(std::lround(cy + slope * (px - cx) + wave)));
      }
      const Glyph& g = glyphs[size_t(i)];
      const double sw = stroke_width(g.fill.empty() ? g.rim : g.fill) * r.uniform(0.45, 0.9);
      const int t = std::clamp(int(std::lround(sw)), 1, std::max(1, height / 14));
      const cv::Vec3b c = r.chance(0.75) ? text_colour : colour_in(r, ink_lo, ink_hi);
      cv::polylines(img, pts, false, cv::Scalar(c[0], c[1], c[2]), t, cv::LINE_AA);
    }
  }

  // Clutter across the text.
  const auto noise_colour = [&]() {
    return rng.chance(0.55) ? text_colour : colour_in(rng, ink_lo, std::min(255, ink_hi + 40));
  };
  if (on("lines")) {
    const int count = rng.integer(1, 4);
    for (int i = 0; i < count; ++i) {
      const cv::Vec3b c = noise_colour();
      cv::line(img, {rng.integer(0, width / 4), rng.integer(0, height)},
               {rng.integer(3 * width / 4, width), rng.integer(0, height)}, cv::Scalar(c[0], c[1], c[2]),
               rng.integer(1, std::max(1, height / 20)), cv::LINE_AA);
    }
  }
  if (on("curves")) {
    const int count = rng.integer(1, 3);
    for (int i = 0; i < count; ++i) {
      const cv::Vec3b c = noise_colour();
      std::vector<cv::Point> pts;
      const double amp = rng.uniform(0.05, 0.3) * height, period = rng.uniform(0.5, 2.0) * width;
      const double phase = rng.uniform(0, 2 * kPi), y0 = rng.uniform(0.25, 0.75) * height;
      const double tilt = rng.uniform(-0.3, 0.3) * height / width;
      const int x0 = rng.integer(0, width / 3), x1 = rng.integer(2 * width / 3, width);
      for (int px = x0; px <= x1; px += 3)
        pts.emplace_back(px, int(y0 + amp * std::sin(2 * kPi * px / period + phase) + tilt * (px - x0)));
      cv::polylines(img, pts, false, cv::Scalar(c[0], c[1], c[2]), rng.integer(1, std::max(1, height / 15)),
                    cv::LINE_AA);
    }
  }
  if (on("dots")) {
    const int count = rng.integer(width * height / 400, width * height / 60);
    const bool same = rng.chance(0.5);
    const cv::Vec3b c0 = noise_colour();
    for (int i = 0; i < count; ++i) {
      const cv::Vec3b c = same ? c0 : colour_in(rng, 0, 255);
      cv::circle(img, {rng.integer(0, width - 1), rng.integer(0, height - 1)}, rng.integer(0, 2),
                 cv::Scalar(c[0], c[1], c[2]), -1, cv::LINE_8);
    }
  }
  if (on("grid") && !grid_behind) draw_grid(rng, img, noise_colour());
  if (on("scribble")) {
    Rng& r = own.at("scribble");
    for (int i = 0; i < scribbles_in_front; ++i) draw_scribble(r, img, scribble_colour(r), scribble_thickness);
  }
  if (on("circles")) {
    Rng& r = own.at("circles");
    draw_circles(r, img, r.integer(1, 8), [&]() {
      return r.chance(0.5) ? text_colour : colour_in(r, ink_lo, std::min(255, ink_hi + 40));
    });
  }
  if (on("rings") && !rings_behind) draw_rings(rng, img, noise_colour());
  if (on("particles")) {
    // Dense single pixels and 2x2 specks, mostly in the text's colour, anywhere (also on the
    // characters, a few in the background's colour).
    const double density = rng.uniform(0.04, 0.35);
    const int count = int(density * width * height);
    const cv::Vec3b c0 = rng.chance(0.7) ? text_colour : noise_colour();
    const cv::Vec3b back = img.at<cv::Vec3b>(0, 0);
    const double speck = rng.uniform(0, 0.3);
    for (int i = 0; i < count; ++i) {
      const cv::Vec3b c = rng.chance(0.1) ? back : c0;
      const int px = rng.integer(0, width - 1), py = rng.integer(0, height - 1);
      const int s = rng.chance(speck) ? 2 : 1;
      img(cv::Rect(px, py, std::min(s, width - px), std::min(s, height - py))).setTo(cv::Scalar(c[0], c[1], c[2]));
    }
  }

  // Whole-image warps.
  if (on("wave")) {
    cv::Mat mx(height, width, CV_32FC1), my(height, width, CV_32FC1);
    const double ax = rng.uniform(0.5, 0.04 * width + 1), ay = rng.uniform(1.0, 0.1 * height + 1);
    const double lx = rng.uniform(0.4, 1.5) * width, ly = rng.uniform(0.5, 2.0) * height;
    const double px = rng.uniform(0, 2 * kPi), py = rng.uniform(0, 2 * kPi);
    std::vector<float> dy(static_cast<size_t>(width));
    for (int xx = 0; xx < width; ++xx) dy[size_t(xx)] = float(ay * std::sin(2 * kPi * xx / lx + py));
    for (int y = 0; y < height; ++y) {
      float* rx = mx.ptr<float>(y);
      float* ry = my.ptr<float>(y);
      const float sx = float(ax * std::sin(2 * kPi * y / ly + px));
      for (int xx = 0; xx < width; ++xx) {
        rx[xx] = float(xx) + sx;
        ry[xx] = float(y) + dy[size_t(xx)];
      }
    }
    cv::Mat out;
    cv::remap(img, out, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    img = out;
  }
  if (on("perspective")) {
    const float w = float(width), h = float(height);
    const auto j = [&](double frac, double side) { return float(rng.uniform(-frac, frac) * side); };
    const cv::Point2f src[4] = {{0, 0}, {w, 0}, {w, h}, {0, h}};
    const cv::Point2f dst[4] = {{j(0.05, w), j(0.12, h)},
                                {w + j(0.05, w), j(0.12, h)},
                                {w + j(0.05, w), h + j(0.12, h)},
                                {j(0.05, w), h + j(0.12, h)}};
    cv::Mat out;
    cv::warpPerspective(img, out, cv::getPerspectiveTransform(src, dst), img.size(), cv::INTER_LINEAR,
                        cv::BORDER_REPLICATE);
    img = out;
  }
  if (on("elastic")) {
    // A smooth random displacement field (cubic upsampling of a coarse grid): bends strokes
    // and changes glyph shapes locally, unlike the global wave.
    const int cells_y = rng.integer(3, 6);
    const int cells_x = std::max(3, int(cells_y * double(width) / height * rng.uniform(0.7, 1.3)));
    const double amp = rng.uniform(0.5, 0.07 * height + 1);
    cv::Mat dx(cells_y, cells_x, CV_32FC1), dy(cells_y, cells_x, CV_32FC1);
    for (int y = 0; y < cells_y; ++y)
      for (int xx = 0; xx < cells_x; ++xx) {
        dx.at<float>(y, xx) = float(rng.uniform(-amp, amp));
        dy.at<float>(y, xx) = float(rng.uniform(-amp, amp));
      }
    cv::Mat mx, my;
    cv::resize(dx, mx, img.size(), 0, 0, cv::INTER_CUBIC);
    cv::resize(dy, my, img.size(), 0, 0, cv::INTER_CUBIC);
    for (int y = 0; y < height; ++y) {
      float* rx = mx.ptr<float>(y);
      float* ry = my.ptr<float>(y);
      for (int xx = 0; xx < width; ++xx) {
        rx[xx] += float(xx);
        ry[xx] += float(y);
      }
    }
    cv::Mat out;
    cv::remap(img, out, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    img = out;
  }
  if (on("speckle")) {
    const double density = rng.uniform(0.01, 0.08);
    const int sigma = rng.integer(0, 25);
    for (int y = 0; y < height; ++y) {
      auto* p = img.ptr<cv::Vec3b>(y);
      for (int xx = 0; xx < width; ++xx) {
        if (sigma > 0) {
          const int d = int((rng.uniform() + rng.uniform() + rng.uniform() - 1.5) * 2 * sigma);
          p[xx] = clamp_colour(p[xx][0] + d, p[xx][1] + d, p[xx][2] + d);
        }
        if (rng.uniform() < density) {
          const uchar v = rng.chance(0.5) ? uchar(rng.integer(0, 60)) : uchar(rng.integer(195, 255));
          p[xx] = cv::Vec3b(v, v, v);
        }
      }
    }
  }
  if (on("implode")) {
    // A radial pinch (towards a centre) or bulge (away from it), as ImageMagick's -implode and
    // fish-eye filters draw it: inside an ellipse around the centre the distance to it is
    // scaled by sin(pi/2 * d)^-amount, d the normalised distance; nothing moves at the rim.
    Rng& r = own.at("implode");
    const double cx = r.uniform(0.3, 0.7) * width, cy = r.uniform(0.35, 0.65) * height;
    const double rx = r.uniform(0.35, 0.75) * width, ry = std::max(rx * height / width, r.uniform(0.5, 1.0) * height);
    const double amount = r.chance(0.6) ? r.uniform(0.1, 0.6) : -r.uniform(0.1, 0.4);
    cv::Mat mx(height, width, CV_32FC1), my(height, width, CV_32FC1);
    for (int y = 0; y < height; ++y) {
      float* px = mx.ptr<float>(y);
      float* py = my.ptr<float>(y);
      for (int xx = 0; xx < width; ++xx) {
        const double u = (xx - cx) / rx, v = (y - cy) / ry, d2 = u * u + v * v;
        const double f = d2 > 0 && d2 < 1 ? std::pow(std::sin(kPi / 2 * std::sqrt(d2)), -amount) : 1.0;
        px[xx] = float(cx + f * (xx - cx));
        py[xx] = float(cy + f * (y - cy));
      }
    }
    cv::Mat out;
    cv::remap(img, out, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    img = out;
  }
  if (on("weight")) {
    // Every stroke, text and clutter alike, a pixel or two bolder or thinner, as generators
    // with a heavier or a lighter pen draw them: a minimum filter grows dark ink (a maximum
    // filter light ink) and thins the other. Thinning is by one pixel only, or strokes vanish.
    Rng& r = own.at("weight");
    const bool bolder = r.chance(0.5);
    const int k = bolder && height >= 40 && r.chance(0.3) ? 3 : 2;
    const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k));
    if (bolder != dark) cv::erode(img, img, kernel);
    else cv::dilate(img, img, kernel);
  }
  if (on("framing")) {
    // Cropped close around the text, as generators that size the image to the text draw it
    // (a margin of 0 to 15% of the text's height at each side of the glyphs' box, taken before
    // the warps, which may move the text a little).
    const double m = 0.15 * text_box.height;
    const int x0 = int(text_box.x - rng.uniform(0, m)), x1 = int(text_box.br().x + rng.uniform(0, m));
    const int y0 = int(text_box.y - rng.uniform(0, m)), y1 = int(text_box.br().y + rng.uniform(0, m));
    const cv::Rect crop = cv::Rect(cv::Point(x0, y0), cv::Point(x1, y1)) & cv::Rect(0, 0, width, height);
    if (crop.width >= 16 && crop.height >= 16) img = img(crop).clone();
    // A fixed size stays fixed: the crop is stretched back, as a reader's resize would.
    if (!options_.random_size && img.size() != cv::Size(width, height))
      cv::resize(img, img, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  }

  if (on("blur")) {
    const double sigma = rng.uniform(0.5, 0.6 + height / 60.0);
    cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
  }
  if (on("jpeg")) {
    std::vector<uchar> buf;
    cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, rng.integer(12, 60)});
    img = cv::imdecode(buf, cv::IMREAD_COLOR);
  }

  if (on("binary")) {
    // Two colours, no anti-aliasing: a threshold between paper and ink (Otsu's, or shifted),
    // then the two sides painted black and white or in two contrasting colours.
    cv::Mat grey, mask;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    const double otsu = cv::threshold(grey, mask, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    cv::threshold(grey, mask, std::clamp(otsu + rng.uniform(-25, 25), 1.0, 254.0), 255, cv::THRESH_BINARY);
    const bool plain = rng.chance(0.6);
    const cv::Vec3b lo = plain ? cv::Vec3b(0, 0, 0) : colour_in(rng, 0, 90);
    const cv::Vec3b hi = plain ? cv::Vec3b(255, 255, 255) : colour_in(rng, 170, 255);
    img.setTo(cv::Scalar(lo[0], lo[1], lo[2]));
    img.setTo(cv::Scalar(hi[0], hi[1], hi[2]), mask);
  }

  Captcha out;
  out.image = img;
  out.text = digits;
  for (const auto& f : kFamilies)
    if (used.count(f.name)) out.families.push_back(f.name);
  return out;
}

cv::Mat captcha_grey(const cv::Mat& image) {
  if (image.empty()) throw std::invalid_argument("captcha_grey: empty image");
  cv::Mat img = image;
  if (img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  else if (img.depth() == CV_32F || img.depth() == CV_64F) img.convertTo(img, CV_8U, 255.0);
  else if (img.depth() != CV_8U) img.convertTo(img, CV_8U);
  cv::Mat grey;
  if (img.channels() == 1) return img.clone();
  if (img.channels() == 3) {
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    return grey;
  }
  if (img.channels() == 2) {  // grey + alpha
    std::vector<cv::Mat> ch;
    cv::split(img, ch);
    cv::Mat bgra;
    cv::merge(std::vector<cv::Mat>{ch[0], ch[0], ch[0], ch[1]}, bgra);
    img = bgra;
  }
  if (img.channels() != 4)
    throw std::invalid_argument("captcha_grey: images need 1 to 4 channels, not " + std::to_string(img.channels()));
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  cv::cvtColor(img, grey, cv::COLOR_BGRA2GRAY);
  // Lay the image over white, or over black when its opaque pixels are mostly light.
  const double alpha_sum = cv::sum(ch[3])[0];
  if (alpha_sum >= 255.0 * img.total() - 0.5) return grey;
  cv::Mat g32, a32;
  grey.convertTo(g32, CV_32F);
  ch[3].convertTo(a32, CV_32F, 1.0 / 255.0);
  const double opaque_mean = alpha_sum > 0 ? cv::sum(g32.mul(a32))[0] / (alpha_sum / 255.0) : 0.0;
  const float under = opaque_mean > 127 ? 0.0f : 255.0f;
  cv::Mat out32 = g32.mul(a32) + (1.0f - a32) * under;
  cv::Mat out;
  out32.convertTo(out, CV_8U);
  return out;
}

torch::Tensor captcha_input(const cv::Mat& grey, int64_t height, int64_t width) {
  if (grey.empty() || grey.type() != CV_8UC1)
    throw std::invalid_argument("captcha_input needs a non-empty grey 8-bit image");
  cv::Mat resized;
  const bool shrink = grey.cols > width && grey.rows > height;
  cv::resize(grey, resized, cv::Size(int(width), int(height)), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  auto t = torch::from_blob(resized.data, {1, height, width}, torch::kUInt8).to(torch::kFloat);
  return t.div_(255.0);
}

cv::Mat captcha_sheet(const std::vector<Captcha>& captchas, int columns) {
  if (captchas.empty() || columns < 1) throw std::invalid_argument("captcha_sheet needs captchas and columns >= 1");
  // A cell is as wide as its widest image or caption, so long captions under narrow captchas
  // (eval's "truth -> reading 99%") never run into the next cell.
  const int font = cv::FONT_HERSHEY_PLAIN;
  const double scale = 0.9;
  int cw = 0, ch = 0;
  for (const auto& c : captchas) {
    int baseline = 0;
    cw = std::max({cw, c.image.cols, cv::getTextSize(c.text, font, scale, 1, &baseline).width + 4});
    ch = std::max(ch, c.image.rows);
  }
  const int label_h = 16, gap = 6;
  const int rows = int((captchas.size() + size_t(columns) - 1) / size_t(columns));
  cv::Mat sheet(rows * (ch + label_h + gap) + gap, columns * (cw + gap) + gap, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < captchas.size(); ++i) {
    const int r = int(i) / columns, c = int(i) % columns;
    const cv::Point tl(gap + c * (cw + gap), gap + r * (ch + label_h + gap));
    captchas[i].image.copyTo(sheet(cv::Rect(tl, captchas[i].image.size())));
    cv::putText(sheet, captchas[i].text, tl + cv::Point(2, captchas[i].image.rows + 12), font, scale,
                cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
  }
  return sheet;
}

}  // namespace digitnet
