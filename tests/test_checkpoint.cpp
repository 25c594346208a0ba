#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/resource.h>

#include <csignal>

#include "digitnet/checkpoint.h"
#include "digitnet/models.h"
#include "support.h"

using digitnet::test::TempDir;

TEST(CheckpointTest, RoundTripGivesIdenticalOutputsAndManifest) {
  TempDir dir;
  torch::manual_seed(1);
  digitnet::XorNet a(digitnet::XorNetOptions{3});
  digitnet::save_checkpoint(dir / "x.pt", *a, {{"kind", "xor"}, {"hidden", "3"}});
  digitnet::XorNet b(digitnet::XorNetOptions{3});
  digitnet::CheckpointReader reader(dir / "x.pt");
  EXPECT_EQ(reader.get("hidden"), "3");
  reader.expect_kind("xor");
  reader.load_weights(*b);
  const auto x = torch::rand({5, 2});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.pt.tmp"));
}

TEST(CheckpointTest, ExtraEntriesComeBack) {
  TempDir dir;
  digitnet::XorNet a;
  digitnet::save_checkpoint(dir / "x.pt", *a, {{"kind", "xor"}}, [](torch::serialize::OutputArchive& ar) {
    ar.write("epoch", c10::IValue(int64_t{7}));
  });
  digitnet::CheckpointReader reader(dir / "x.pt");
  c10::IValue epoch;
  ASSERT_TRUE(reader.archive().try_read("epoch", epoch));
  EXPECT_EQ(epoch.toInt(), 7);
}

TEST(CheckpointTest, WrongKindIsRefused) {
  TempDir dir;
  digitnet::XorNet a;
  digitnet::save_checkpoint(dir / "x.pt", *a, {{"kind", "xor"}});
  digitnet::CheckpointReader reader(dir / "x.pt");
  EXPECT_THROW(reader.expect_kind("mnist"), std::runtime_error);
}

TEST(CheckpointTest, OtherShapesAreRefused) {
  TempDir dir;
  digitnet::XorNet a(digitnet::XorNetOptions{3});
  digitnet::save_checkpoint(dir / "x.pt", *a, {{"kind", "xor"}});
  digitnet::XorNet b(digitnet::XorNetOptions{4});
  digitnet::CheckpointReader reader(dir / "x.pt");
  try {
    reader.load_weights(*b);
    FAIL() << "loaded a 3-hidden checkpoint into a 4-hidden net";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }
}

TEST(CheckpointTest, MissingTruncatedAndForeignFilesAreRefused) {
  TempDir dir;
  EXPECT_THROW(digitnet::CheckpointReader(dir / "none.pt"), std::runtime_error);
  EXPECT_THROW(digitnet::CheckpointReader(dir.path()), std::runtime_error);
  digitnet::test::write_text(dir / "text.pt", "not a checkpoint");
  EXPECT_THROW(digitnet::CheckpointReader(dir / "text.pt"), std::runtime_error);
  digitnet::test::write_text(dir / "empty.pt", "");
  EXPECT_THROW(digitnet::CheckpointReader(dir / "empty.pt"), std::runtime_error);

  digitnet::XorNet a;
  digitnet::save_checkpoint(dir / "x.pt", *a, {{"kind", "xor"}});
  const auto bytes = digitnet::test::read_text(dir / "x.pt");
  for (const double keep : {0.2, 0.5, 0.9}) {
    digitnet::test::write_text(dir / "cut.pt", bytes.substr(0, static_cast<size_t>(bytes.size() * keep)));
    EXPECT_THROW(digitnet::CheckpointReader(dir / "cut.pt"), std::runtime_error) << keep;
  }
  // A LibTorch archive without digitnet's manifest.
  torch::serialize::OutputArchive foreign;
  foreign.write("w", torch::ones({2}));
  foreign.save_to((dir / "foreign.pt").string());
  EXPECT_THROW(digitnet::CheckpointReader(dir / "foreign.pt"), std::runtime_error);
}

TEST(CheckpointTest, FailedWriteKeepsThePreviousFile) {
  TempDir dir;
  torch::manual_seed(2);
  digitnet::XorNet small(digitnet::XorNetOptions{2});
  digitnet::save_checkpoint(dir / "x.pt", *small, {{"kind", "xor"}, {"hidden", "2"}});
  const auto before = digitnet::test::read_text(dir / "x.pt");

  // A file-size limit below the new checkpoint's size makes the write fail as a full disk does.
  digitnet::XorNet big(digitnet::XorNetOptions{4000});
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit tight = old;
  tight.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  EXPECT_THROW(digitnet::save_checkpoint(dir / "x.pt", *big, {{"kind", "xor"}, {"hidden", "4000"}}),
               std::runtime_error);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(digitnet::test::read_text(dir / "x.pt"), before);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.pt.tmp"));
  digitnet::CheckpointReader reader(dir / "x.pt");
  EXPECT_EQ(reader.get("hidden"), "2");
}

TEST(CheckpointTest, OneLineDropsBacktraces) {
  const std::runtime_error e("first\nsecond");
  EXPECT_EQ(digitnet::one_line(e), "first");
}

namespace {

// A small CaptchaNet (convolutions, BatchNorm, GRU) with every floating-point tensor set to
// `value` and BatchNorm's integer step counters to `steps`, saved as `file`.
void save_filled(const std::filesystem::path& file, double value, int64_t steps, const std::string& channels = "4") {
  torch::NoGradGuard no_grad;
  digitnet::CaptchaNetOptions o;
  o.channels = 4;
  o.hidden = 8;
  digitnet::CaptchaNet net(o);
  for (auto& p : net->parameters()) p.fill_(value);
  for (auto& b : net->buffers()) b.fill_(b.is_floating_point() ? value : double(steps));
  digitnet::save_checkpoint(file, *net, {{"kind", "captcha"}, {"model.channels", channels}, {"data.seed", std::to_string(steps)}});
}

}  // namespace

TEST(CheckpointTest, AveragingGivesTheMeanOfWeightsAndRunningStatistics) {
  TempDir dir;
  save_filled(dir / "a.pt", 1.0, 7);
  save_filled(dir / "b.pt", 2.0, 9);
  save_filled(dir / "c.pt", 6.0, 11);
  digitnet::CaptchaNetOptions o;
  o.channels = 4;
  o.hidden = 8;
  digitnet::CaptchaNet net(o);
  const auto manifest = digitnet::average_checkpoints({dir / "a.pt", dir / "b.pt", dir / "c.pt"}, *net);
  EXPECT_EQ(manifest.at("data.seed"), "7");  // the first file's manifest; data.* may differ
  int floats = 0, counters = 0;
  for (const auto& p : net->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 3.0)));
    ++floats;
  }
  for (const auto& b : net->buffers()) {
    if (b.is_floating_point()) {
      EXPECT_TRUE(torch::allclose(b, torch::full_like(b, 3.0)));  // running mean and variance
      ++floats;
    } else {
      EXPECT_EQ(b.item<int64_t>(), 7);
      ++counters;
    }
  }
  EXPECT_GT(floats, 10);
  EXPECT_EQ(counters, 4);  // the four BatchNorm layers
}

TEST(CheckpointTest, AveragingRefusesOneFileAndOtherModels) {
  TempDir dir;
  save_filled(dir / "a.pt", 1.0, 7);
  save_filled(dir / "wide.pt", 1.0, 7, "8");
  digitnet::CaptchaNetOptions o;
  o.channels = 4;
  o.hidden = 8;
  digitnet::CaptchaNet net(o);
  EXPECT_THROW(digitnet::average_checkpoints({dir / "a.pt"}, *net), std::invalid_argument);
  try {
    digitnet::average_checkpoints({dir / "a.pt", dir / "wide.pt"}, *net);
    FAIL() << "averaged checkpoints of other model options";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("wide.pt"), std::string::npos) << e.what();
  }
  try {
    digitnet::average_checkpoints({dir / "a.pt", dir / "missing.pt"}, *net);
    FAIL() << "averaged a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
}
