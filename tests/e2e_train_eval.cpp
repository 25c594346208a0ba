// End-to-end: digitnet-train on the committed fixture, digitnet-eval on its checkpoint, resume,
// and the bad inputs of both apps.
#include <gtest/gtest.h>

#include "support.h"

using digitnet::test::run_app;
using digitnet::test::TempDir;

namespace {

const std::string kData = std::string(DIGITNET_TEST_DATA) + "/mnist-tiny";
const std::string kSmall = " --channels 8 --hidden 32 --batch-size 64 --threads 1 --data-dir " + kData;

void expect_error(const digitnet::test::AppResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.code, code) << r.err;
  const auto pos = r.err.find("error:");
  ASSERT_NE(pos, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n', pos), r.err.size() - 1) << "one line, last: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace

TEST(TrainEvalAppTest, TrainThenEvaluateThenResume) {
  TempDir dir;
  const auto out = (dir / "run").string();
  const auto trained = run_app("digitnet-train", "--epochs 1 --json --out " + out + kSmall);
  ASSERT_EQ(trained.code, 0) << trained.err;
  EXPECT_NE(trained.err.find("epoch 1/1"), std::string::npos) << trained.err;
  EXPECT_NE(trained.out.find("\"accuracy\": "), std::string::npos) << trained.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "model.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "metrics.json"));
#ifdef DIGITNET_HAVE_OPENCV
  EXPECT_GT(std::filesystem::file_size(dir / "run" / "curves.png"), 1000u);
#endif

  const auto eval = run_app("digitnet-eval", "--checkpoint " + out + "/model.pt --data-dir " + kData);
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_NE(eval.out.find("accuracy:"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("confusion matrix"), std::string::npos);
  EXPECT_NE(eval.out.find("images/s"), std::string::npos);

  const auto json = run_app("digitnet-eval", "--json --checkpoint " + out + "/model.pt --data-dir " + kData);
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(digitnet::test::count_lines(json.out), 1);
  EXPECT_NE(json.out.find("\"samples\": 300"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"ece\": "), std::string::npos);
  EXPECT_NE(json.out.find("\"per_class\": "), std::string::npos);

  // Resume to 2 epochs with the same flags: only epoch 2 runs.
  const auto resumed = run_app("digitnet-train", "--epochs 2 --resume --out " + out + kSmall);
  EXPECT_NE(resumed.code, 0) << "epochs differ from the saved run, so --resume must refuse";
  EXPECT_NE(resumed.err.find("train.epochs"), std::string::npos) << resumed.err;
}

TEST(TrainEvalAppTest, InterruptedRunResumesWhereItStopped) {
  TempDir dir;
  const auto out = (dir / "run").string();
  // SIGINT once training runs (the log shows the model line): the app saves and exits 130.
  const auto log = (dir / "train.log").string();
  const std::string cmd = std::string(DIGITNET_BIN_DIR) + "/digitnet-train --epochs 6 --out " + out + kSmall +
                          " 2>" + log + " & pid=$!; for i in $(seq 300); do grep -q '^epoch 1/6' " + log +
                          " && break; sleep 0.1; done; kill -INT $pid; wait $pid";
  digitnet::test::write_text(dir / "interrupt.sh", cmd);
  const int status = std::system(("bash " + (dir / "interrupt.sh").string()).c_str());
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 130) << digitnet::test::read_text(log);
  EXPECT_NE(digitnet::test::read_text(log).find("--resume"), std::string::npos) << digitnet::test::read_text(log);
  const auto resumed = run_app("digitnet-train", "--epochs 6 --resume --out " + out + kSmall);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed.err.find("epoch 1/6 "), std::string::npos) << "epoch 1 ran again:\n" << resumed.err;
  EXPECT_NE(resumed.err.find("epoch 6/6"), std::string::npos) << resumed.err;
}

TEST(TrainEvalAppTest, EvalDrawsTheMistakes) {
#ifndef DIGITNET_HAVE_OPENCV
  GTEST_SKIP() << "built without OpenCV";
#endif
  TempDir dir;
  const auto out = (dir / "run").string();
  ASSERT_EQ(run_app("digitnet-train", "--epochs 1 --out " + out + kSmall).code, 0);
  const auto png = (dir / "mistakes.png").string();
  const auto r = run_app("digitnet-eval", "--checkpoint " + out + "/model.pt --mistakes " + png + " --data-dir " + kData);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(std::filesystem::file_size(png), 500u);
}

TEST(TrainEvalAppTest, BadInputGetsOneLineAndNonZeroExit) {
  TempDir dir;
  expect_error(run_app("digitnet-train", "--data-dir " + (dir / "nothing").string() + " --out " + (dir / "r").string()),
               1, "get-data.sh");
  expect_error(run_app("digitnet-train", "--augment heavy --out " + (dir / "r").string() + kSmall), 2, "--augment");
  expect_error(run_app("digitnet-train", "--epochs 0 --out " + (dir / "r").string() + kSmall), 2, "--epochs");
  expect_error(run_app("digitnet-train", "--batch-size=-4 --data-dir " + kData + " --out " + (dir / "r").string()), 2,
               "--batch-size");
  expect_error(run_app("digitnet-train", "--task speech"), 2, "--task");
  expect_error(run_app("digitnet-train", "--resume --out " + (dir / "none").string() + kSmall), 1, "no checkpoint");
  expect_error(run_app("digitnet-train", "--bogus"), 2, "bogus");

  digitnet::test::write_text(dir / "junk.pt", "not a checkpoint at all");
  expect_error(run_app("digitnet-eval", "--checkpoint " + (dir / "junk.pt").string() + " --data-dir " + kData), 1,
               "corrupt");
  expect_error(run_app("digitnet-eval", "--checkpoint " + (dir / "missing.pt").string() + " --data-dir " + kData), 1,
               "not found");
  const auto xor_file = (dir / "xor.pt").string();
  ASSERT_EQ(run_app("digitnet-xor", "--epochs 1 --save " + xor_file).code, 0);
  expect_error(run_app("digitnet-eval", "--checkpoint " + xor_file + " --data-dir " + kData), 1, "'xor' model");
  expect_error(run_app("digitnet-eval", "--split validation"), 2, "--split");
}
