// Student t quantiles against published table values and closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof::analysis;

// Two-sided 95% critical values, from any statistics table (e.g. NIST/SEMATECH
// e-Handbook 1.3.6.7.2).
TEST(StudentT, QuantileMatchesTableAt975) {
  struct Row {
    double df, t;
  } rows[] = {{1, 12.7062047},  {2, 4.30265273},  {3, 3.18244631},  {4, 2.77644511},
              {5, 2.57058184},  {6, 2.44691185},  {7, 2.36462425},  {8, 2.30600414},
              {9, 2.26215716},  {10, 2.22813885}, {15, 2.13144955}, {20, 2.08596345},
              {25, 2.05953855}, {29, 2.04522964}, {30, 2.04227246}, {40, 2.02107539},
              {60, 2.00029782}, {120, 1.97993038}};
  for (const auto& r : rows)
    EXPECT_NEAR(student_t_quantile(0.975, r.df), r.t, 1e-7) << "df " << r.df;
}

TEST(StudentT, QuantileOtherLevels) {
  EXPECT_NEAR(student_t_quantile(0.95, 1), 6.31375151, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.995, 10), 3.16927267, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.9, 5), 1.47588405, 1e-7);
}

TEST(StudentT, LargeDfApproachesNormal) {
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.95996398, 1e-6);
}

TEST(StudentT, ClosedFormsForDf1And2) {
  for (double p : {0.6, 0.75, 0.9, 0.975, 0.999}) {
    // df 1 is the Cauchy distribution.
    EXPECT_NEAR(student_t_quantile(p, 1), std::tan(std::numbers::pi * (p - 0.5)),
                1e-8 * std::tan(std::numbers::pi * (p - 0.5)));
    // df 2: t = (2p - 1) / sqrt(2 p (1 - p)).
    EXPECT_NEAR(student_t_quantile(p, 2), (2 * p - 1) / std::sqrt(2 * p * (1 - p)), 1e-9);
  }
}

TEST(StudentT, SymmetricAndCdfInvertsQuantile) {
  EXPECT_DOUBLE_EQ(student_t_quantile(0.5, 3), 0);
  EXPECT_NEAR(student_t_quantile(0.025, 7), -student_t_quantile(0.975, 7), 1e-12);
  for (double df : {1.0, 2.5, 7.0, 31.0})
    for (double p : {0.01, 0.3, 0.8, 0.995})
      EXPECT_NEAR(student_t_cdf(student_t_quantile(p, df), df), p, 1e-11);
}

TEST(StudentT, RejectsOutOfRangeArguments) {
  EXPECT_THROW(student_t_quantile(0, 3), cgprof::Error);
  EXPECT_THROW(student_t_quantile(1, 3), cgprof::Error);
  EXPECT_THROW(student_t_quantile(0.9, 0), cgprof::Error);
}

TEST(IncompleteBeta, ClosedForms) {
  for (double x : {0.0, 0.1, 0.37, 0.5, 0.92, 1.0}) {
    EXPECT_NEAR(incomplete_beta(1, 1, x), x, 1e-14);                      // uniform
    EXPECT_NEAR(incomplete_beta(3, 1, x), x * x * x, 1e-14);              // I_x(a,1) = x^a
    EXPECT_NEAR(incomplete_beta(1, 2, x), 1 - (1 - x) * (1 - x), 1e-14);  // I_x(1,b) = 1-(1-x)^b
  }
  EXPECT_NEAR(incomplete_beta(4.5, 4.5, 0.5), 0.5, 1e-14);  // symmetric
}
