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
// `--balance-1-7`: "auto" -> true (folders balance their 1s and 7s), "off" -> false. Throws
// std::invalid_argument naming `flag` for anything else.
bool parse_one_seven_balance(const std::string& text, const std::string& flag = "--balance-1-7");
// `--retry-below`: a confidence from 0 (never retry) to 1 (retry all but certain readings).
// Throws std::invalid_argument naming `flag` for anything outside, NaN included.
double check_retry_below(double value, const std::string& flag = "--retry-below");

struct CaptchaReaderOptions {
  CaptchaLength length;         // constrained decoding when set; `automatic` acts on folders
  // `retry` is set when the confidence is below this; readings marked so are not "confident"
  // for settling a folder's length or balancing its 1s and 7s.
  double retry_below = 0.5;
  int64_t batch_size = 64;      // model inputs per forward pass (each captcha gives `views`)
  // Views of each captcha read (captcha_views, 1..3); the most confident reading wins.
  int views = 3;
  // Log-odds of the 1 against the 7 added to every frame before decoding (half to the 1, half
  // taken from the 7, renormalised): 0 reads as the model does. balance_captcha_ones_sevens
  // finds one for a folder.
  double one_seven_bias = 0.0;
  // Folders (read_captcha_files, evaluate_captcha_folder) balance their 1s and 7s.
  bool balance_ones_sevens = true;
  // Folders refit the model's output layer to their own sure readings and are read again with
  // it (settle_captcha_folder); the checkpoint and the reader's own weights are left as they were.
  bool adapt_output = true;
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
  // Many at once, batch_size per forward pass; the same order as `images`. With
  // `view_log_probs`, each captcha's log-probabilities are appended to it as well ([T,views,11],
  // on the CPU), so that decode() can read it again under other options without the model.
  // With `view_features`, each captcha's features (CaptchaNet::features, [T,views,2*hidden], on
  // the CPU) are appended too, for head() and fit_output().
  std::vector<CaptchaReading> read(const std::vector<cv::Mat>& images,
                                   std::vector<torch::Tensor>* view_log_probs = nullptr,
                                   std::vector<torch::Tensor>* view_features = nullptr);
  // Readings of log-probabilities that read() gave, under the options as they are now (length,
  // one_seven_bias, retry_below; the views are those read).
  std::vector<CaptchaReading> decode(const std::vector<torch::Tensor>& view_log_probs) const;

  // The log-probabilities that read() would keep for features it kept, under the output layer
  // as it is now.
  std::vector<torch::Tensor> head(const std::vector<torch::Tensor>& view_features);
  // Trains the output layer alone, from the weights it has now, on the features of captchas
  // (each [T,views,2*hidden] from read()) and their texts, by CTC, in kAdaptSteps full-batch
  // steps of Adam. Each captcha's text is learned from the views that give it a probability of
  // at least 1/2 now (kAdaptViewMaxLoss), and from its most probable view when none does: a view
  // that a generator's strokes make illegible would teach the layer to see the text in noise.
  // The rest of the model is untouched.
  void fit_output(const std::vector<torch::Tensor>& view_features, const std::vector<std::string>& texts);
  // Puts back the output layer the reader was made with.
  void restore_output();

  CaptchaReaderOptions& options() { return options_; }
  const torch::Device& device() const { return device_; }
  const CaptchaNetOptions& model_options() const { return net_->options(); }

 private:
  void prepare();  // to the device, eval mode, the trained output layer kept
  // log_probs [T, N*views, 11]: the views of N captchas, in order.
  std::vector<CaptchaReading> decode_views(torch::Tensor log_probs, int views) const;

  CaptchaNet net_{nullptr};
  torch::Device device_;
  CaptchaReaderOptions options_;
  torch::Tensor trained_weight_, trained_bias_;  // the output layer as loaded
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

// A site draws its 1s and 7s equally often (some draw their 0s and 9s less often, or none) and
// in one face, so a model that takes that face's 1s for 7s (or its 7s for 1s) leaves too few of
// one and too many of the other in a folder's readings. With n1 1s and n7 7s in the confident
// readings, n1 - n7 spreads by about sqrt(n1 + n7) when both are equally common. Beyond that
// spread, the folder is decoded again with the one_seven_bias that brings n1 - n7 back to the
// spread's edge, no further (at most kMaxOneSevenBias). Folders where the two are rarer together
// than 1.5 times the median count of the other digits, or fewer than 40, are left alone: that
// site leaves one of them out.
// `log_probs`, when not empty, holds each reading's log-probabilities as read() kept them, and
// the folder is decoded from them; otherwise it is read again once (`load(i)` gives image i).
// `readings` are replaced by those under the bias. The reader's options are kept.
struct OneSevenBalance {
  double bias = 0.0;    // 0: left as read
  int64_t changed = 0;  // readings whose text the bias changed
};
constexpr double kMaxOneSevenBias = 4.0;
OneSevenBalance balance_captcha_ones_sevens(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                           const std::function<cv::Mat(size_t)>& load,
                                           std::vector<torch::Tensor> log_probs = {});
// Folders of up to this many captchas keep their log-probabilities as they are read (about 4 KB
// each), so that balancing them needs no second pass of the model.
constexpr size_t kKeepCaptchaLogProbsUpTo = 50000;

// A site's captchas share a face, a size and a kind of noise, and the model's sure readings of
// them are nearly all right (S2's at 0.95 of Gregwar's: 97%). Refitting the output layer to
// those readings moves it towards that site: the readings it was unsure of follow the sure ones.
struct OutputAdaptation {
  int64_t learned_from = 0;  // sure readings the output layer was refitted to (0: not refitted)
  int64_t changed = 0;       // readings whose text the refitted layer changed
};
constexpr double kAdaptMinConfidence = 0.95;       // a sure reading: at least this, not retry
constexpr int64_t kAdaptMinReadings = 50;          // fewer sure readings: the folder is left as read
constexpr int kAdaptSteps = 60;                    // CaptchaReader::fit_output
constexpr double kAdaptLearningRate = 3e-3;
constexpr double kAdaptViewMaxLoss = 0.6931471805599453;  // ln 2: a view that gives the text at least 1/2
constexpr size_t kKeepCaptchaFeaturesUpTo = 2000;  // captchas whose features are kept (74 KB each)

// What reading a folder (or the files named together) as one source settled.
struct FolderSettling {
  OneSevenBalance balance;
  SettledLength length;
  OutputAdaptation adaptation;
};
// Settles a folder's readings: with the reader's balance_ones_sevens, balance_captcha_ones_sevens;
// then, with its length set to auto, settle_captcha_lengths under that bias. Then, with its
// adapt_output, when the folder looks like one site's (common_captcha_length finds a length,
// whatever the reader's length option) and at least kAdaptMinReadings of the first
// kKeepCaptchaFeaturesUpTo settled readings are sure, the output layer is refitted to them
// (CaptchaReader::fit_output) and the folder is decoded and settled again under it. `features`
// are read()'s of the first readings, in their order; without them those captchas are read
// again for theirs (`load(i)`), as are the captchas after them for their log-probabilities. The
// reader's output layer is put back before this returns.
FolderSettling settle_captcha_folder(CaptchaReader& reader, std::vector<CaptchaReading*>& readings,
                                     const std::function<cv::Mat(size_t)>& load,
                                     std::vector<torch::Tensor> log_probs = {},
                                     const std::vector<torch::Tensor>& features = {});

// Reads FILE or every image of DIR in batches; a bad file gives its error and the rest are
// still read. The readings are settled as one source (settle_captcha_folder) and `settled`,
// when given, says how.
std::vector<CaptchaFileResult> read_captcha_files(CaptchaReader& reader, const std::filesystem::path& file_or_dir,
                                                  FolderSettling* settled = nullptr);

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

// Labels for self-training: `reader` reads every image of `dir` as read_captcha_files does (one
// source: lengths settled, 1s and 7s balanced), and each reading at least `min_confidence` sure
// and not marked retry becomes that file's label. Files that cannot be read are counted and
// skipped. A model's confident readings of a site's captchas are nearly all right (S2 on
// Gregwar's at 0.95: 97%), and training on them teaches it that site's faces and noise.
struct SelfLabels {
  std::vector<LabelledCaptcha> labelled;  // in the order of captcha_image_files
  int64_t files = 0;                      // image files in the folder
  int64_t unreadable = 0;                 // of them, files that could not be read
  FolderSettling settled;
};
SelfLabels self_label_captchas(CaptchaReader& reader, const std::filesystem::path& dir, double min_confidence);

struct CaptchaEvalResult {
  int64_t total = 0;         // labelled captchas found
  int64_t read = 0;          // of them, read without a file error
  int64_t correct = 0;       // whole string right
  int64_t wrong_length = 0;  // read with another number of digits
  int64_t chars = 0, chars_correct = 0;
  double seconds = 0.0;  // loading, reading and scoring
  FolderSettling settled;  // settle_captcha_folder
  std::vector<std::string> errors;  // one line per bad file
  struct Mistake {
    std::filesystem::path file;
    std::string truth, read;
    double confidence;
  };
  std::vector<Mistake> mistakes;
  // Readings marked `retry` (the confidence below the reader's retry_below), and how many of
  // them were right anyway: a site's solver asks for another captcha instead of answering.
  int64_t retry = 0, retry_correct = 0;
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
  // Of the readings not marked `retry`, the share read right (0 when every reading was).
  double answered_accuracy() const {
    return read > retry ? double(correct - retry_correct) / double(read - retry) : 0.0;
  }
  double char_accuracy() const { return chars ? double(chars_correct) / double(chars) : 0.0; }
  double captchas_per_s() const { return seconds > 0 ? double(total) / seconds : 0.0; }
};
// Reads every labelled captcha of `dir` (settled as one source: settle_captcha_folder) and
// scores it; files that cannot be read count as wrong and are listed in `errors`.
CaptchaEvalResult evaluate_captcha_folder(CaptchaReader& reader, const std::filesystem::path& dir);

// Characters of `truth` matched by `predicted`: len(truth) - edit distance, at least 0.
int64_t captcha_char_matches(const std::string& predicted, const std::string& truth);

}  // namespace digitnet
