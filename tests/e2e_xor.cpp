// End-to-end runs of the real digitnet-xor binary.
#include <gtest/gtest.h>

#include <regex>

#include "support.h"

using digitnet::test::run_app;
using digitnet::test::TempDir;

namespace {

// The number after "key": in a one-line JSON object.
double json_number(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\": ([-0-9.eE+]+)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) return std::nan("");
  return std::stod(m[1]);
}

void expect_one_line_error(const digitnet::test::AppResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.err.substr(r.err.find("error:") == std::string::npos
                                                         ? 0
                                                         : r.err.rfind('\n', r.err.find("error:")) + 1)),
            1)
      << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

}  // namespace

TEST(XorAppTest, DefaultRunPrintsSummaryPredictionsWeightsAndHandCheck) {
  const auto r = run_app("digitnet-xor", "--seed 3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Total params: 9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("W1 ="), std::string::npos);
  EXPECT_NE(r.out.find("b2 ="), std::string::npos);
  EXPECT_NE(r.out.find("by hand"), std::string::npos);
  EXPECT_NE(r.out.find("below 1e-06"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.rfind("device: cpu", 0), 0u) << r.err;
}

TEST(XorAppTest, JsonHasPredictionsAndTinyManualDifference) {
  const auto r = run_app("digitnet-xor", "--hidden 6 --seed 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(digitnet::test::count_lines(r.out), 1) << r.out;
  EXPECT_LT(json_number(r.out, "manual_max_abs_diff"), 1e-6);
  EXPECT_NE(r.out.find("\"predictions\": ["), std::string::npos);
  EXPECT_NE(r.out.find("\"success\": true"), std::string::npos) << r.out;
}

TEST(XorAppTest, SavedNetworkPredictsIdenticallyAfterLoading) {
  TempDir dir;
  const auto file = (dir / "xor.pt").string();
  const auto trained = run_app("digitnet-xor", "--hidden 4 --seed 2 --json --save " + file);
  ASSERT_EQ(trained.code, 0) << trained.err;
  const auto loaded = run_app("digitnet-xor", "--json --load " + file);
  ASSERT_EQ(loaded.code, 0) << loaded.err;
  const auto preds = [](const std::string& s) {
    const auto a = s.find("\"predictions\""), b = s.find(']', a);
    return s.substr(a, b - a);
  };
  EXPECT_EQ(preds(trained.out), preds(loaded.out));
  EXPECT_NE(loaded.out.find("\"hidden\": 4"), std::string::npos);
}

TEST(XorAppTest, TrialsJsonHasSuccessRatePerHiddenSize) {
  const auto r = run_app("digitnet-xor", "--trials 50 --hidden 2,6 --epochs 400 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"success_rate\": {\"2\": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"6\": "), std::string::npos);
  EXPECT_EQ(json_number(r.out, "trials"), 50);
  const auto again = run_app("digitnet-xor", "--trials 50 --hidden 2,6 --epochs 400 --json");
  const auto rates = [](const std::string& s) {
    const auto a = s.find("\"success_rate\""), b = s.find('}', a);
    return s.substr(a, b - a);
  };
  EXPECT_EQ(rates(r.out), rates(again.out));
}

TEST(XorAppTest, TrialsTableShowsTutorialRates) {
  const auto r = run_app("digitnet-xor", "--trials 20 --hidden 2,4,6 --epochs 100");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("20%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("60%"), std::string::npos);
  EXPECT_NE(r.out.find("90%"), std::string::npos);
}

TEST(XorAppTest, HelpExitsZero) {
  const auto r = run_app("digitnet-xor", "--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--trials"), std::string::npos);
}

TEST(XorAppTest, BadInputGetsOneLineAndNonZeroExit) {
  expect_one_line_error(run_app("digitnet-xor", "--hidden 0"), 2, "--hidden");
  expect_one_line_error(run_app("digitnet-xor", "--epochs=-5"), 2, "--epochs");
  expect_one_line_error(run_app("digitnet-xor", "--epochs 99999999999"), 2, "--epochs");
  expect_one_line_error(run_app("digitnet-xor", "--hidden two"), 2, "--hidden");
  expect_one_line_error(run_app("digitnet-xor", "--hidden 2,4"), 2, "--trials");
  expect_one_line_error(run_app("digitnet-xor", "--trials 0"), 2, "--trials");
  expect_one_line_error(run_app("digitnet-xor", "--frobnicate"), 2, "frobnicate");
  expect_one_line_error(run_app("digitnet-xor", "--device tpu"), 2, "--device");
  expect_one_line_error(run_app("digitnet-xor", "--threads=-3"), 2, "--threads");
  expect_one_line_error(run_app("digitnet-xor", "--init glorot"), 2, "--init");
}

TEST(XorAppTest, CudaWithoutGpuIsAClearError) {
  const auto probe = run_app("digitnet-xor", "--epochs 1 --device auto");
  if (probe.err.find("device: cuda") != std::string::npos) GTEST_SKIP() << "this machine has CUDA";
  expect_one_line_error(run_app("digitnet-xor", "--device cuda"), 1, "CUDA");
}

TEST(XorAppTest, BadSavedFilesAreRefused) {
  TempDir dir;
  expect_one_line_error(run_app("digitnet-xor", "--load " + (dir / "missing.pt").string()), 1, "not found");
  digitnet::test::write_text(dir / "junk.pt", "junk");
  expect_one_line_error(run_app("digitnet-xor", "--load " + (dir / "junk.pt").string()), 1, "corrupt");

  const auto file = (dir / "six.pt").string();
  ASSERT_EQ(run_app("digitnet-xor", "--hidden 6 --epochs 5 --save " + file).code, 0);
  expect_one_line_error(run_app("digitnet-xor", "--hidden 2 --load " + file), 1, "6 hidden");

  const auto bytes = digitnet::test::read_text(file);
  digitnet::test::write_text(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  expect_one_line_error(run_app("digitnet-xor", "--load " + (dir / "cut.pt").string()), 1, "truncated");
}

TEST(XorAppTest, FailedRunIsRepeatedWithTheNextSeed) {
  // Seed 0 with 2 hidden neurons does not learn XOR; the app repeats it, as the tutorial advises.
  const auto once = run_app("digitnet-xor", "--seed 0 --retries 0 --json");
  ASSERT_EQ(once.code, 0) << once.err;
  EXPECT_NE(once.out.find("\"success\": false"), std::string::npos) << once.out;
  EXPECT_EQ(json_number(once.out, "attempts"), 1);
  const auto retried = run_app("digitnet-xor", "--seed 0 --json");
  ASSERT_EQ(retried.code, 0) << retried.err;
  EXPECT_NE(retried.out.find("\"success\": true"), std::string::npos) << retried.out;
  EXPECT_GT(json_number(retried.out, "attempts"), 1);
  EXPECT_EQ(json_number(retried.out, "seed"), json_number(retried.out, "attempts") - 1);
  EXPECT_NE(retried.err.find("repeating with seed 1"), std::string::npos) << retried.err;
}
