#pragma once
// The synthetic numeric-captcha renderer used for training and tests.
//
// Wide domain randomisation, organised in named style families so that whole families can be
// held out of training and scored separately (an honest measure of generalisation to captcha
// styles the model never saw):
//
//   font        hershey (OpenCV's vector faces), dejavu, liberation, freefont (the three Debian
//               font packages), extra (the faces of the Debian packages in extra_font_dirs():
//               comic, hand-drawn, script, URW's classics), more (the faces of the Debian
//               packages in more_font_dirs(): monospace faces with slashed and dotted zeros,
//               rounded, condensed, old-style figures, handwriting, decorative), ttf-other (any
//               other TrueType file under font_dir, only when asked for); all but Hershey drawn
//               through cv::freetype; handwriting (MNIST-like handwritten digits from the
//               train split of handwriting_dir, only when it is given: 15% of captchas by default)
//   background  solid, gradient, texture
//   ink         fill, outline (filled, with a contrasting rim), hollow (rim only), shadow
//               (an extruded 3D copy behind the face)
//   glyph       zeros (a dot or a slash inside every 0), dotted (dot-matrix glyphs), flags (1s
//               with a long flag, down to the left from the top of the stem)
//   warp        wave, perspective, elastic (a smooth random displacement field), implode (a
//               radial pinch or bulge around a point, as ImageMagick's implode and fish-eye
//               filters draw it), tilt (the whole text line turned 5-20 degrees), scatter
//               (each glyph at any height)
//   noise       lines, curves, dots, speckle, grid, particles (dense pixels in the ink's
//               colour), rings (concentric ellipses), scribble (wavy or jagged lines), circles
//               (loose circles and ellipses), erase (the paper through the ink: faded bands,
//               thin cuts), strikes (long lines in the ink's colour and weight through the
//               tops of the glyphs, mostly of 1s and 4s)
//   finish      blur, jpeg, binary (two colours, no anti-aliasing), framing (the image cropped
//               close around the text, as generators that size the image to the text draw it),
//               weight (every stroke a pixel or two bolder or thinner: a heavier or lighter pen)
//
// Per character there is always some rotation, scale, vertical offset and spacing (down to
// overlapping neighbours), and colour. A captcha is a pure function of (seed, index): the same
// pair gives the same pixels on any thread, in any order.

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace digitnet {

struct CaptchaFamily {
  std::string name;      // e.g. "wave"
  std::string category;  // font, background, ink, glyph, warp, noise, finish
};

// Every family the renderer knows, in a fixed order.
const std::vector<CaptchaFamily>& captcha_families();

// "freefont,grid" -> {"freefont", "grid"}; "" -> {}. Throws std::invalid_argument naming
// `flag` and the word for an unknown family.
std::vector<std::string> parse_captcha_families(const std::string& text, const std::string& flag);

struct CaptchaOptions {
  int width = 160;  // pixels
  int height = 60;
  // Each captcha's size is drawn from [width/2, width*1.6] x [height*0.6, height*1.4] (training
  // sees many aspect ratios); otherwise every captcha is exactly width x height.
  bool random_size = false;
  int min_length = 4;  // digits per captcha, drawn uniformly in [min_length, max_length]
  int max_length = 8;
  uint64_t seed = 0;
  std::vector<std::string> exclude;  // families never used
  // Families always used: of the exclusive categories (font, background, ink) one of those
  // listed is picked; listed warps, noises and finishes are always applied.
  std::vector<std::string> require;
  std::filesystem::path font_dir = "/usr/share/fonts";  // searched recursively for .ttf/.otf
  // Whether ttf-other fonts are used (also when `require` lists ttf-other). Off by default:
  // what else a machine has installed differs from machine to machine (a run would not be
  // reproducible), and it may be a captcha generator's own fonts that a benchmark scores on.
  bool other_fonts = false;
  // The share (0..1) of the 1s that would lean clockwise, and of the 7s that would lean
  // anticlockwise, by more than 6 degrees that take the mirrored turn instead: such leans draw
  // the other digit (see transform_glyph in captcha.cpp). 0 draws turns alike both ways, as the
  // shipped model was trained; bench/BENCHMARKS.md has what 0.5 and 1 did.
  double mirror_confusing_leans = 0.0;
  // The same share for the faces whose 1 has no foot (one_has_foot; Hershey faces and
  // handwriting count as such), in place of mirror_confusing_leans there. Such a face's upright
  // 1 is a stem with a flag, the shape of a 7 turned anticlockwise; beside a footed 1 (DejaVu,
  // Bitstream Vera) a 7 turned so stays a 7, and django-simple-captcha draws those. Unset: one
  // share for every face.
  std::optional<double> mirror_footless_leans;
  // An MNIST-like IDX folder (scripts/get-data.sh's data/mnist): with it, the handwriting
  // family draws each digit of handwriting_share of captchas (all of them when required) as
  // one of the handwritten digits of its train split; its test split is never read. It draws
  // from a random stream of its own, so every captcha that does not use it keeps its pixels.
  // Empty: no handwriting family.
  std::filesystem::path handwriting_dir;
  double handwriting_share = 0.15;  // within 0..1
};

// Throws std::invalid_argument naming the option for sizes outside 16..2048 pixels, lengths
// outside 1..16 or min > max, shares outside 0..1, unknown family names, or a family both
// excluded and required.
void validate(const CaptchaOptions& options);

struct HandwrittenDigits;  // the train split of handwriting_dir, per digit

struct Captcha {
  cv::Mat image;                      // CV_8UC3, BGR
  std::string text;                   // the digits drawn, left to right
  std::vector<std::string> families;  // the families used, in captcha_families() order
};

class CaptchaGenerator {
 public:
  // Validates the options and finds the TrueType fonts. Without fonts (or without OpenCV's
  // freetype module) every font family falls back to Hershey faces, unless a TrueType family
  // is required: then it throws std::runtime_error saying what to install. Loads the
  // handwritten digits of handwriting_dir (std::runtime_error when the folder is missing or
  // corrupt); handwriting required without handwriting_dir is a std::invalid_argument.
  explicit CaptchaGenerator(CaptchaOptions options);

  // Captcha number `index` of this generator's seed. Thread-safe.
  Captcha generate(uint64_t index) const;
  // Captcha `index` with the given digits instead of random ones (1..16 digits).
  Captcha generate(uint64_t index, const std::string& digits) const;

  const CaptchaOptions& options() const { return options_; }
  // The TrueType font families with at least one usable file ("dejavu", ...).
  std::vector<std::string> font_families() const;
  size_t font_count() const { return fonts_.size(); }

  struct Font {
    std::string path;
    std::string family;
  };

 private:
  CaptchaOptions options_;
  std::vector<Font> fonts_;                    // usable, allowed TrueType files
  std::vector<std::string> allowed_fonts_;     // font families that may be picked
  std::vector<std::string> allowed_backgrounds_, allowed_inks_;
  std::vector<std::string> optional_;          // warps, noises, finishes that may be applied
  std::shared_ptr<const HandwrittenDigits> handwriting_;  // null without handwriting_dir
  bool handwriting_required_ = false;
};

// The folders (named as Debian's font packages name them under /usr/share/fonts) whose faces
// make up the "extra" font family: andika, comic-neue, dancingscript, hack, humor-sans,
// open-sans, urw-base35 (scripts/setup.sh installs them).
const std::vector<std::string>& extra_font_dirs();

// The folders (as Debian's font packages name them, at any depth under /usr/share/fonts) whose
// faces make up the "more" font family: anonymous-pro, breip, cabin, cantarell, comfortaa,
// dustin, fantasque-sans, femkeklaver, firacode, fonts-oldstandard, inconsolata, jetbrains-mono,
// kristi, lato, linux-libertine, oxygen, quicksand, roboto, tomsontalks, yanone-kaffeesatz.
const std::vector<std::string>& more_font_dirs();

// The TrueType and OpenType font files under `dir` with their family (dejavu, liberation,
// freefont, extra, more, ttf-other), sorted by path. Symbol, maths and dingbat faces, and faces
// that draw no digits (each digit their missing-glyph box), are left out.
std::vector<CaptchaGenerator::Font> find_captcha_fonts(const std::filesystem::path& dir);

// Whether the face in `font` draws its 1 with a foot: the ink of its lowest rows spans at
// least 1.7 times the stem's width at mid height (DejaVu Sans, Liberation Sans and Serif, Lato;
// not Roboto, Open Sans or Cantarell). False for a file FreeType cannot draw, and without the
// freetype module. Measured once per file.
bool one_has_foot(const std::string& font);

// True when OpenCV's freetype module was built in (TrueType fonts can be drawn).
bool captcha_freetype_available();

// Any image (grey, BGR, BGRA with transparency, 8 or 16 bit) as one grey CV_8UC1 image.
// Transparent pixels are laid over a background that contrasts with the opaque ones, so
// dark-on-transparent and light-on-transparent text both stay readable.
cv::Mat captcha_grey(const cv::Mat& image);

// A grey image resized to height x width as a float tensor [1,height,width] in 0..1, the
// input CaptchaNet expects.
torch::Tensor captcha_input(const cv::Mat& grey, int64_t height, int64_t width);

// Captchas tiled `columns` wide on a white sheet, each labelled with its text below: the
// picture of the generator's range in the README.
cv::Mat captcha_sheet(const std::vector<Captcha>& captchas, int columns);

}  // namespace digitnet
