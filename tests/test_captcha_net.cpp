// CaptchaNet, CTC decoding and the CTC loss (models.h).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "digitnet/models.h"

namespace {

// Log-probabilities [T,11] where frame t puts probability `p` on labels[t] (10 = blank) and
// spreads the rest evenly.
torch::Tensor frames(const std::vector<int64_t>& labels, double p = 0.9) {
  auto probs = torch::full({int64_t(labels.size()), 11}, (1.0 - p) / 10.0);
  for (size_t t = 0; t < labels.size(); ++t) probs[int64_t(t)][labels[t]] = p;
  return probs.log();
}

}  // namespace

TEST(CaptchaNetTest, ForwardGivesLogProbsOverElevenClassesPerColumn) {
  torch::manual_seed(0);
  digitnet::CaptchaNet net;
  net->eval();
  const auto out = net->forward(torch::rand({3, 1, 32, 128}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{32, 3, 11}));
  EXPECT_EQ(net->time_steps(), 32);
  EXPECT_TRUE(torch::allclose(out.exp().sum(2), torch::ones({32, 3}), 1e-4, 1e-4));
}

TEST(CaptchaNetTest, StaysSmall) {
  digitnet::CaptchaNet net;
  EXPECT_LT(digitnet::count_parameters(*net), 1'000'000);
}

TEST(CaptchaNetTest, RejectsInputOfTheWrongSize) {
  digitnet::CaptchaNet net;
  EXPECT_THROW(net->forward(torch::rand({1, 1, 32, 100})), c10::Error);
}

TEST(CaptchaNetTest, RejectsBadOptions) {
  digitnet::CaptchaNetOptions o;
  o.height = 30;
  EXPECT_THROW(digitnet::CaptchaNet{o}, std::invalid_argument);
  o = {};
  o.width = 130;
  EXPECT_THROW(digitnet::CaptchaNet{o}, std::invalid_argument);
}

TEST(CtcDecodeTest, CollapsesRepeatsAndDropsBlanks) {
  const auto r = digitnet::ctc_decode(frames({10, 4, 4, 10, 2, 10, 10, 7, 7, 7}));
  EXPECT_EQ(r.text, "427");
  ASSERT_EQ(r.char_confidences.size(), 3u);
  for (const double c : r.char_confidences) EXPECT_NEAR(c, 0.9, 1e-5);
  EXPECT_NEAR(r.confidence, 0.9 * 0.9 * 0.9, 1e-5);
}

TEST(CtcDecodeTest, RepeatedDigitNeedsABlankBetween) {
  EXPECT_EQ(digitnet::ctc_decode(frames({3, 3, 10, 3, 10})).text, "33");
  EXPECT_EQ(digitnet::ctc_decode(frames({3, 3, 3})).text, "3");
}

TEST(CtcDecodeTest, CharConfidenceIsTheBestFrameOfThatDigit) {
  auto lp = frames({5, 5, 10}, 0.6);
  lp[1] = frames({5}, 0.95)[0];
  const auto r = digitnet::ctc_decode(lp);
  ASSERT_EQ(r.text, "5");
  EXPECT_NEAR(r.char_confidences[0], 0.95, 1e-5);
}

TEST(CtcDecodeTest, EmptyReadingHasZeroConfidence) {
  const auto r = digitnet::ctc_decode(frames({10, 10, 10}));
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.confidence, 0.0);
}

TEST(CtcDecodeTest, LengthConstraintPicksTheBestAllowedReading) {
  // Greedy reads "12" (the 3 at frame 4 is weaker than blank); with exactly 3 digits the
  // weak 3 is the best third digit.
  auto lp = frames({1, 10, 2, 10, 10});
  auto weak = torch::full({11}, 0.05);
  weak[10] = 0.45;
  weak[3] = 0.4;
  lp[3] = (weak / weak.sum()).log();
  EXPECT_EQ(digitnet::ctc_decode(lp).text, "12");
  const auto r = digitnet::ctc_decode(lp, 3, 3);
  EXPECT_EQ(r.text, "123");
  EXPECT_LT(r.char_confidences[2], 0.5);
  EXPECT_EQ(digitnet::ctc_decode(lp, 1, 1).text.size(), 1u);
  EXPECT_EQ(digitnet::ctc_decode(lp, 2, 4).text, "12");
}

TEST(CtcDecodeTest, UnconstrainedDynamicProgramMatchesGreedy) {
  torch::manual_seed(3);
  for (int i = 0; i < 20; ++i) {
    const auto lp = torch::log_softmax(torch::randn({16, 11}) * 3, 1);
    EXPECT_EQ(digitnet::ctc_decode(lp).text, digitnet::ctc_decode(lp, 0, 16).text);
  }
}

TEST(CtcDecodeTest, ImpossibleConstraintIsRejected) {
  EXPECT_THROW(digitnet::ctc_decode(frames({1, 2, 3}), 5, 6), std::invalid_argument);
  EXPECT_THROW(digitnet::ctc_decode(frames({1, 2, 3}), 4, 2), std::invalid_argument);
  EXPECT_THROW(digitnet::ctc_decode(torch::zeros({3, 10})), std::invalid_argument);
}

TEST(CtcDecodeTest, BatchDecodesEachSequence) {
  const auto lp = torch::stack({frames({1, 10, 2, 2}), frames({9, 9, 10, 0})}, 1);  // [T,B,11]
  const auto r = digitnet::ctc_decode_batch(lp);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].text, "12");
  EXPECT_EQ(r[1].text, "90");
}

TEST(CaptchaCtcLossTest, FallsWhenFittingOneBatch) {
  torch::manual_seed(0);
  digitnet::CaptchaNetOptions o;
  o.channels = 4;
  o.hidden = 16;
  o.dropout = 0.0;
  digitnet::CaptchaNet net(o);
  const auto images = torch::rand({4, 1, 32, 128});
  const std::vector<std::string> texts = {"1234", "5678", "90", "111"};
  torch::optim::Adam opt(net->parameters(), 1e-2);
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    auto loss = digitnet::captcha_ctc_loss(net->forward(images), texts);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_TRUE(std::isfinite(first));
  EXPECT_LT(last, first * 0.8);
}

TEST(CaptchaCtcLossTest, RejectsNonDigitTexts) {
  const auto lp = torch::log_softmax(torch::randn({8, 1, 11}), 2);
  EXPECT_THROW(digitnet::captcha_ctc_loss(lp, {"12a"}), std::invalid_argument);
  EXPECT_THROW(digitnet::captcha_ctc_loss(lp, {"1", "2"}), std::invalid_argument);
}
