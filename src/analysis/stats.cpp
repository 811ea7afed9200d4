// Descriptive statistics for repeated runs.
#include <algorithm>
#include <cmath>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {

double mean(std::span<const double> v) {
  if (v.empty()) return 0;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double sample_stddev(std::span<const double> v) {
  if (v.size() < 2) return 0;
  // Two passes: the one-pass Σx² - n·x̄² formula cancels badly for large, close values
  // (wall times in µs of repeated runs are exactly that).
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double min(std::span<const double> v) {
  if (v.empty()) return 0;
  return *std::min_element(v.begin(), v.end());
}

double max(std::span<const double> v) {
  if (v.empty()) return 0;
  return *std::max_element(v.begin(), v.end());
}

Summary summarize(std::span<const double> v, double level) {
  if (v.empty()) throw Error("summarize: no values");
  if (!(level > 0 && level < 1)) throw Error("summarize: confidence level must be in (0, 1)");
  Summary s;
  s.n = v.size();
  s.mean = mean(v);
  s.stddev = sample_stddev(v);
  s.min = min(v);
  s.max = max(v);
  s.level = level;
  s.ci_low = s.ci_high = s.mean;
  if (s.n >= 2) {
    const double t = student_t_quantile(1 - (1 - level) / 2, static_cast<double>(s.n - 1));
    const double half = t * s.stddev / std::sqrt(static_cast<double>(s.n));
    s.ci_low = s.mean - half;
    s.ci_high = s.mean + half;
  }
  return s;
}

}  // namespace cgprof::analysis
