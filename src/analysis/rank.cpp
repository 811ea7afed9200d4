// Rank correlation: does cgprof order models the way the device does?
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {
namespace {

void check_pair(std::span<const double> x, std::span<const double> y, const char* what) {
  if (x.size() != y.size())
    throw Error(std::string(what) + ": the two rankings have different sizes (" +
                std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
  if (x.size() < 2) throw Error(std::string(what) + ": needs at least 2 items in each ranking");
}

}  // namespace

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    // Positions i..j (0-based) hold ranks i+1..j+1; each gets their average.
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = avg;
    i = j + 1;
  }
  return ranks;
}

double pearson(std::span<const double> x, std::span<const double> y) {
  check_pair(x, y, "pearson correlation");
  const double mx = mean(x), my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double spearman_rho(std::span<const double> x, std::span<const double> y) {
  check_pair(x, y, "spearman rho");
  const auto rx = average_ranks(x), ry = average_ranks(y);
  return pearson(rx, ry);
}

double kendall_tau_b(std::span<const double> x, std::span<const double> y) {
  check_pair(x, y, "kendall tau");
  // O(n²) pair count: rankings here are tens of models, never millions.
  double concordant = 0, discordant = 0, ties_x = 0, ties_y = 0;
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) {
        ++ties_x;
        ++ties_y;
      } else if (dx == 0) {
        ++ties_x;
      } else if (dy == 0) {
        ++ties_y;
      } else if ((dx > 0) == (dy > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double n0 = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  const double denom = std::sqrt((n0 - ties_x) * (n0 - ties_y));
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

}  // namespace cgprof::analysis
