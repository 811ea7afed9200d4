// Descriptive statistics against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof::analysis;

// {2,4,4,4,5,5,7,9}: mean 5, Σ(x-5)² = 32, s = √(32/7).
TEST(Stats, MeanStddevMinMax) {
  std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(v), 5);
  EXPECT_NEAR(sample_stddev(v), std::sqrt(32.0 / 7), 1e-14);
  EXPECT_DOUBLE_EQ(min(v), 2);
  EXPECT_DOUBLE_EQ(max(v), 9);
}

TEST(Stats, StddevIsStableForLargeCloseValues) {
  // 1e9 + {1, 2, 3}: s = 1 exactly; a one-pass formula loses it to cancellation.
  std::vector<double> v{1e9 + 1, 1e9 + 2, 1e9 + 3};
  EXPECT_NEAR(sample_stddev(v), 1.0, 1e-9);
}

TEST(Stats, SummaryConfidenceIntervalUsesStudentT) {
  std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  auto s = summarize(v);
  EXPECT_EQ(s.n, 8u);
  // half width = t(0.975, 7) · s / √8 = 2.36462425 · 2.13808994 / 2.82842712
  EXPECT_NEAR(s.ci_high - s.mean, 1.78748792, 1e-7);
  EXPECT_NEAR(s.mean - s.ci_low, 1.78748792, 1e-7);
}

TEST(Stats, SummaryOfTwoValuesUsesDf1) {
  std::vector<double> v{10, 12};  // mean 11, s = √2, half = 12.7062 · √2 / √2
  auto s = summarize(v);
  EXPECT_NEAR(s.ci_low, 11 - 12.7062047, 1e-6);
  EXPECT_NEAR(s.ci_high, 11 + 12.7062047, 1e-6);
}

TEST(Stats, SingleValueHasNoSpread) {
  std::vector<double> v{3.5};
  auto s = summarize(v);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.ci_low, 3.5);
  EXPECT_EQ(s.ci_high, 3.5);
}

TEST(Stats, EmptyIsAnError) {
  std::vector<double> v;
  EXPECT_THROW(summarize(v), cgprof::Error);
}
