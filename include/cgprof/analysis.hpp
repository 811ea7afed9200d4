// Statistics over many runs: summaries with confidence intervals, least-squares calibration
// fits with prediction intervals, and rank correlation between two rankings. Pure functions of
// numbers; nothing here reads files.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cgprof/result.hpp"

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

// Leave-one-out check of a line fit: each point i is predicted from the fit on all the others,
// and compared with its own y. This is how far a prediction for a model that was not in the
// calibration can be trusted, which R² (a fit's agreement with its own points) does not say.
struct LeaveOneOut {
  // Per point, in input order; nullopt where the others cannot be fitted (fewer than 2 of them,
  // or all at one x) and, for pct_error, where y is 0.
  std::vector<std::optional<double>> predicted;  // slope_-i · x_i + intercept_-i
  std::vector<std::optional<double>> pct_error;  // 100 · (predicted - y) / |y|
  std::size_t evaluated = 0;                     // points with a pct_error
  // Over the evaluated points; NaN when none was (n < 3).
  double median_abs_pct_error = 0;
  double share_within = 0;  // share (0..1) with |pct_error| <= band_pct
  double band_pct = 10;
};
// Same sizes as fit_linear (throws on a size mismatch); needs no minimum n.
LeaveOneOut leave_one_out(std::span<const double> x, std::span<const double> y,
                          double band_pct = 10);

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

// ---- metrics of a run (what compare, aggregate and calibrate work on) ----
struct MetricInfo {
  const char* name;  // "wall_time"
  const char* unit;  // "s", "bytes", "cores", "%", "count"
  const char* description;
};
// Every metric name, in a stable order.
const std::vector<MetricInfo>& metric_catalog();
// The metric named `name`; throws Error listing the valid names otherwise.
const MetricInfo& find_metric(std::string_view name);
// The metrics of one run by name; metrics a run could not measure (no PSI, no quota) are absent.
std::map<std::string, double> run_metrics(const RunResult& r);

// ---- repeats ----
struct Aggregate {
  std::size_t runs = 0;
  double level = 0.95;
  std::map<std::string, Summary> metrics;  // over the runs that have the metric
};
Aggregate aggregate(const std::vector<RunResult>& runs, double level = 0.95);

// ---- ranking ----
struct RankedItem {
  std::string key;           // label set, run name, ...
  Summary value;             // of the metric over the item's runs
  double ratio_to_best = 1;  // mean / best mean (best = lowest)
  unsigned rank = 1;         // 1 = best; equal means share a rank
};
// Lower is better for every metric cgprof ranks (time, memory, I/O). Sorted best first.
std::vector<RankedItem> rank_items(const std::map<std::string, std::vector<double>>& groups);

struct RankAgreement {
  std::vector<std::string> keys;  // items present in both, in key order
  std::vector<double> a, b;       // the two values of each key
  double kendall_tau = 0, spearman_rho = 0;
  std::vector<std::string> only_a, only_b;  // items left out because the other side lacks them
};
// Rank correlation of two sets of values over the keys they share (needs >= 2 common keys).
RankAgreement rank_agreement(const std::map<std::string, double>& a,
                             const std::map<std::string, double>& b);

// ---- on-device measurements (calibration CSV: label,metric,value) ----
struct Measurement {
  std::string label;   // "resnet18" or "model=resnet18" or "model=resnet18;batch=4"
  std::string metric;  // a metric_catalog() name
  double value = 0;    // in the metric's unit (s, bytes, ...)
  unsigned line = 0;   // 1-based line in the CSV, for error messages
};
// Header line optional ("label,metric,value"); '#' comments and blank lines skipped; fields may
// be double-quoted. Throws Error "SOURCE: line N: ..." on a malformed line or unknown metric.
std::vector<Measurement> parse_measurements_csv(std::string_view text, const std::string& source);

// Does a run with these labels (and run id / directory name) match a CSV label?
// "k=v[;k=v...]" must all be present in the labels; a bare word matches any label value, the
// run id or the directory's last path component.
bool label_matches(std::string_view csv_label, const std::map<std::string, std::string>& labels,
                   const std::string& run_id, const std::string& dir);

// ---- calibration: device ≈ slope · cgprof + intercept, per metric ----
struct RunPoint {
  std::string dir, run_id;
  std::map<std::string, std::string> labels;
  std::map<std::string, double> metrics;  // run_metrics()
};
struct CalibrationPoint {
  std::string label;     // as in the CSV
  double x = 0;          // cgprof: mean of the metric over the runs the label matches
  double y = 0;          // device: mean of the CSV values for the label
  std::size_t runs = 0;  // runs averaged into x
};
struct MetricCalibration {
  std::string metric;
  std::vector<CalibrationPoint> points;  // in CSV order of first appearance
  LinearFit fit;                         // residuals/worst index into `points`
  LeaveOneOut loo;                       // per point, in the order of `points`
};
// One fit per metric in the CSV. Throws Error naming the CSV line whose label matches no run
// (listing the labels the runs have), or a metric with fewer than 2 distinct points.
std::vector<MetricCalibration> calibrate(const std::vector<Measurement>& measured,
                                         const std::vector<RunPoint>& runs,
                                         const std::string& csv_name);

// The per-core speed factor that makes the emulated wall time match the device: runs made at
// `speed_used` took x seconds where the device took ≈ slope·x + intercept, so CPU-bound work
// needs a core `slope` times slower: speed_used / slope. Throws Error if slope <= 0.
double derived_core_speed(double speed_used, double wall_time_slope);

// "model=resnet18 batch=4" for a label set (sorted by key); "" when empty. `skip` keys are left
// out.
std::string label_key(const std::map<std::string, std::string>& labels,
                      const std::vector<std::string>& skip = {});

}  // namespace cgprof::analysis
