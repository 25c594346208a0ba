#include "digitnet/vision/plot.h"

#include "digitnet/vision/captcha.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace digitnet::vision {
namespace {

const cv::Scalar kWhite(255, 255, 255), kGrid(225, 225, 225), kText(40, 40, 40);
const cv::Scalar kTrainLoss(200, 110, 30), kTestLoss(40, 140, 240), kAccuracy(60, 160, 60);

void write_png(const std::filesystem::path& file, const cv::Mat& img) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  const auto tmp = file.string() + ".tmp.png";
  if (!cv::imwrite(tmp, img)) throw std::runtime_error("cannot write " + file.string());
  std::filesystem::rename(tmp, file);
}

void label(cv::Mat& img, const std::string& text, cv::Point at, const cv::Scalar& color, double scale = 0.45) {
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, color, 1, cv::LINE_AA);
}

// One panel: series over epochs 1..n inside `area`, y from lo to hi.
void panel(cv::Mat& img, cv::Rect area, const std::vector<std::pair<std::vector<double>, cv::Scalar>>& series,
           double lo, double hi, const std::string& title, const char* tick_format) {
  cv::rectangle(img, area, kGrid, 1);
  for (int i = 0; i <= 4; ++i) {
    const int y = area.y + area.height * i / 4;
    cv::line(img, {area.x, y}, {area.x + area.width, y}, kGrid, 1);
    char buf[32];
    std::snprintf(buf, sizeof buf, tick_format, hi - (hi - lo) * i / 4.0);
    label(img, buf, {area.x - 58, y + 4}, kText, 0.38);
  }
  label(img, title, {area.x, area.y - 8}, kText, 0.5);
  for (const auto& [values, color] : series) {
    const size_t n = values.size();
    std::vector<cv::Point> pts;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(values[i])) continue;
      const double fx = n == 1 ? 0.5 : double(i) / double(n - 1);
      const double fy = (std::clamp(values[i], lo, hi) - lo) / (hi - lo > 0 ? hi - lo : 1);
      pts.emplace_back(area.x + int(fx * area.width), area.y + area.height - int(fy * area.height));
    }
    if (pts.size() > 1) cv::polylines(img, pts, false, color, 2, cv::LINE_AA);
    for (const auto& p : pts) cv::circle(img, p, 3, color, cv::FILLED, cv::LINE_AA);
  }
}

}  // namespace

void write_training_curves(const std::filesystem::path& file, const std::vector<EpochStats>& history) {
  const int w = 900, h = 380;
  cv::Mat img(h, w, CV_8UC3, kWhite);
  std::vector<double> train_loss, test_loss, accuracy;
  for (const auto& e : history) {
    train_loss.push_back(e.train_loss);
    const auto l = e.eval.find("loss");
    test_loss.push_back(l == e.eval.end() ? std::nan("") : l->second);
    const auto a = e.eval.find("accuracy");
    accuracy.push_back(a == e.eval.end() ? std::nan("") : 100.0 * a->second);
  }
  double loss_hi = 0.0;
  for (const double v : train_loss) loss_hi = std::max(loss_hi, v);
  for (const double v : test_loss)
    if (std::isfinite(v)) loss_hi = std::max(loss_hi, v);
  double acc_lo = 100.0;
  for (const double v : accuracy)
    if (std::isfinite(v)) acc_lo = std::min(acc_lo, v);
  acc_lo = std::max(0.0, std::floor(acc_lo - 0.5));
  const cv::Rect left(70, 40, 350, 280), right(520, 40, 350, 280);
  panel(img, left, {{train_loss, kTrainLoss}, {test_loss, kTestLoss}}, 0.0, loss_hi > 0 ? loss_hi * 1.05 : 1.0,
        "loss (blue: train, orange: test)", "%.3f");
  panel(img, right, {{accuracy, kAccuracy}}, acc_lo, 100.0, "test accuracy %", "%.1f");
  char buf[96];
  std::snprintf(buf, sizeof buf, "epoch 1..%zu", history.size());
  label(img, buf, {left.x + left.width / 2 - 40, h - 30}, kText);
  label(img, buf, {right.x + right.width / 2 - 40, h - 30}, kText);
  if (!accuracy.empty() && std::isfinite(accuracy.back())) {
    std::snprintf(buf, sizeof buf, "final %.2f%%", accuracy.back());
    label(img, buf, {right.x + right.width - 110, right.y + right.height - 10}, kAccuracy, 0.5);
  }
  write_png(file, img);
}

void write_mistake_grid(const std::filesystem::path& file, const std::vector<Mistake>& mistakes, int columns) {
  const int cell = 84, caption = 18, scale = 3;
  const int n = static_cast<int>(mistakes.size());
  const int cols = std::max(1, std::min(columns, std::max(n, 1)));
  const int rows = std::max(1, (n + cols - 1) / cols);
  cv::Mat img(rows * (cell + caption), cols * cell, CV_8UC3, kWhite);
  for (int i = 0; i < n; ++i) {
    const auto& m = mistakes[static_cast<size_t>(i)];
    auto t = m.image.to(torch::kCPU);
    if (t.scalar_type() != torch::kByte) t = (t.clamp(0, 1) * 255).round().to(torch::kByte);
    t = t.reshape({t.size(-2), t.size(-1)}).contiguous();
    cv::Mat digit(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr<uint8_t>());
    cv::Mat big, inverted, colour;
    cv::resize(digit, big, {int(t.size(1)) * scale, int(t.size(0)) * scale}, 0, 0, cv::INTER_NEAREST);
    cv::bitwise_not(big, inverted);  // dark ink on white reads better
    cv::cvtColor(inverted, colour, cv::COLOR_GRAY2BGR);
    const int x = (i % cols) * cell, y = (i / cols) * (cell + caption);
    colour.copyTo(img(cv::Rect(x, y, colour.cols, colour.rows)));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld->%lld %.0f%%", static_cast<long long>(m.truth),
                  static_cast<long long>(m.predicted), 100.0 * m.confidence);
    label(img, buf, {x + 2, y + cell + caption - 5}, cv::Scalar(30, 30, 200), 0.42);
  }
  write_png(file, img);
}

void write_captcha_mistake_grid(const std::filesystem::path& file, const std::vector<CaptchaMistake>& mistakes,
                                int columns) {
  if (mistakes.empty()) throw std::invalid_argument("write_captcha_mistake_grid: no mistakes to draw");
  std::vector<Captcha> cells;
  for (const auto& m : mistakes) {
    cv::Mat grey = captcha_grey(m.image), scaled, colour;
    const double f = std::min(60.0 / grey.rows, 240.0 / grey.cols);
    cv::resize(grey, scaled, cv::Size(std::max(1, int(grey.cols * f)), std::max(1, int(grey.rows * f))), 0, 0,
               f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::cvtColor(scaled, colour, cv::COLOR_GRAY2BGR);
    char conf[16];
    std::snprintf(conf, sizeof conf, " %.0f%%", 100.0 * m.confidence);
    cells.push_back({colour, m.truth + " -> " + (m.read.empty() ? "(none)" : m.read) + conf, {}});
  }
  write_png(file, captcha_sheet(cells, std::max(1, std::min(columns, int(cells.size())))));
}

}  // namespace digitnet::vision
