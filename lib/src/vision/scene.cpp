#include "digitnet/vision/scene.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace digitnet::vision {
namespace {

constexpr double kPi = 3.14159265358979323846;

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
int uniform_int(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0.0, 1.0) < p; }

// The ink of an MNIST digit cropped to its bounding box (CV_8U, white on black).
cv::Mat ink_crop(const cv::Mat& digit) {
  cv::Mat mask = digit > 20;
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty()) return digit;
  return digit(box);
}

// A sheet: the paper as drawn (frame-sized, BGR float 0..255), the numbers in paper coordinates.
struct Sheet {
  cv::Mat paper;
  std::vector<TruthNumber> numbers;
  std::vector<std::vector<cv::Point2f>> corners;  // 4 corners per number
  cv::Scalar desk;
};

Sheet draw_sheet(const DigitBank& bank, const SceneOptions& o, std::mt19937_64& rng) {
  if (bank.size() == 0) throw std::invalid_argument("make_scene: the digit bank is empty");
  Sheet s;
  const double base = uniform(rng, 215, 250);
  const cv::Scalar paper_colour(base - uniform(rng, 0, 18), base - uniform(rng, 0, 8), base);
  s.paper = cv::Mat(o.height, o.width, CV_32FC3, paper_colour);
  const double d = uniform(rng, 50, 140);
  s.desk = cv::Scalar(d * uniform(rng, 0.6, 0.9), d * uniform(rng, 0.8, 1.0), d);
  // Pen: black, blue or pencil grey.
  const int pen = uniform_int(rng, 0, 2);
  const cv::Scalar ink = pen == 0   ? cv::Scalar(35, 30, 30)
                         : pen == 1 ? cv::Scalar(120, 45, 25)
                                    : cv::Scalar(85, 85, 90);
  const double ink_strength = pen == 2 ? uniform(rng, 0.7, 0.9) : uniform(rng, 0.85, 1.0);

  // Layout in units of the digit height.
  struct Glyph {
    int index;
    double x, y_jitter, scale, aspect;
  };
  struct Number {
    std::vector<Glyph> glyphs;
    double x0 = 0, width = 0;
    std::string text;
  };
  const int lines = uniform_int(rng, o.min_lines, o.max_lines);
  std::vector<std::vector<Number>> layout(static_cast<size_t>(lines));
  std::uniform_int_distribution<size_t> pick(0, bank.size() - 1);
  double widest = 0;
  for (auto& line : layout) {
    const int numbers = uniform_int(rng, 1, std::max(1, o.max_numbers_per_line));
    double x = 0;
    for (int k = 0; k < numbers; ++k) {
      Number num;
      num.x0 = x;
      const int digits = uniform_int(rng, o.min_digits, o.max_digits);
      double nx = 0;
      for (int i = 0; i < digits; ++i) {
        Glyph g;
        g.index = static_cast<int>(pick(rng));
        g.scale = uniform(rng, 0.85, 1.05);
        g.aspect = uniform(rng, 0.9, 1.1);
        g.y_jitter = uniform(rng, -0.06, 0.06);
        const cv::Mat crop = ink_crop(bank.images[static_cast<size_t>(g.index)]);
        const double w = g.scale * g.aspect * crop.cols / std::max(1, crop.rows);
        if (i > 0) nx += (o.allow_touching && chance(rng, 0.04)) ? -0.04 : uniform(rng, 0.08, 0.3);
        g.x = nx;
        nx += w;
        num.glyphs.push_back(g);
        num.text += char('0' + bank.labels[static_cast<size_t>(g.index)]);
      }
      num.width = nx;
      x += nx + uniform(rng, 1.4, 2.2);
      line.push_back(num);
    }
    widest = std::max(widest, x - 1.8);
  }
  const double line_pitch = uniform(rng, 1.6, 2.1);
  double h = uniform(rng, o.min_digit_height, o.max_digit_height) * o.height;
  h = std::min({h, 0.8 * o.width / std::max(widest, 1.0), 0.8 * o.height / (lines * line_pitch)});
  const double block_h = h * (1 + (lines - 1) * line_pitch);
  const double top = uniform(rng, 0.1 * o.height, std::max(0.1 * o.height, o.height - block_h - 0.1 * o.height));

  for (int li = 0; li < lines; ++li) {
    const auto& line = layout[static_cast<size_t>(li)];
    double line_w = 0;
    for (const auto& num : line) line_w = std::max(line_w, num.x0 + num.width);
    const double left = uniform(rng, 0.1 * o.width, std::max(0.1 * o.width, 0.9 * o.width - line_w * h));
    const double base_y = top + li * line_pitch * h + h;  // baseline
    for (const auto& num : line) {
      TruthNumber truth;
      truth.text = num.text;
      truth.line = li;
      cv::Rect box;
      for (const auto& g : num.glyphs) {
        const cv::Mat crop = ink_crop(bank.images[static_cast<size_t>(g.index)]);
        const int gh = std::max(4, int(std::lround(g.scale * h)));
        const int gw = std::max(2, int(std::lround(g.scale * g.aspect * h * crop.cols / std::max(1, crop.rows))));
        cv::Mat alpha;
        cv::resize(crop, alpha, cv::Size(gw, gh), 0, 0, cv::INTER_CUBIC);
        alpha.convertTo(alpha, CV_32F, ink_strength / 255.0);
        cv::max(alpha, 0.0, alpha);
        cv::min(alpha, 1.0, alpha);
        const int x = int(std::lround(left + (num.x0 + g.x) * h));
        const int y = int(std::lround(base_y - gh + g.y_jitter * h));
        const cv::Rect r = cv::Rect(x, y, gw, gh) & cv::Rect(0, 0, o.width, o.height);
        if (r.empty()) continue;
        const cv::Mat a = alpha(cv::Rect(r.x - x, r.y - y, r.width, r.height));
        cv::Mat roi = s.paper(r);
        for (int yy = 0; yy < r.height; ++yy) {
          const float* ap = a.ptr<float>(yy);
          cv::Vec3f* pp = roi.ptr<cv::Vec3f>(yy);
          for (int xx = 0; xx < r.width; ++xx) {
            const float al = ap[xx];
            for (int c = 0; c < 3; ++c) pp[xx][c] = pp[xx][c] * (1 - al) + float(ink[c]) * al;
          }
        }
        box = box.empty() ? r : (box | r);
      }
      truth.box = box;
      s.corners.push_back({cv::Point2f(float(box.x), float(box.y)), cv::Point2f(float(box.br().x), float(box.y)),
                           cv::Point2f(float(box.br().x), float(box.br().y)), cv::Point2f(float(box.x), float(box.br().y))});
      s.numbers.push_back(truth);
    }
  }
  return s;
}

// A homography that shows the sheet under perspective, slightly rotated and scaled.
cv::Mat random_view(const SceneOptions& o, std::mt19937_64& rng) {
  const float w = float(o.width), h = float(o.height);
  const double angle = uniform(rng, -o.max_rotation_deg, o.max_rotation_deg) * kPi / 180.0;
  const double scale = uniform(rng, 0.88, 1.0);
  const cv::Point2f c(w / 2, h / 2);
  std::vector<cv::Point2f> src = {{0, 0}, {w, 0}, {w, h}, {0, h}}, dst;
  for (const auto& p : src) {
    const double dx = (p.x - c.x) * scale, dy = (p.y - c.y) * scale;
    const double rx = dx * std::cos(angle) - dy * std::sin(angle), ry = dx * std::sin(angle) + dy * std::cos(angle);
    dst.emplace_back(float(c.x + rx + uniform(rng, -o.perspective, o.perspective) * w),
                     float(c.y + ry + uniform(rng, -o.perspective, o.perspective) * h));
  }
  return cv::getPerspectiveTransform(src, dst);
}

struct Camera {
  double light_dir, light_depth, vignette, blur, noise;
  int jpeg;
};

Camera random_camera(const SceneOptions& o, std::mt19937_64& rng) {
  Camera c;
  c.light_dir = uniform(rng, 0, 2 * kPi);
  c.light_depth = uniform(rng, 0.3, 1.0) * o.light;
  c.vignette = uniform(rng, 0.0, 0.25);
  c.blur = uniform(rng, 0.3, std::max(0.31, o.max_blur_sigma));
  c.noise = uniform(rng, 0.4, 1.0) * o.noise_sigma;
  c.jpeg = o.min_jpeg_quality > 0 ? uniform_int(rng, o.min_jpeg_quality, 95) : 0;
  return c;
}

Scene photograph(const Sheet& s, const cv::Mat& view, const Camera& cam, const SceneOptions& o,
                 std::mt19937_64& rng) {
  cv::Mat frame(o.height, o.width, CV_32FC3, s.desk);
  cv::warpPerspective(s.paper, frame, view, frame.size(), cv::INTER_LINEAR, cv::BORDER_TRANSPARENT);
  // Uneven light: a linear gradient in a random direction and a vignette.
  cv::Mat light(o.height, o.width, CV_32F);
  const double dx = std::cos(cam.light_dir), dy = std::sin(cam.light_dir);
  const double diag = std::hypot(o.width, o.height) / 2;
  for (int y = 0; y < o.height; ++y) {
    float* lp = light.ptr<float>(y);
    for (int x = 0; x < o.width; ++x) {
      const double px = x - o.width / 2.0, py = y - o.height / 2.0;
      const double g = 0.5 + 0.5 * (px * dx + py * dy) / diag;  // 0..1
      const double r2 = (px * px + py * py) / (diag * diag);
      lp[x] = float(1.0 - cam.light_depth * g - cam.vignette * r2);
    }
  }
  cv::Mat light3;
  cv::merge(std::vector<cv::Mat>{light, light, light}, light3);
  cv::multiply(frame, light3, frame);
  if (cam.blur > 0.35) cv::GaussianBlur(frame, frame, cv::Size(0, 0), cam.blur);
  cv::Mat noise(frame.size(), frame.type());
  cv::randn(noise, 0.0, cam.noise * 1.0);
  (void)rng;
  frame += noise;
  Scene scene;
  frame.convertTo(scene.image, CV_8UC3);
  if (cam.jpeg > 0) {
    std::vector<uint8_t> buf;
    cv::imencode(".jpg", scene.image, buf, {cv::IMWRITE_JPEG_QUALITY, cam.jpeg});
    scene.image = cv::imdecode(buf, cv::IMREAD_COLOR);
  }
  const cv::Rect whole(0, 0, o.width, o.height);
  for (size_t i = 0; i < s.numbers.size(); ++i) {
    std::vector<cv::Point2f> out;
    cv::perspectiveTransform(s.corners[i], out, view);
    TruthNumber t = s.numbers[i];
    t.box = cv::boundingRect(out) & whole;
    scene.numbers.push_back(t);
  }
  return scene;
}

}  // namespace

std::string Scene::text() const {
  std::string s;
  for (const auto& n : numbers) s += (s.empty() ? "" : " ") + n.text;
  return s;
}

DigitBank load_digit_grid(const std::filesystem::path& file) {
  const cv::Mat grid = cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
  if (grid.empty()) throw std::runtime_error("cannot read digit grid " + file.string());
  if (grid.rows != 10 * 28 || grid.cols % 28 != 0)
    throw std::runtime_error("digit grid " + file.string() + " must be 280 px high and a multiple of 28 wide");
  DigitBank bank;
  for (int label = 0; label < 10; ++label)
    for (int x = 0; x < grid.cols; x += 28) {
      const cv::Mat cell = grid(cv::Rect(x, label * 28, 28, 28));
      if (cv::countNonZero(cell > 40) < 10) continue;
      bank.images.push_back(cell.clone());
      bank.labels.push_back(label);
    }
  return bank;
}

void save_digit_grid(const std::filesystem::path& file, const DigitBank& bank, int per_class) {
  cv::Mat grid = cv::Mat::zeros(280, 28 * per_class, CV_8U);
  std::vector<int> used(10, 0);
  for (size_t i = 0; i < bank.size(); ++i) {
    const int l = bank.labels[i];
    if (l < 0 || l > 9 || used[static_cast<size_t>(l)] >= per_class) continue;
    bank.images[i].copyTo(grid(cv::Rect(28 * used[static_cast<size_t>(l)]++, 28 * l, 28, 28)));
  }
  if (!cv::imwrite(file.string(), grid)) throw std::runtime_error("cannot write " + file.string());
}

Scene make_scene(const DigitBank& bank, const SceneOptions& options, uint64_t seed) {
  std::mt19937_64 rng(seed);
  cv::setRNGSeed(static_cast<int>(seed & 0x7fffffff));
  const Sheet sheet = draw_sheet(bank, options, rng);
  const cv::Mat view = random_view(options, rng);
  return photograph(sheet, view, random_camera(options, rng), options, rng);
}

std::vector<Scene> make_video(const DigitBank& bank, const SceneOptions& options, int frames, uint64_t seed) {
  std::mt19937_64 rng(seed);
  cv::setRNGSeed(static_cast<int>(seed & 0x7fffffff));
  const Sheet sheet = draw_sheet(bank, options, rng);
  const cv::Mat view = random_view(options, rng);
  const Camera cam = random_camera(options, rng);
  const double amp_x = uniform(rng, 5, 20), amp_y = uniform(rng, 3, 12), period = uniform(rng, 40, 90);
  std::vector<Scene> out;
  out.reserve(static_cast<size_t>(std::max(0, frames)));
  for (int t = 0; t < frames; ++t) {
    const double phase = 2 * kPi * t / period;
    cv::Mat shift = (cv::Mat_<double>(3, 3) << 1, 0, amp_x * std::sin(phase) + uniform(rng, -1.5, 1.5), 0, 1,
                     amp_y * std::sin(0.7 * phase) + uniform(rng, -1.5, 1.5), 0, 0, 1);
    out.push_back(photograph(sheet, shift * view, cam, options, rng));
  }
  return out;
}

void write_video(const std::filesystem::path& file, const std::vector<Scene>& frames, double fps) {
  if (frames.empty()) throw std::invalid_argument("write_video: no frames");
  cv::VideoWriter writer(file.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, frames[0].image.size());
  if (!writer.isOpened()) throw std::runtime_error("cannot write video " + file.string());
  for (const auto& f : frames) writer.write(f.image);
}

cv::Mat degrade_digit(const cv::Mat& digit, std::mt19937_64& rng, const cv::Mat* neighbour) {
  const cv::Mat crop = ink_crop(digit);
  const int h = uniform_int(rng, 22, 80);
  const int w = std::max(2, int(std::lround(h * uniform(rng, 0.85, 1.15) * crop.cols / std::max(1, crop.rows))));
  cv::Mat alpha;
  cv::resize(crop, alpha, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  // Stroke width: thinner or thicker pens.
  const int step = std::max(1, h / 28);
  const int k = uniform_int(rng, -1, 2);
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * step + 1, 2 * step + 1));
  if (k > 0) cv::dilate(alpha, alpha, kernel, cv::Point(-1, -1), k);
  if (k < 0) {
    cv::Mat thin;
    cv::erode(alpha, thin, kernel);
    double mx = 0;
    cv::minMaxLoc(thin, nullptr, &mx);
    if (mx > 120 && cv::countNonZero(thin > 100) > h) alpha = thin;
  }
  // Crop offsets: independent margins, now and then cutting a little into the digit.
  const auto margin = [&](int size) {
    return chance(rng, 0.08) ? -int(size * uniform(rng, 0.0, 0.08)) : int(size * uniform(rng, 0.04, 0.35));
  };
  const int ml = margin(h), mr = margin(h), mt = margin(h), mb = margin(h);
  const int cw = std::max(4, w + ml + mr), ch = std::max(4, h + mt + mb);
  cv::Mat a = cv::Mat::zeros(ch, cw, CV_8U);
  const auto paste = [&](const cv::Mat& src, int x, int y) {
    const cv::Rect dst = cv::Rect(x, y, src.cols, src.rows) & cv::Rect(0, 0, cw, ch);
    if (dst.empty()) return;
    cv::Mat roi = a(dst);
    cv::max(roi, src(cv::Rect(dst.x - x, dst.y - y, dst.width, dst.height)), roi);
  };
  paste(alpha, ml, mt);
  if (neighbour && chance(rng, 0.3)) {
    cv::Mat nb;
    const cv::Mat nc = ink_crop(*neighbour);
    cv::resize(nc, nb, cv::Size(std::max(2, h * nc.cols / std::max(1, nc.rows)), h), 0, 0, cv::INTER_CUBIC);
    const int gap = int(h * uniform(rng, 0.05, 0.3));
    if (chance(rng, 0.5))
      paste(nb, ml - gap - nb.cols, mt);
    else
      paste(nb, ml + w + gap, mt);
  }
  // Slight rotation and shear.
  const double angle = uniform(rng, -10, 10), shear = uniform(rng, -0.15, 0.15);
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(cw / 2.0f, ch / 2.0f), angle, 1.0);
  m.at<double>(0, 1) += shear;
  m.at<double>(0, 2) -= shear * ch / 2.0;
  cv::warpAffine(a, a, m, a.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);

  // Ink on paper with a random contrast and light gradient.
  const double paper = uniform(rng, 120, 250);
  const double ink = uniform(rng, 0, std::max(0.0, paper - 45));
  cv::Mat af;
  a.convertTo(af, CV_32F, 1.0 / 255.0);
  cv::Mat img = paper - af * (paper - ink);
  const double gx = uniform(rng, -0.3, 0.3) / cw, gy = uniform(rng, -0.3, 0.3) / ch;
  for (int y = 0; y < ch; ++y) {
    float* p = img.ptr<float>(y);
    for (int x = 0; x < cw; ++x) p[x] *= float(1.0 + gx * (x - cw / 2.0) + gy * (y - ch / 2.0));
  }
  const double sigma = uniform(rng, 0.0, 1.6) * h / 40.0;
  if (sigma > 0.3) cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
  cv::Mat noise(img.size(), CV_32F);
  cv::randn(noise, 0.0, uniform(rng, 0.0, 12.0));
  img += noise;
  cv::Mat out;
  img.convertTo(out, CV_8U);
  if (chance(rng, 0.4)) {
    std::vector<uint8_t> buf;
    cv::imencode(".jpg", out, buf, {cv::IMWRITE_JPEG_QUALITY, uniform_int(rng, 40, 95)});
    out = cv::imdecode(buf, cv::IMREAD_GRAYSCALE);
  }
  if (chance(rng, 0.1)) cv::bitwise_not(out, out);  // chalk on a board, light ink on dark
  return out;
}

}  // namespace digitnet::vision
