// CaptchaTask: batches for the training loop, evaluation, manifest, fine-tuning (vision/captcha_task.h).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "digitnet/checkpoint.h"
#include "digitnet/vision/captcha_task.h"
#include "support.h"

namespace {

digitnet::CaptchaTaskOptions small_options() {
  digitnet::CaptchaTaskOptions o;
  o.model.channels = 4;
  o.model.hidden = 16;
  o.batch_size = 8;
  o.batches_per_epoch = 3;
  o.val_count = 16;
  o.heldout_count = 8;
  o.queue_batches = 2;
  return o;
}

}  // namespace

TEST(CaptchaTaskTest, BatchesHaveTheModelInputShapeAndAFiniteLoss) {
  torch::manual_seed(0);
  digitnet::CaptchaTask task(small_options());
  task.model().train();
  task.begin_epoch(0, 7);
  for (int64_t b = 0; b < task.batches_per_epoch(); ++b) {
    int64_t samples = 0;
    const auto loss = task.batch_loss(b, samples);
    EXPECT_EQ(samples, 8);
    EXPECT_EQ(loss.dim(), 0);
    EXPECT_TRUE(std::isfinite(loss.item<double>()));
    loss.backward();
  }
  const auto batch = task.make_batch(7, 0);
  EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{8, 1, 32, 128}));
  EXPECT_EQ(batch.texts.size(), 8u);
  for (const auto& t : batch.texts) {
    EXPECT_GE(t.size(), 4u);
    EXPECT_LE(t.size(), 8u);
  }
}

TEST(CaptchaTaskTest, BatchesDependOnlyOnSeedEpochAndIndex) {
  auto o = small_options();
  o.seed = 3;
  digitnet::CaptchaTask task(o);
  const auto a = task.make_batch(3, 5), b = task.make_batch(3, 5), c = task.make_batch(4, 5);
  EXPECT_EQ(a.texts, b.texts);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_NE(a.texts, c.texts);
  // The queue serves exactly these batches: batch 2 of epoch 1 is id 1 * 3 + 2.
  task.model().eval();
  torch::NoGradGuard no_grad;
  task.begin_epoch(1, 12345);  // the trainer's epoch seed does not change the data
  int64_t n = 0;
  const auto queued = task.batch_loss(2, n);
  const auto direct = task.make_batch(3, 5);
  const auto expected = digitnet::captcha_ctc_loss(task.net()->forward(direct.images), direct.texts);
  EXPECT_NEAR(queued.item<double>(), expected.item<double>(), 1e-5);
}

TEST(CaptchaTaskTest, TheLoopWaitsForDataOnlyAtTheStart) {
  auto o = small_options();
  o.batches_per_epoch = 12;
  o.queue_batches = 4;
  digitnet::CaptchaTask task(o);
  task.model().train();
  task.begin_epoch(0, 1);
  int64_t n = 0;
  task.batch_loss(0, n);
  const double after_first = task.data_wait_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the queue fills meanwhile
  for (int64_t b = 1; b < 4; ++b) task.batch_loss(b, n);
  EXPECT_LT(task.data_wait_seconds() - after_first, 0.05);
}

TEST(CaptchaTaskTest, EvaluateReportsWholeStringCharacterAndHeldOutAccuracy) {
  digitnet::CaptchaTask task(small_options());
  task.model().eval();
  torch::NoGradGuard no_grad;
  const auto m = task.evaluate();
  for (const char* key : {"accuracy", "char_accuracy", "loss", "heldout_accuracy", "heldout_char_accuracy",
                          "heldout.freefont", "heldout.grid", "heldout.perspective"}) {
    ASSERT_TRUE(m.count(key)) << key;
    EXPECT_GE(m.at(key), 0.0) << key;
  }
  EXPECT_LE(m.at("accuracy"), 1.0);
}

TEST(CaptchaTaskTest, HeldOutFamiliesNeverReachTraining) {
  auto o = small_options();
  o.held_out = {"grid", "wave"};
  digitnet::CaptchaTask task(o);
  for (const auto& f : {"grid", "wave"})
    EXPECT_NE(std::find(task.options().held_out.begin(), task.options().held_out.end(), f),
              task.options().held_out.end());
  EXPECT_EQ(task.manifest().at("data.held_out"), "grid,wave");
}

TEST(CaptchaTaskTest, ExcludedFamiliesReachNeitherTrainingNorTheHeldOutSets) {
  auto o = small_options();
  o.held_out = {"grid"};
  o.exclude = {"rings", "particles"};
  digitnet::CaptchaTask task(o);
  const auto& gen = task.training_generator();
  for (uint64_t i = 0; i < 200; ++i)
    for (const auto& f : gen.generate(i).families)
      EXPECT_TRUE(f != "grid" && f != "rings" && f != "particles") << f;
  EXPECT_EQ(task.manifest().at("data.held_out"), "grid");
  EXPECT_EQ(task.manifest().at("data.exclude"), "rings,particles");
  task.model().eval();
  torch::NoGradGuard no_grad;
  const auto m = task.evaluate();
  EXPECT_TRUE(m.count("heldout.grid"));
  EXPECT_FALSE(m.count("heldout.rings"));

  auto both = small_options();
  both.held_out = {"grid"};
  both.exclude = {"grid"};
  EXPECT_THROW(digitnet::CaptchaTask{both}, std::invalid_argument);
}

TEST(CaptchaTaskTest, StartsFromACheckpointsWeights) {
  digitnet::test::TempDir dir;
  auto base = small_options();
  base.model.channels = 6;  // differs from the options below: the checkpoint's win
  torch::manual_seed(3);
  digitnet::CaptchaNet net(base.model);
  auto manifest = digitnet::new_manifest("captcha");
  digitnet::put_captcha_net_options(manifest, base.model);
  digitnet::save_checkpoint(dir / "base.pt", *net, manifest);

  auto o = small_options();
  o.init_checkpoint = dir / "base.pt";
  torch::manual_seed(4);
  digitnet::CaptchaTask task(o);
  EXPECT_EQ(task.options().model.channels, 6);
  const auto a = net->parameters(), b = task.net()->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
  EXPECT_EQ(task.manifest().at("initialised_from"), (dir / "base.pt").string());
  EXPECT_EQ(task.manifest().at("data.source"), "synthetic");
  EXPECT_EQ(task.manifest().count("data.mirror_confusing_leans"), 0u);  // the default renderer

  o.mirror_confusing_leans = 0.5;
  EXPECT_EQ(digitnet::CaptchaTask(o).manifest().at("data.mirror_confusing_leans"), "0.500000");
  o.mirror_confusing_leans = 2;
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::invalid_argument);
  o.mirror_confusing_leans = 0.5;
  EXPECT_EQ(digitnet::CaptchaTask(o).manifest().count("data.mirror_footless_leans"), 0u);
  o.mirror_footless_leans = 1.0;
  EXPECT_EQ(digitnet::CaptchaTask(o).manifest().at("data.mirror_footless_leans"), "1.000000");
  o.mirror_footless_leans = 1.5;
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::invalid_argument);
  o.mirror_footless_leans.reset();

  o.mirror_confusing_leans = 0;
  EXPECT_EQ(task.manifest().count("data.handwriting"), 0u);
  o.handwriting_dir = std::filesystem::path(DIGITNET_TEST_DATA) / "mnist-tiny";
  EXPECT_EQ(digitnet::CaptchaTask(o).manifest().at("data.handwriting"), o.handwriting_dir.string());
  o.handwriting_share = 0.3;
  EXPECT_EQ(digitnet::CaptchaTask(o).manifest().at("data.handwriting_share"), "0.300000");
  o.handwriting_share = 1.5;
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::invalid_argument);
  o.handwriting_share = 0.15;
  o.handwriting_dir = "/nonexistent/mnist";
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::runtime_error);
}

TEST(CaptchaTaskTest, ManifestRebuildsTheModel) {
  digitnet::CaptchaTask task(small_options());
  const auto m = task.manifest();
  EXPECT_EQ(m.at("kind"), "captcha");
  EXPECT_EQ(m.at("model.channels"), "4");
  const auto o = digitnet::captcha_net_options(m);
  EXPECT_EQ(o.channels, 4);
  EXPECT_EQ(o.hidden, 16);
  EXPECT_EQ(o.height, 32);
  auto broken = m;
  broken.erase("model.hidden");
  EXPECT_THROW(digitnet::captcha_net_options(broken), std::runtime_error);
}

TEST(CaptchaTaskTest, FinetunesFromACheckpointAndAFolderOfRealCaptchas) {
  digitnet::test::TempDir dir;
  auto base = small_options();
  digitnet::CaptchaNet net(base.model);
  auto manifest = digitnet::new_manifest("captcha");
  digitnet::put_captcha_net_options(manifest, base.model);
  digitnet::save_checkpoint(dir / "base.pt", *net, manifest);
  std::filesystem::create_directories(dir / "real");
  digitnet::CaptchaOptions style;
  style.require = {"hershey", "solid"};
  const digitnet::CaptchaGenerator gen(style);
  for (int i = 0; i < 10; ++i) {
    const auto c = gen.generate(uint64_t(i));
    cv::imwrite((dir / "real" / ("site" + std::to_string(i) + "_" + c.text + ".png")).string(), c.image);
  }
  auto o = small_options();
  o.model.channels = 99;  // the checkpoint's options win
  o.init_checkpoint = dir / "base.pt";
  o.finetune_dir = dir / "real";
  digitnet::CaptchaTask task(o);
  EXPECT_EQ(task.options().model.channels, 4);
  EXPECT_EQ(task.real_train_count(), 8);  // two of ten kept for validation
  task.model().train();
  task.begin_epoch(0, 0);
  int64_t n = 0;
  EXPECT_TRUE(std::isfinite(task.batch_loss(0, n).item<double>()));
  task.model().eval();
  torch::NoGradGuard no_grad;
  const auto m = task.evaluate();
  EXPECT_TRUE(m.count("accuracy"));
  EXPECT_TRUE(m.count("synthetic_accuracy"));
  EXPECT_NE(task.manifest().at("data.source").find("finetune:"), std::string::npos);

  // Captchas labelled by the caller (train_on_site): all ten trained on, none kept apart, and the
  // first validation set is the rendered one.
  auto given = small_options();
  given.init_checkpoint = dir / "base.pt";
  given.labelled = digitnet::list_labelled_captchas(dir / "real");
  digitnet::CaptchaTask site(given);
  EXPECT_EQ(site.real_train_count(), 10);
  EXPECT_EQ(site.manifest().at("data.source"), "site: 10 captchas");
  EXPECT_EQ(site.manifest().at("finetuned_from"), (dir / "base.pt").string());
  site.model().eval();
  const auto scored = site.evaluate();
  EXPECT_TRUE(scored.count("accuracy"));
  EXPECT_FALSE(scored.count("synthetic_accuracy"));
  given.finetune_dir = dir / "real";  // both: refused
  EXPECT_THROW(digitnet::CaptchaTask{given}, std::invalid_argument);
}

TEST(CaptchaTaskTest, RejectsBadOptions) {
  auto o = small_options();
  o.batch_size = 0;
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::invalid_argument);
  o = small_options();
  o.finetune_dir = "/nonexistent/real";
  EXPECT_THROW(digitnet::CaptchaTask{o}, std::runtime_error);
}

TEST(CaptchaScoreTest, CountsStringsCharactersAndWrongLengths) {
  digitnet::CaptchaScore s;
  s.add("1234", "1234");
  s.add("1235", "1234");
  s.add("123", "1234");
  EXPECT_EQ(s.total, 3);
  EXPECT_EQ(s.correct, 1);
  EXPECT_EQ(s.wrong_length, 1);
  EXPECT_EQ(s.chars, 12);
  EXPECT_EQ(s.chars_correct, 4 + 3 + 3);
}
