// Least-squares calibration fits and prediction intervals.
#include <cmath>
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
