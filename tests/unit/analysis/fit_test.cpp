// Least squares against Anscombe's quartet and a hand-worked 3-point fit.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof::analysis;

// Anscombe (1973), "Graphs in statistical analysis": all four sets share
// slope 0.500, intercept 3.00, R² 0.67 (0.6665 more precisely).
TEST(Fit, AnscombeQuartetSharesOneLine) {
  const std::vector<double> x123{10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5};
  const std::vector<double> x4{8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8};
  const std::vector<std::vector<double>> ys{
      {8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68},
      {9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74},
      {7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73},
      {6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89}};
  for (int k = 0; k < 4; ++k) {
    auto f = fit_linear(k == 3 ? x4 : x123, ys[k]);
    EXPECT_NEAR(f.slope, 0.500, 1e-3) << "set " << k + 1;
    EXPECT_NEAR(f.intercept, 3.00, 3e-3) << "set " << k + 1;
    EXPECT_NEAR(f.r2, 0.6665, 1e-3) << "set " << k + 1;
    EXPECT_EQ(f.n, 11u);
  }
  // Set III has one outlier (x=13, y=12.74), the point a calibration report must flag.
  auto f3 = fit_linear(x123, ys[2]);
  EXPECT_EQ(f3.worst, 2u);
}

// (1,2), (2,4), (3,5): x̄ 2, ȳ 11/3, Sxx 2, Sxy 3 -> slope 3/2, intercept 2/3,
// residuals -1/6, 1/3, -1/6, SSE 1/6, SST 42/9 -> R² 27/28, s = √(1/6).
TEST(Fit, HandWorkedThreePoints) {
  std::vector<double> x{1, 2, 3}, y{2, 4, 5};
  auto f = fit_linear(x, y);
  EXPECT_NEAR(f.slope, 1.5, 1e-14);
  EXPECT_NEAR(f.intercept, 2.0 / 3, 1e-14);
  EXPECT_NEAR(f.r2, 27.0 / 28, 1e-14);
  EXPECT_NEAR(f.residual_stddev, std::sqrt(1.0 / 6), 1e-14);
  ASSERT_EQ(f.residuals.size(), 3u);
  EXPECT_NEAR(f.residuals[0], -1.0 / 6, 1e-14);
  EXPECT_NEAR(f.residuals[1], 1.0 / 3, 1e-14);
  EXPECT_NEAR(f.residuals[2], -1.0 / 6, 1e-14);
  EXPECT_EQ(f.worst, 1u);
  EXPECT_DOUBLE_EQ(f.x_mean, 2);
  EXPECT_DOUBLE_EQ(f.sxx, 2);
}

// ŷ(4) = 6 + 2/3; half width t(0.975,1) · √(1/6) · √(1 + 1/3 + (4-2)²/2) = 9.47064584.
TEST(Fit, PredictionIntervalForNewX) {
  std::vector<double> x{1, 2, 3}, y{2, 4, 5};
  auto p = predict(fit_linear(x, y), 4);
  EXPECT_NEAR(p.value, 20.0 / 3, 1e-12);
  EXPECT_NEAR(p.high - p.value, 9.47064584, 1e-6);
  EXPECT_NEAR(p.value - p.low, 9.47064584, 1e-6);
}

TEST(Fit, PredictionIntervalIsNarrowestAtTheMeanOfX) {
  std::vector<double> x{1, 2, 3, 4, 5}, y{1.1, 1.9, 3.2, 3.9, 5.1};
  auto f = fit_linear(x, y);
  auto at_mean = predict(f, 3), far = predict(f, 10);
  EXPECT_LT(at_mean.high - at_mean.low, far.high - far.low);
}

TEST(Fit, ExactLineHasZeroResidualsAndR2One) {
  std::vector<double> x{0, 1, 2, 3}, y{1, 3, 5, 7};
  auto f = fit_linear(x, y);
  EXPECT_NEAR(f.slope, 2, 1e-14);
  EXPECT_NEAR(f.intercept, 1, 1e-14);
  EXPECT_NEAR(f.r2, 1, 1e-14);
  auto p = predict(f, 10);
  EXPECT_NEAR(p.value, 21, 1e-12);
  EXPECT_NEAR(p.high - p.low, 0, 1e-9);
}

TEST(Fit, RejectsDegenerateInput) {
  std::vector<double> one{1}, two{1, 2}, same{3, 3, 3}, y3{1, 2, 3};
  EXPECT_THROW(fit_linear(one, one), cgprof::Error);
  EXPECT_THROW(fit_linear(two, y3), cgprof::Error);
  EXPECT_THROW(fit_linear(same, y3), cgprof::Error);
}
