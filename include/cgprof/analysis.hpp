// Statistics over many runs: summaries with confidence intervals, least-squares calibration
// fits with prediction intervals, and rank correlation between two rankings. Pure functions of
// numbers; nothing here reads files.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace cgprof::analysis {

double mean(std::span<const double> v);
// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double sample_stddev(std::span<const double> v);
double min(std::span<const double> v);
double max(std::span<const double> v);

// Student t distribution with `df` degrees of freedom (df > 0, need not be an integer).
double student_t_cdf(double t, double df);
// The t with P(T <= t) = p, for 0 < p < 1. Accurate to ~1e-10 for every df.
double student_t_quantile(double p, double df);

// Regularized incomplete beta function I_x(a, b), 0 <= x <= 1.
double incomplete_beta(double a, double b, double x);

struct Summary {
  std::size_t n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;
  // Two-sided confidence interval of the mean, mean ± t(1-(1-level)/2, n-1) · s/√n.
  // For n < 2 it collapses to the mean (no spread is known).
  double ci_low = 0, ci_high = 0;
  double level = 0.95;
};

// Throws cgprof::Error when v is empty.
Summary summarize(std::span<const double> v, double level = 0.95);

// Ordinary least squares y ≈ slope·x + intercept.
struct LinearFit {
  std::size_t n = 0;
  double slope = 0, intercept = 0;
  double r2 = 0;               // 1 - SSE/SST; 1 when y is constant and fitted exactly
  double residual_stddev = 0;  // √(SSE/(n-2)); 0 when n <= 2
  double x_mean = 0;
  double sxx = 0;                 // Σ(x - x̄)²
  std::vector<double> residuals;  // y_i - ŷ_i, in input order
  std::size_t worst = 0;          // index of the largest |residual|
};

// Needs n >= 2 and at least two distinct x; throws cgprof::Error otherwise.
LinearFit fit_linear(std::span<const double> x, std::span<const double> y);

struct Interval {
  double value = 0, low = 0, high = 0;
};

// ŷ(x0) with the prediction interval for one new observation:
// ŷ ± t(1-(1-level)/2, n-2) · s · √(1 + 1/n + (x0 - x̄)²/Sxx). For n <= 2 the interval is the
// point (nothing is known about the scatter).
Interval predict(std::size_t n, double slope, double intercept, double residual_stddev,
                 double x_mean, double sxx, double x0, double level = 0.95);
inline Interval predict(const LinearFit& f, double x0, double level = 0.95) {
  return predict(f.n, f.slope, f.intercept, f.residual_stddev, f.x_mean, f.sxx, x0, level);
}

// Ranks 1..n, ties get the average of the ranks they span (1, 2.5, 2.5, 4).
std::vector<double> average_ranks(std::span<const double> v);

// Kendall's tau-b (tie-corrected). Needs equal sizes >= 2; NaN when one side is all ties.
double kendall_tau_b(std::span<const double> x, std::span<const double> y);
// Spearman's rho: Pearson correlation of the average ranks. Same preconditions.
double spearman_rho(std::span<const double> x, std::span<const double> y);
// Pearson correlation coefficient.
double pearson(std::span<const double> x, std::span<const double> y);

}  // namespace cgprof::analysis
