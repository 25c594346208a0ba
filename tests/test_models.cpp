#include <gtest/gtest.h>
#include <torch/torch.h>

#include "digitnet/models.h"

TEST(MnistNetTest, ForwardGivesTenLogitsPerImage) {
  torch::manual_seed(0);
  digitnet::MnistNet net;
  net->eval();
  const auto out = net->forward(torch::rand({4, 1, 28, 28}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 10}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(MnistNetTest, WidthFollowsOptions) {
  digitnet::MnistNet small(digitnet::MnistNetOptions{8, 16});
  digitnet::MnistNet big;
  EXPECT_LT(digitnet::count_parameters(*small), digitnet::count_parameters(*big));
  EXPECT_EQ(small->forward(torch::zeros({2, 1, 28, 28})).size(1), 10);
}

TEST(MnistNetTest, RejectsWrongInputShapeAndOptions) {
  digitnet::MnistNet net;
  EXPECT_THROW(net->forward(torch::zeros({2, 28, 28})), std::invalid_argument);
  EXPECT_THROW(net->forward(torch::zeros({2, 1, 32, 32})), std::invalid_argument);
  EXPECT_THROW(digitnet::MnistNet(digitnet::MnistNetOptions{0}), std::invalid_argument);
  digitnet::MnistNetOptions bad;
  bad.dropout = 1.5;
  EXPECT_THROW(digitnet::MnistNet{bad}, std::invalid_argument);
}

TEST(MnistNetTest, DropoutOnlyActsInTraining) {
  torch::manual_seed(1);
  digitnet::MnistNet net;
  const auto x = torch::rand({8, 1, 28, 28});
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
}
