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

// Leave-one-out on (1,2), (2,4), (3,6), (4,9), worked by hand:
//  without point 1: slope 5/2, intercept -7/6 -> ŷ(1) = 4/3,   error (4/3 - 2)/2   = -33.33%
//  without point 2: slope 16/7, intercept -3/7 -> ŷ(2) = 29/7, error (29/7 - 4)/4  = +3.571%
//  without point 3: slope 33/14, intercept -1/2 -> ŷ(3) = 46/7, error (46/7 - 6)/6 = +9.524%
//  without point 4: slope 2, intercept 0 -> ŷ(4) = 8,          error (8 - 9)/9     = -11.11%
// |errors| sorted 3.571, 9.524, 11.11, 33.33: median (9.524 + 11.11)/2 = 10.3175; 2 of 4
// within ±10%.
TEST(Fit, LeaveOneOutHandWorked) {
  std::vector<double> x{1, 2, 3, 4}, y{2, 4, 6, 9};
  auto l = leave_one_out(x, y);
  ASSERT_EQ(l.predicted.size(), 4u);
  ASSERT_EQ(l.evaluated, 4u);
  EXPECT_NEAR(*l.predicted[0], 4.0 / 3, 1e-12);
  EXPECT_NEAR(*l.predicted[1], 29.0 / 7, 1e-12);
  EXPECT_NEAR(*l.predicted[2], 46.0 / 7, 1e-12);
  EXPECT_NEAR(*l.predicted[3], 8.0, 1e-12);
  EXPECT_NEAR(*l.pct_error[0], -100.0 / 3, 1e-10);
  EXPECT_NEAR(*l.pct_error[1], 100.0 / 28, 1e-10);
  EXPECT_NEAR(*l.pct_error[2], 400.0 / 42, 1e-10);
  EXPECT_NEAR(*l.pct_error[3], -100.0 / 9, 1e-10);
  EXPECT_NEAR(l.median_abs_pct_error, (400.0 / 42 + 100.0 / 9) / 2, 1e-10);
  EXPECT_DOUBLE_EQ(l.share_within, 0.5);
  // A wider band takes in the -11.1% point.
  EXPECT_DOUBLE_EQ(leave_one_out(x, y, 12).share_within, 0.75);
}

// Exact lines predict every left-out point exactly, whatever R² would say with 3 points.
TEST(Fit, LeaveOneOutOfAnExactLineIsZero) {
  std::vector<double> x{1, 2, 5}, y{3, 5, 11};
  auto l = leave_one_out(x, y);
  EXPECT_EQ(l.evaluated, 3u);
  EXPECT_NEAR(l.median_abs_pct_error, 0, 1e-12);
  EXPECT_DOUBLE_EQ(l.share_within, 1);
}

// With two points nothing is left to fit on; a y of 0 has a prediction but no % error; the
// others all at one x cannot be fitted.
TEST(Fit, LeaveOneOutUndefinedCases) {
  auto two = leave_one_out(std::vector<double>{1, 2}, std::vector<double>{1, 2});
  EXPECT_EQ(two.evaluated, 0u);
  EXPECT_FALSE(two.predicted[0].has_value());
  EXPECT_TRUE(std::isnan(two.median_abs_pct_error));
  EXPECT_TRUE(std::isnan(two.share_within));

  auto zero = leave_one_out(std::vector<double>{1, 2, 3}, std::vector<double>{0, 2, 4});
  ASSERT_TRUE(zero.predicted[0].has_value());
  EXPECT_NEAR(*zero.predicted[0], 0, 1e-12);
  EXPECT_FALSE(zero.pct_error[0].has_value());
  EXPECT_EQ(zero.evaluated, 2u);

  // Leaving out x=2 leaves two points at x=1.
  auto same_x = leave_one_out(std::vector<double>{1, 1, 2}, std::vector<double>{1, 2, 3});
  EXPECT_FALSE(same_x.predicted[2].has_value());
  EXPECT_TRUE(same_x.predicted[0].has_value());
  EXPECT_EQ(same_x.evaluated, 2u);

  EXPECT_THROW(leave_one_out(std::vector<double>{1, 2}, std::vector<double>{1}), cgprof::Error);
}
