// End to end: digitnet-captcha-gen -> digitnet-train --task captcha (and --finetune) ->
// digitnet-eval --task captcha, with the real binaries.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "support.h"

using digitnet::test::run_app;
using digitnet::test::TempDir;
using digitnet::test::write_text;

namespace {

const std::string kTinyRun = " --epochs 1 --batches 3 --batch-size 8 --val 12 --threads 2 ";
const std::string kTiny = kTinyRun + "--channels 4 --hidden 8 ";  // a new model's size

}  // namespace

TEST(CaptchaTrainEvalAppTest, TrainsFinetunesAndScoresAFolder) {
  TempDir dir;
  const auto gen = run_app("digitnet-captcha-gen", "--count 12 --length 4-5 --seed 3 --out " + (dir / "real").string());
  ASSERT_EQ(gen.code, 0) << gen.err;

  const auto run = (dir / "run").string();
  const auto train = run_app("digitnet-train", "--task captcha --exclude rings,particles --out " + run + kTiny);
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.err.find("CaptchaNet"), std::string::npos) << train.err;
  EXPECT_NE(train.err.find("held-out families"), std::string::npos) << train.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "model.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "metrics.json"));

  // A second stage: the first run's weights, trained on with families it never saw.
  const auto stage2 = run_app("digitnet-train", "--task captcha --init " + run + "/model.pt --out " +
                                                    (dir / "stage2").string() + kTinyRun);
  ASSERT_EQ(stage2.code, 0) << stage2.err;
  EXPECT_NE(stage2.err.find("starting from"), std::string::npos) << stage2.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "stage2" / "model.pt"));

  // The mean of the two runs' weights, scored on the validation sets, trained no further.
  const auto soup = (dir / "soup").string();
  const auto average = run_app("digitnet-train", "--task captcha --json --val 12 --threads 2 --average " + run +
                                                     "/model.pt," + (dir / "stage2").string() + "/model.pt --out " + soup);
  ASSERT_EQ(average.code, 0) << average.err;
  EXPECT_NE(average.err.find("the mean of 2 checkpoints"), std::string::npos) << average.err;
  EXPECT_NE(average.out.find("\"averaged\": 2"), std::string::npos) << average.out;
  EXPECT_NE(average.out.find("\"heldout_accuracy\""), std::string::npos) << average.out;
  EXPECT_NE(digitnet::test::read_text(dir / "soup" / "metrics.json").find("\"averaged_from\": \"" + run + "/model.pt,"),
            std::string::npos);
  const auto soup_eval = run_app("digitnet-eval", "--task captcha --checkpoint " + soup + "/model.pt --data-dir " +
                                                      (dir / "real").string());
  EXPECT_EQ(soup_eval.code, 0) << soup_eval.err;
  // Written once: a second average into the same folder is refused, the first kept.
  const auto again = run_app("digitnet-train", "--task captcha --val 12 --average " + run + "/model.pt," + run +
                                                   "/model.pt --out " + soup);
  EXPECT_EQ(again.code, 1) << again.err;
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  // One file, a missing file, or training flags: one error line each.
  const auto one = run_app("digitnet-train", "--task captcha --average " + run + "/model.pt --out " + soup + "2");
  EXPECT_EQ(one.code, 2) << one.err;
  EXPECT_NE(one.err.find("two checkpoints or more"), std::string::npos) << one.err;
  const auto missing = run_app("digitnet-train", "--task captcha --val 12 --average " + run + "/model.pt," +
                                                     (dir / "none.pt").string() + " --out " + soup + "3");
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_NE(missing.err.find("none.pt"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "soup3" / "model.pt"));
  const auto with_init = run_app("digitnet-train", "--task captcha --init " + run + "/model.pt --average " + run +
                                                       "/model.pt," + run + "/model.pt --out " + soup + "4");
  EXPECT_EQ(with_init.code, 2) << with_init.err;

  const auto tuned = (dir / "tuned").string();
  const auto finetune = run_app("digitnet-train", "--task captcha --finetune " + run + "/model.pt --data-dir " +
                                                      (dir / "real").string() + " --out " + tuned + kTinyRun);
  ASSERT_EQ(finetune.code, 0) << finetune.err;
  EXPECT_NE(finetune.err.find("fine-tuning on"), std::string::npos) << finetune.err;

  const auto eval = run_app("digitnet-eval", "--task captcha --json --checkpoint " + tuned + "/model.pt --data-dir " +
                                                 (dir / "real").string());
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_NE(eval.out.find("\"captchas\": 12"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"char_accuracy\""), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"wrong_length\""), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"captchas_per_s\""), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"length\": \"auto\""), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"settled_length\": "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"one_seven_bias\": "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"rebalanced\": "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"site_trained_on\": 0,"), std::string::npos) << eval.out;  // 12 captchas: too few
  EXPECT_NE(eval.out.find("\"adapted_to\": "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"readapted\": "), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("\"answered_accuracy\": "), std::string::npos) << eval.out;
  const auto answered_all = run_app("digitnet-eval", "--task captcha --json --retry-below 0 --checkpoint " + tuned +
                                                         "/model.pt --data-dir " + (dir / "real").string());
  ASSERT_EQ(answered_all.code, 0) << answered_all.err;
  EXPECT_NE(answered_all.out.find("\"retry\": 0,"), std::string::npos) << answered_all.out;
  EXPECT_NE(answered_all.out.find("\"answered\": 12,"), std::string::npos) << answered_all.out;

  // A picture of the most confidently wrong captchas (a tiny model gets most of them wrong).
  const auto png = (dir / "wrong.png").string();
  const auto drawn = run_app("digitnet-eval", "--task captcha --top 5 --mistakes " + png + " --checkpoint " + tuned +
                                                  "/model.pt --data-dir " + (dir / "real").string());
  ASSERT_EQ(drawn.code, 0) << drawn.err;
  const cv::Mat sheet = cv::imread(png);
  ASSERT_FALSE(sheet.empty()) << drawn.err;
  EXPECT_NE(drawn.err.find("mistakes to " + png), std::string::npos) << drawn.err;
  EXPECT_FALSE(std::filesystem::exists(png + ".tmp.png"));
  // A picture that cannot be written: one error line, exit 1, the scores still printed.
  const auto unwritable = run_app("digitnet-eval", "--task captcha --mistakes /proc/wrong.png --checkpoint " + tuned +
                                                       "/model.pt --data-dir " + (dir / "real").string());
  EXPECT_EQ(unwritable.code, 1) << unwritable.err;
  EXPECT_NE(unwritable.out.find("accuracy:"), std::string::npos) << unwritable.out;
  EXPECT_NE(unwritable.err.find("cannot write /proc/wrong.png"), std::string::npos) << unwritable.err;

  // A bad file: its own error line, the rest still scored, exit 1.
  write_text(dir / "real" / "99_1234.png", "not a png");
  write_text(dir / "real" / "labels.csv", digitnet::test::read_text(dir / "real" / "labels.csv") + "99_1234.png,1234\n");
  const auto partial = run_app("digitnet-eval", "--task captcha --checkpoint " + tuned + "/model.pt --data-dir " +
                                                    (dir / "real").string());
  EXPECT_EQ(partial.code, 1) << partial.err;
  EXPECT_NE(partial.err.find("99_1234.png"), std::string::npos) << partial.err;
  EXPECT_NE(partial.out.find("13 labelled"), std::string::npos) << partial.out;

  // A folder whose names carry no labels and that has no labels.csv.
  std::filesystem::create_directories(dir / "odd");
  write_text(dir / "odd" / "captcha.png", "x");
  const auto odd = run_app("digitnet-eval", "--task captcha --checkpoint " + tuned + "/model.pt --data-dir " +
                                                (dir / "odd").string());
  EXPECT_EQ(odd.code, 1);
  EXPECT_NE(odd.err.find("unknown label format"), std::string::npos) << odd.err;
  EXPECT_EQ(digitnet::test::count_lines(odd.err.substr(odd.err.find("digitnet-eval: error"))), 1) << odd.err;
}

TEST(CaptchaTrainEvalAppTest, SelfTrainsOnASitesUnlabelledCaptchas) {
  const auto shipped = std::filesystem::path(DIGITNET_SOURCE_DIR) / "models" / "captcha.pt";
  if (!std::filesystem::exists(shipped)) GTEST_SKIP() << "models/captcha.pt not present";
  TempDir dir;
  // One "site": 5 digits, plain fill, no clutter. The names carry labels, which self-training
  // does not read: a labels.csv of wrong ones shows that.
  const auto gen = run_app("digitnet-captcha-gen", "--count 40 --length 5 --seed 5 --require fill --exclude "
                                                   "grid,particles,rings,elastic,framing,more,zeros,dotted,tilt,scatter,"
                                                   "scribble,circles,erase,flags,strikes,lines,curves --out " +
                                                       (dir / "site").string());
  ASSERT_EQ(gen.code, 0) << gen.err;
  write_text(dir / "site" / "labels.csv", "file,digits\n0.png,1\n");
  const auto run = (dir / "self").string();
  const auto self = run_app("digitnet-train", "--task captcha --finetune " + shipped.string() + " --data-dir " +
                                                  (dir / "site").string() + " --self-train --rounds 1 --out " + run + kTinyRun);
  ASSERT_EQ(self.code, 0) << self.err;
  EXPECT_EQ(self.err.find("round 1/"), std::string::npos) << self.err;
  const auto at = self.err.find("self-training on ");
  ASSERT_NE(at, std::string::npos) << self.err;
  const int labelled = std::stoi(self.err.substr(at + 17));
  EXPECT_GE(labelled, 20) << self.err;
  EXPECT_LE(labelled, 40) << self.err;
  EXPECT_NE(self.err.find("of the 40 captchas in"), std::string::npos) << self.err;
  EXPECT_NE(self.err.find("at least 95% sure"), std::string::npos) << self.err;
  EXPECT_NE(digitnet::test::read_text(dir / "self" / "metrics.json").find("\"data.source\": \"self-train:"),
            std::string::npos);
  std::filesystem::remove(dir / "site" / "labels.csv");  // scored by the labels in the names
  const auto eval = run_app("digitnet-eval", "--task captcha --json --checkpoint " + run + "/model.pt --data-dir " +
                                                 (dir / "site").string());
  EXPECT_EQ(eval.code, 0) << eval.err;
  EXPECT_NE(eval.out.find("\"captchas\": 40"), std::string::npos) << eval.out;

  // Two rounds: the second reads the folder with the first's model and starts from it.
  const auto twice = (dir / "twice").string();
  const auto site = (dir / "site").string();
  const auto rounds_flags = "--task captcha --finetune " + shipped.string() + " --data-dir " + site +
                            " --self-train --rounds 2 --json --out " + twice + kTinyRun;
  const auto two = run_app("digitnet-train", rounds_flags);
  ASSERT_EQ(two.code, 0) << two.err;
  const auto round2 = two.err.find("round 2/2: " + twice + "/round-1/model.pt labels " + site);
  ASSERT_NE(round2, std::string::npos) << two.err;
  EXPECT_LT(two.err.find("round 1/2: " + shipped.string() + " labels"), round2) << two.err;
  const auto second = two.err.find("self-training on ", round2);
  ASSERT_NE(second, std::string::npos) << two.err;
  EXPECT_GE(std::stoi(two.err.substr(second + 17)), 20) << two.err;
  const auto metrics2 = digitnet::test::read_text(dir / "twice" / "metrics.json");
  EXPECT_NE(metrics2.find("\"finetuned_from\": \"" + twice + "/round-1/model.pt\""), std::string::npos) << metrics2;
  EXPECT_NE(metrics2.find("\"self_labelled\": \""), std::string::npos) << metrics2;
  EXPECT_TRUE(std::filesystem::exists(dir / "twice" / "round-1" / "model.pt"));
  EXPECT_NE(two.out.find("\"checkpoint\": \"" + twice + "/model.pt\""), std::string::npos) << two.out;
  EXPECT_EQ(digitnet::test::count_lines(two.out), 1) << two.out;  // one summary, the last round's
  // Run again into the same folder: refused before any round trains; --resume finds both done.
  const auto again = run_app("digitnet-train", rounds_flags);
  EXPECT_EQ(again.code, 1) << again.err;
  EXPECT_NE(again.err.find("round-1/model.pt exists: pass --resume"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("round 1/2"), std::string::npos) << again.err;
  const auto resumed = run_app("digitnet-train", rounds_flags + " --resume");
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed.err.find("epoch 1/1"), std::string::npos) << resumed.err;  // nothing trained again
  EXPECT_NE(resumed.err.find("round 2/2"), std::string::npos) << resumed.err;

  // Too few sure readings: five captchas, or a bar no reading reaches.
  const auto few = run_app("digitnet-captcha-gen", "--count 5 --length 5 --out " + (dir / "few").string());
  ASSERT_EQ(few.code, 0) << few.err;
  for (const auto& [folder, extra] : {std::pair<std::string, std::string>{"few", ""}, {"site", " --self-train-min 1"}}) {
    const auto r = run_app("digitnet-train", "--task captcha --finetune " + shipped.string() + " --data-dir " +
                                                 (dir / folder).string() + " --self-train --out " +
                                                 (dir / ("none-" + folder)).string() + extra + kTinyRun);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("round 1/3: "), std::string::npos) << r.err;  // three rounds unless told
    EXPECT_NE(r.err.find("self-training needs 20"), std::string::npos) << r.err;
    EXPECT_EQ(digitnet::test::count_lines(r.err.substr(r.err.find("digitnet-train: error"))), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / ("none-" + folder) / "model.pt"));
  }
  // A folder of files that are not images: each is counted, none labels anything.
  std::filesystem::create_directories(dir / "junk");
  write_text(dir / "junk" / "a.png", "not an image");
  write_text(dir / "junk" / "b.jpg", "");
  const auto junk = run_app("digitnet-train", "--task captcha --finetune " + shipped.string() + " --data-dir " +
                                                  (dir / "junk").string() + " --self-train --out " +
                                                  (dir / "none-junk").string() + kTinyRun);
  EXPECT_EQ(junk.code, 1) << junk.err;
  EXPECT_NE(junk.err.find("0 of 2 captchas read at least 95% sure (2 could not be read)"), std::string::npos) << junk.err;
  // The flag's companions.
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --self-train --out " + run + "2").code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --finetune a.pt --data-dir . --self-train-min 0.9 --out " + run + "2").code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --finetune a.pt --data-dir . --self-train --self-train-min 0 --out " + run + "2").code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --self-train").code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --finetune a.pt --data-dir . --rounds 2 --out " + run + "2").code, 2);
  const auto zero = run_app("digitnet-train", "--task captcha --finetune a.pt --data-dir . --self-train --rounds 0 --out " + run + "2");
  EXPECT_EQ(zero.code, 2) << zero.err;
  EXPECT_NE(zero.err.find("--rounds must be between 1 and 10"), std::string::npos) << zero.err;
  const auto nothing = run_app("digitnet-train", "--task captcha --finetune " + shipped.string() + " --data-dir " + site +
                                                     " --self-train --rounds 3 --resume --out " + run + "3");
  EXPECT_EQ(nothing.code, 1) << nothing.err;
  EXPECT_NE(nothing.err.find("--resume: no checkpoint at " + run + "3/round-1/model.pt"), std::string::npos) << nothing.err;
}

TEST(CaptchaTrainEvalAppTest, EvalAndReadTrainOnASitesSureReadingsFirst) {
  const auto shipped = std::filesystem::path(DIGITNET_SOURCE_DIR) / "models" / "captcha.pt";
  if (!std::filesystem::exists(shipped)) GTEST_SKIP() << "models/captcha.pt not present";
  TempDir dir;
  const auto site = (dir / "site").string();
  const auto gen = run_app("digitnet-captcha-gen", "--count 100 --length 5 --seed 9 --require fill --exclude "
                                                   "grid,particles,rings,elastic,framing,more,zeros,dotted,tilt,scatter,"
                                                   "scribble,circles,erase,flags,strikes,lines,curves --out " + site);
  ASSERT_EQ(gen.code, 0) << gen.err;
  const auto json_int = [](const std::string& out, const std::string& key) {
    const auto at = out.find("\"" + key + "\": ");
    return at == std::string::npos ? int64_t(-1) : int64_t(std::stoll(out.substr(at + key.size() + 4)));
  };
  // --adapt auto (the default): the model trains on the folder's sure readings, then reads it.
  const auto site_eval = run_app("digitnet-eval", "--task captcha --json --data-dir " + site);
  ASSERT_EQ(site_eval.code, 0) << site_eval.err;
  EXPECT_GE(json_int(site_eval.out, "site_trained_on"), 50) << site_eval.out;
  EXPECT_LE(json_int(site_eval.out, "site_trained_on"), 100) << site_eval.out;
  EXPECT_NE(site_eval.out.find("\"site_seconds\": "), std::string::npos) << site_eval.out;
  EXPECT_GE(json_int(site_eval.out, "correct"), 80) << site_eval.out;
  // --adapt output: the output layer alone, as before.
  const auto output = run_app("digitnet-eval", "--task captcha --json --adapt output --data-dir " + site);
  ASSERT_EQ(output.code, 0) << output.err;
  EXPECT_EQ(json_int(output.out, "site_trained_on"), 0) << output.out;
  EXPECT_GT(json_int(output.out, "adapted_to"), 0) << output.out;
  const auto off = run_app("digitnet-eval", "--task captcha --json --adapt off --data-dir " + site);
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(json_int(off.out, "site_trained_on"), 0) << off.out;
  EXPECT_EQ(json_int(off.out, "adapted_to"), 0) << off.out;

  // The same captchas without labels: refused with one line, as with --adapt off.
  std::filesystem::create_directories(dir / "unlabelled");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(site))
    std::filesystem::copy_file(e.path(), dir / "unlabelled" / (std::to_string(n++) + ".png"));
  const auto unlabelled = run_app("digitnet-eval", "--task captcha --data-dir " + (dir / "unlabelled").string());
  EXPECT_EQ(unlabelled.code, 1) << unlabelled.err;
  EXPECT_NE(unlabelled.err.find("unknown label format"), std::string::npos) << unlabelled.err;
  EXPECT_EQ(unlabelled.out, "");

  // digitnet-read says so on stderr and prints one line per captcha.
  const auto read = run_app("digitnet-read", "--captcha " + site);
  ASSERT_EQ(read.code, 0) << read.err;
  EXPECT_NE(read.err.find("digitnet-read: " + site + ": the model trained on its "), std::string::npos) << read.err;
  EXPECT_EQ(digitnet::test::count_lines(read.out), 100) << read.out;
}

TEST(CaptchaTrainEvalAppTest, CaptchaFlagsAreCheckedBeforeWork) {
  TempDir dir;
  const auto out = " --out " + (dir / "x").string();
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --held-out glitter" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --finetune a.pt" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --exclude glitter" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --init a.pt --finetune b.pt --data-dir ." + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --init a.pt --channels 8" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --init a.pt" + out).code, 2);
  const auto both = run_app("digitnet-train", "--task captcha --held-out grid --exclude grid" + out);
  EXPECT_EQ(both.code, 2) << both.err;
  EXPECT_NE(both.err.find("both held out and excluded"), std::string::npos) << both.err;
  const auto missing = run_app("digitnet-train", "--task captcha --init " + (dir / "none.pt").string() + out);
  EXPECT_NE(missing.code, 0);
  ASSERT_NE(missing.err.find("digitnet-train: error"), std::string::npos) << missing.err;
  EXPECT_EQ(digitnet::test::count_lines(missing.err.substr(missing.err.find("digitnet-train: error"))), 1)
      << missing.err;
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --held-out grid" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --mirror-1-7 0.5" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --handwriting data/mnist" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --handwriting-share 0.3" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task captcha --handwriting-share 0.3" + out).code, 2);  // no folder
  const auto hand = run_app("digitnet-train", "--task captcha --handwriting /nonexistent/mnist" + out);
  EXPECT_EQ(hand.code, 1);
  EXPECT_NE(hand.err.find("/nonexistent/mnist"), std::string::npos) << hand.err;
  const auto share = run_app("digitnet-train", "--task captcha --mirror-1-7 1.5" + out);
  EXPECT_EQ(share.code, 2);
  EXPECT_NE(share.err.find("--mirror-1-7 must be a share within 0..1"), std::string::npos) << share.err;
  const auto footless = run_app("digitnet-train", "--task captcha --mirror-1-7-footless 2" + out);
  EXPECT_EQ(footless.code, 2);
  EXPECT_NE(footless.err.find("--mirror-1-7-footless must be a share within 0..1"), std::string::npos) << footless.err;
  EXPECT_EQ(run_app("digitnet-train", "--task mnist --mirror-1-7-footless 0.5" + out).code, 2);
  EXPECT_EQ(run_app("digitnet-train", "--task words" + out).code, 2);
  // Out-of-range training options are refused before any model is announced (or built).
  for (const std::string flags : {"--epochs -3", "--lr 0", "--batch-size 0", "--weight-decay 2"}) {
    const auto r = run_app("digitnet-train", "--task captcha " + flags + out);
    EXPECT_EQ(r.code, 2) << flags << ": " << r.err;
    EXPECT_EQ(r.err.find("model:"), std::string::npos) << flags << ": " << r.err;
    EXPECT_NE(r.err.find(flags.substr(0, flags.find(' '))), std::string::npos) << flags << ": " << r.err;
  }
  EXPECT_EQ(run_app("digitnet-eval", "--task captcha").code, 2);
  EXPECT_EQ(run_app("digitnet-eval", "--task captcha --data-dir . --length 9-2").code, 2);
  EXPECT_EQ(run_app("digitnet-eval", "--task captcha --data-dir . --views 0").code, 2);
  const auto mnist_views = run_app("digitnet-eval", "--task mnist --views 2");
  EXPECT_EQ(mnist_views.code, 2);
  EXPECT_NE(mnist_views.err.find("only for --task captcha"), std::string::npos) << mnist_views.err;
  EXPECT_EQ(run_app("digitnet-eval", "--task captcha --data-dir . --balance-1-7 1").code, 2);
  EXPECT_EQ(run_app("digitnet-eval", "--task mnist --balance-1-7 off").code, 2);
  const auto adapt = run_app("digitnet-eval", "--task captcha --data-dir . --adapt yes");
  EXPECT_EQ(adapt.code, 2) << adapt.err;
  EXPECT_NE(adapt.err.find("--adapt must be auto, output or off, not 'yes'"), std::string::npos) << adapt.err;
  EXPECT_EQ(run_app("digitnet-eval", "--task mnist --adapt off").code, 2);
  EXPECT_EQ(run_app("digitnet-eval", "--task captcha --data-dir . --retry-below 2").code, 2);
  EXPECT_EQ(run_app("digitnet-eval", "--task mnist --retry-below 0.5").code, 2);
}
