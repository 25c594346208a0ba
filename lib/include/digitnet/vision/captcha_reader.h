#pragma once
// Reading captchas with a trained CaptchaNet: whole images, no segmentation, batched; files
// and folders with one clear error per bad file; scoring a labelled folder.

#include "digitnet/json.h"
#include "digitnet/models.h"

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace digitnet {

// Allowed number of digits: "6" -> 6..6, "4-6" -> 4..6; "" or "any" -> unconstrained (0, -1);
// "auto" -> unconstrained per image, and a folder's readings settle on the lengths its confident
// readings share (settle_captcha_lengths).
struct CaptchaLength {
  int min = 0;
  int max = -1;
  bool automatic = false;
  bool constrained() const { return min > 0 || max >= 0; }
};
// Throws std::invalid_argument naming `flag` for anything but N, MIN-MAX within 1..16, any or auto.
CaptchaLength parse_captcha_length(const std::string& text, const std::string& flag = "--length");
// "5", "4-6" or "any".
std::string to_string(const CaptchaLength& length);

struct CaptchaReaderOptions {
  CaptchaLength length;         // constrained decoding when set; `automatic` acts on folders
  double retry_below = 0.5;     // `retry` is set when the confidence is below this
  int64_t batch_size = 64;      // model inputs per forward pass (each captcha gives `views`)
  // Views of each captcha read (captcha_views, 1..3); the most confident reading wins.
  int views = 3;
};

// The views of a grey captcha that CaptchaReader reads, in order: the image itself; its dark
// strokes a pixel bolder (a 2x2 minimum filter: dark ink on light grows, light ink thins); and
// its light strokes a pixel bolder (a 2x2 maximum filter). Real generators draw anything from
// hairlines to bold strokes; one of the three is usually nearest to what the model was trained
// on, and reads with the highest confidence. Throws std::invalid_argument for `views` outside 1..3.
std::vector<cv::Mat> captcha_views(const cv::Mat& grey, int views);

struct CaptchaReading {
  std::string text;
  double confidence = 0.0;               // product of the per-character confidences
  std::vector<double> char_confidences;  // one per digit
  bool retry = false;                    // confidence below the threshold: ask for a new captcha
};

class CaptchaReader {
 public:
  // Loads a "captcha" checkpoint onto `device`. Throws std::runtime_error naming the file.
  CaptchaReader(const std::filesystem::path& checkpoint, const torch::Device& device,
                CaptchaReaderOptions options = {});
  // Reads with a model in memory (moved to `device` and put in eval mode).
  CaptchaReader(CaptchaNet net, const torch::Device& device, CaptchaReaderOptions options = {});

  // Any image: grey, BGR or BGRA (transparency is laid over a contrasting background).
  CaptchaReading read(const cv::Mat& image);
  // Many at once, batch_size per forward pass; the same order as `images`.
  std::vector<CaptchaReading> read(const std::vector<cv::Mat>& images);

  CaptchaReaderOptions& options() { return options_; }
  const CaptchaNetOptions& model_options() const { return net_->options(); }

 private:
  CaptchaNet net_{nullptr};
  torch::Device device_;
  CaptchaReaderOptions options_;
};

// The largest image side read (pixels); larger files are refused before decoding.
constexpr int kMaxCaptchaSide = 8192;

// An image file as a cv::Mat (grey, BGR or BGRA as stored): PNG (transparency kept), JPEG,
// BMP, TIFF, WebP, PNM and GIF (the first frame, through digitnet's own decoder, with its
// transparent colour). Throws std::runtime_error naming the file for an empty, truncated,
// corrupt, too small (under 8x8), too large (over kMaxCaptchaSide) or non-image file.
cv::Mat read_captcha_image(const std::filesystem::path& file);

// Decodes the first frame of a GIF held in memory as BGRA. Throws std::runtime_error starting
// with `name` for a truncated or malformed file.
cv::Mat decode_gif(const std::vector<unsigned char>& bytes, const std::string& name);

// The image files of a folder (by extension: png, jpg, jpeg, gif, bmp, tif, tiff, webp, pgm,
// ppm, pnm), sorted by name; a file is returned as itself. Throws std::runtime_error when the
// path does not exist.
std::vector<std::filesystem::path> captcha_image_files(const std::filesystem::path& file_or_dir);

struct CaptchaFileResult {
  std::filesystem::path file;
  bool ok = false;
  CaptchaReading reading;  // when ok
  std::string error;       // one line, naming the file, when not ok
};
// Captchas from one source usually share their length (a site's generator draws 5 digits).
// The length that at least 75% of the confident readings (those not marked `retry`) have;
// unconstrained when no length is that common (mixed lengths) or fewer than 20 readings are
// confident.
CaptchaLength common_captcha_length(const std::vector<CaptchaReading>& readings);

// With the reader's length set to auto: finds common_captcha_length of `readings` and reads again,
// constrained to it, the images whose reading falls outside it (`load(i)` gives image i again).
// Returns the length settled on (unconstrained: nothing was read again) and how many were.
struct SettledLength {
  CaptchaLength length;
  int64_t reread = 0;
};
SettledLength settle_captcha_lengths(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                     const std::function<cv::Mat(size_t)>& load);

// Reads FILE or every image of DIR in batches; a bad file gives its error and the rest are
// still read. With the reader's length set to auto, a folder's readings are settled
// (settle_captcha_lengths) and `settled`, when given, says how.
std::vector<CaptchaFileResult> read_captcha_files(CaptchaReader& reader, const std::filesystem::path& file_or_dir,
                                                  SettledLength* settled = nullptr);

// One JSON object per file for `digitnet-read --captcha --json`:
// {"file", "text", "confidence", "char_confidences", "retry"} or {"file", "error"}.
Json captcha_result_json(const CaptchaFileResult& result);

struct LabelledCaptcha {
  std::filesystem::path file;
  std::string digits;
};
// The labelled captchas of a folder: from its labels.csv ("file,digits" rows, a header row
// allowed) when present, else from names "<anything>_<digits>.<ext>". Throws
// std::runtime_error naming the folder and the first offending file or row when a label is
// not all digits or a name does not follow either format.
std::vector<LabelledCaptcha> list_labelled_captchas(const std::filesystem::path& dir);

struct CaptchaEvalResult {
  int64_t total = 0;         // labelled captchas found
  int64_t read = 0;          // of them, read without a file error
  int64_t correct = 0;       // whole string right
  int64_t wrong_length = 0;  // read with another number of digits
  int64_t chars = 0, chars_correct = 0;
  double seconds = 0.0;  // loading, reading and scoring
  SettledLength settled;  // with the reader's length set to auto
  std::vector<std::string> errors;  // one line per bad file
  struct Mistake {
    std::filesystem::path file;
    std::string truth, read;
    double confidence;
  };
  std::vector<Mistake> mistakes;
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
  double char_accuracy() const { return chars ? double(chars_correct) / double(chars) : 0.0; }
  double captchas_per_s() const { return seconds > 0 ? double(total) / seconds : 0.0; }
};
// Reads every labelled captcha of `dir` (settling the lengths when the reader's length is auto)
// and scores it; files that cannot be read count as wrong and are listed in `errors`.
CaptchaEvalResult evaluate_captcha_folder(CaptchaReader& reader, const std::filesystem::path& dir);

// Characters of `truth` matched by `predicted`: len(truth) - edit distance, at least 0.
int64_t captcha_char_matches(const std::string& predicted, const std::string& truth);

}  // namespace digitnet
