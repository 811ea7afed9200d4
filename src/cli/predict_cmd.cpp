// `cgprof predict --device PROFILE RUN...`: on-device values from a profile's calibration,
// with a 95% prediction interval.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgprof/analysis.hpp"
#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "commands.hpp"

namespace cgprof::cli {
namespace {

using nlohmann::json;

struct PredictArgs {
  std::string device;
  std::vector<std::string> paths, metrics;
  std::string format = "table";
  double level = 0.95;
};

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.5g", v);
  return b;
}

std::string item_name(const report::LoadedRun& r) {
  std::string k = analysis::label_key(r.result.labels);
  if (!k.empty()) return k;
  std::string d = r.dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto p = d.rfind('/');
  return p == std::string::npos ? d : d.substr(p + 1);
}

void run_predict(const PredictArgs& a) {
  const DeviceProfile profile = find_device_profile(a.device);
  if (profile.calibration.empty())
    throw Error("predict: device profile " + profile.name + " (" + profile.source +
                ") has no calibration; run cgprof calibrate first");
  for (const auto& m : a.metrics) {
    analysis::find_metric(m);
    if (!profile.calibration.count(m))
      throw Error("predict: profile " + profile.name + " has no calibration for " + m);
  }
  const auto runs = report::load_runs(a.paths);
  // Repeats of one item are averaged before predicting.
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  std::vector<std::string> order;
  for (const auto& r : runs) {
    const std::string item = item_name(r);
    if (!values.count(item)) order.push_back(item);
    for (const auto& [k, v] : analysis::run_metrics(r.result)) values[item][k].push_back(v);
  }
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "%-30s %-14s %12s %12s   %s\n", "item", "metric", "cgprof",
                "device", (num(a.level * 100) + "% prediction interval").c_str());
  text += line;
  json arr = json::array();
  for (const auto& item : order) {
    for (const auto& [metric, fit] : profile.calibration) {
      if (!a.metrics.empty() &&
          std::find(a.metrics.begin(), a.metrics.end(), metric) == a.metrics.end())
        continue;
      auto it = values[item].find(metric);
      if (it == values[item].end()) continue;
      const double x = analysis::mean(it->second);
      // Profiles calibrated before x_mean/x_sxx were stored lack the leverage term; the
      // interval is then s·√(1 + 1/n): right near the calibration data, too narrow far from it.
      analysis::Interval p;
      if (fit.x_sxx > 0) {
        p = analysis::predict(fit.points, fit.slope, fit.intercept, fit.residual_stddev, fit.x_mean,
                              fit.x_sxx, x, a.level);
      } else {
        p.value = p.low = p.high = fit.slope * x + fit.intercept;
        if (fit.points > 2 && fit.residual_stddev > 0) {
          const double t = analysis::student_t_quantile(1 - (1 - a.level) / 2, fit.points - 2);
          const double half = t * fit.residual_stddev * std::sqrt(1 + 1.0 / fit.points);
          p.low = p.value - half;
          p.high = p.value + half;
        }
      }
      const char* unit = analysis::find_metric(metric).unit;
      std::snprintf(line, sizeof line, "%-30s %-14s %12s %12s   [%s, %s] %s\n",
                    escape_control(item).c_str(),
                    metric.c_str(), num(x).c_str(), num(p.value).c_str(), num(p.low).c_str(),
                    num(p.high).c_str(), unit);
      text += line;
      arr.push_back({{"item", item},
                     {"metric", metric},
                     {"unit", unit},
                     {"cgprof", x},
                     {"runs", it->second.size()},
                     {"predicted", p.value},
                     {"low", p.low},
                     {"high", p.high},
                     {"level", a.level},
                     {"fit_points", fit.points},
                     {"fit_r2", fit.r2}});
    }
  }
  if (arr.empty())
    throw Error("predict: none of the runs has a metric the profile is calibrated for");
  const std::string out =
      a.format == "json" ? json({{"device", profile.name}, {"predictions", arr}}).dump(2) + "\n"
                         : text;
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void add_predict_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Predict on-device values of runs from a calibrated device profile");
  cmd->add_option("--device,-d", args->device, "Calibrated device profile (NAME or FILE)")
      ->required()
      ->type_name("PROFILE");
  cmd->add_option("results", args->paths, "Result directories")->required()->type_name("RUN");
  cmd->add_option("--metric,-m", args->metrics,
                  "Only these metrics (default: every calibrated one)")
      ->delimiter(',')
      ->type_name("METRIC");
  cmd->add_option("--level", args->level, "Prediction interval level")
      ->check(CLI::Range(0.5, 0.999))
      ->capture_default_str();
  cmd->add_option("--format", args->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args, &out] {
    run_predict(*args);
    out.exit_code = 0;
  });
}

}  // namespace cgprof::cli
