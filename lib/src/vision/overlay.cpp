#include "digitnet/vision/overlay.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

namespace digitnet::vision {
namespace {

const cv::Scalar kGreen(60, 200, 60), kOrange(0, 140, 255), kWhite(255, 255, 255), kBlack(0, 0, 0);

// Text on a filled label so it stays readable on any background.
void label(cv::Mat& frame, const std::string& text, cv::Point at, double scale, const cv::Scalar& colour) {
  int base = 0;
  const int thickness = std::max(1, int(scale * 2));
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &base);
  at.x = std::clamp(at.x, 0, std::max(0, frame.cols - size.width - 4));
  at.y = std::clamp(at.y, size.height + 4, std::max(size.height + 4, frame.rows - base));
  cv::rectangle(frame, cv::Point(at.x, at.y - size.height - 4), cv::Point(at.x + size.width + 4, at.y + base),
                colour, cv::FILLED);
  cv::putText(frame, text, cv::Point(at.x + 2, at.y - 2), cv::FONT_HERSHEY_SIMPLEX, scale, kBlack, thickness,
              cv::LINE_AA);
}

}  // namespace

void draw_readings(cv::Mat& frame, const std::vector<ReadString>& strings, const OverlayOptions& options) {
  if (frame.channels() == 1) cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
  const double scale = std::clamp(frame.rows / 900.0, 0.45, 2.0);
  for (const auto& s : strings) {
    const bool unsure = s.text.find('?') != std::string::npos;
    const cv::Scalar colour = unsure ? kOrange : kGreen;
    if (options.digit_boxes)
      for (const auto& d : s.digits)
        cv::rectangle(frame, d.box, d.digit >= 0 ? cv::Scalar(200, 160, 60) : kOrange, 1, cv::LINE_AA);
    cv::rectangle(frame, s.box, colour, std::max(1, int(scale * 3)), cv::LINE_AA);
    std::string text = s.text;
    if (options.confidences) {
      char buf[16];
      std::snprintf(buf, sizeof buf, " %.0f%%", 100.0 * s.confidence);
      text += buf;
    }
    label(frame, text, cv::Point(s.box.x, s.box.y - 4), scale * 1.2, colour);
  }
}

void draw_fps(cv::Mat& frame, double fps, const std::string& extra) {
  if (frame.channels() == 1) cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f fps", fps);
  std::string text = buf;
  if (!extra.empty()) text += "  " + extra;
  label(frame, text, cv::Point(6, 28), std::clamp(frame.rows / 800.0, 0.5, 1.5), kWhite);
}

}  // namespace digitnet::vision
