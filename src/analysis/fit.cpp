// Least-squares calibration fits and prediction intervals.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {

LinearFit fit_linear(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    throw Error("linear fit: " + std::to_string(x.size()) + " x values but " +
                std::to_string(y.size()) + " y values");
  if (x.size() < 2)
    throw Error("linear fit: needs at least 2 points, got " + std::to_string(x.size()));
  LinearFit f;
  f.n = x.size();
  f.x_mean = mean(x);
  const double y_mean = mean(y);
  double sxy = 0, syy = 0;
  for (std::size_t i = 0; i < f.n; ++i) {
    const double dx = x[i] - f.x_mean, dy = y[i] - y_mean;
    f.sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(f.sxx > 0))
    throw Error("linear fit: all x values are equal (" + std::to_string(x[0]) +
                "); need at least two different cgprof values to fit a line");
  f.slope = sxy / f.sxx;
  f.intercept = y_mean - f.slope * f.x_mean;
  double sse = 0, worst_abs = -1;
  f.residuals.resize(f.n);
  for (std::size_t i = 0; i < f.n; ++i) {
    const double r = y[i] - (f.slope * x[i] + f.intercept);
    f.residuals[i] = r;
    sse += r * r;
    if (std::fabs(r) > worst_abs) {
      worst_abs = std::fabs(r);
      f.worst = i;
    }
  }
  f.r2 = syy > 0 ? 1 - sse / syy : 1;
  f.residual_stddev = f.n > 2 ? std::sqrt(sse / static_cast<double>(f.n - 2)) : 0;
  return f;
}

LeaveOneOut leave_one_out(std::span<const double> x, std::span<const double> y,
                          double band_pct) {
  if (x.size() != y.size())
    throw Error("leave-one-out: " + std::to_string(x.size()) + " x values but " +
                std::to_string(y.size()) + " y values");
  const std::size_t n = x.size();
  LeaveOneOut loo;
  loo.band_pct = band_pct;
  loo.predicted.resize(n);
  loo.pct_error.resize(n);
  std::vector<double> abs_pct;
  std::vector<double> xs, ys;
  for (std::size_t i = 0; i < n; ++i) {
    xs.clear();
    ys.clear();
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) {
        xs.push_back(x[j]);
        ys.push_back(y[j]);
      }
    // fit_linear refuses fewer than 2 points or a single x: then nothing predicts point i.
    if (xs.size() < 2 || std::all_of(xs.begin(), xs.end(), [&](double v) { return v == xs[0]; }))
      continue;
    const LinearFit f = fit_linear(xs, ys);
    const double p = f.slope * x[i] + f.intercept;
    loo.predicted[i] = p;
    if (y[i] == 0) continue;
    loo.pct_error[i] = 100 * (p - y[i]) / std::fabs(y[i]);
    abs_pct.push_back(std::fabs(*loo.pct_error[i]));
  }
  loo.evaluated = abs_pct.size();
  if (abs_pct.empty()) {
    loo.median_abs_pct_error = loo.share_within = std::numeric_limits<double>::quiet_NaN();
    return loo;
  }
  std::sort(abs_pct.begin(), abs_pct.end());
  const std::size_t m = abs_pct.size();
  loo.median_abs_pct_error =
      m % 2 ? abs_pct[m / 2] : (abs_pct[m / 2 - 1] + abs_pct[m / 2]) / 2;
  loo.share_within =
      static_cast<double>(std::count_if(abs_pct.begin(), abs_pct.end(),
                                        [&](double e) { return e <= band_pct; })) /
      static_cast<double>(m);
  return loo;
}

Interval predict(std::size_t n, double slope, double intercept, double residual_stddev,
                 double x_mean, double sxx, double x0, double level) {
  if (!(level > 0 && level < 1)) throw Error("predict: confidence level must be in (0, 1)");
  Interval r;
  r.value = slope * x0 + intercept;
  r.low = r.high = r.value;
  if (n <= 2 || !(sxx > 0)) return r;
  const double t = student_t_quantile(1 - (1 - level) / 2, static_cast<double>(n - 2));
  const double dx = x0 - x_mean;
  const double half =
      t * residual_stddev * std::sqrt(1 + 1 / static_cast<double>(n) + dx * dx / sxx);
  r.low = r.value - half;
  r.high = r.value + half;
  return r;
}

}  // namespace cgprof::analysis
