// aggregate.json and its terminal table: what `cgprof run --repeat N` adds to its directory.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"

namespace cgprof::report {
namespace {

using nlohmann::json;

std::string human(double v, const std::string& unit) {
  char buf[64];
  if (unit == "bytes") return format_size(static_cast<uint64_t>(v < 0 ? 0 : std::llround(v)));
  if (unit == "s") {
    if (v != 0 && std::fabs(v) < 1)
      std::snprintf(buf, sizeof buf, "%.4g ms", v * 1e3);
    else
      std::snprintf(buf, sizeof buf, "%.4g s", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.4g%s%s", v, unit == "%" || unit == "count" ? "" : " ",
                unit == "count" ? "" : unit.c_str());
  return buf;
}

}  // namespace

std::string aggregate_to_json(const analysis::Aggregate& a, const AggregateInfo& info) {
  json metrics = json::object();
  for (const auto& m : analysis::metric_catalog()) {
    auto it = a.metrics.find(m.name);
    if (it == a.metrics.end()) continue;
    const analysis::Summary& s = it->second;
    metrics[m.name] = {
        {"unit", m.unit}, {"n", s.n},     {"mean", s.mean},     {"stddev", s.stddev},
        {"min", s.min},   {"max", s.max}, {"ci_low", s.ci_low}, {"ci_high", s.ci_high}};
  }
  const std::size_t planned = info.planned ? info.planned : info.run_dirs.size();
  json j = {{"schema", "cgprof.aggregate/1"}, {"runs", a.runs},
            {"planned_runs", planned},        {"warmup", info.warmup},
            {"confidence_level", a.level},    {"run_dirs", info.run_dirs},
            {"labels", info.labels},          {"device", info.device},
            {"command", info.command},        {"metrics", std::move(metrics)}};
  return j.dump(2) + "\n";
}

std::string format_aggregate(const analysis::Aggregate& a) {
  std::string out;
  char line[256];
  std::snprintf(
      line, sizeof line, "%-18s %24s %12s %12s %12s\n", "metric",
      (std::to_string(static_cast<int>(std::lround(a.level * 100))) + "% CI of mean").c_str(), "sd",
      "min", "max");
  out += line;
  for (const auto& m : analysis::metric_catalog()) {
    auto it = a.metrics.find(m.name);
    if (it == a.metrics.end()) continue;
    const auto& s = it->second;
    const std::string ci = human(s.mean, m.unit) + " ± " + human(s.ci_high - s.mean, m.unit);
    std::snprintf(line, sizeof line, "%-18s %24s %12s %12s %12s\n", m.name, ci.c_str(),
                  human(s.stddev, m.unit).c_str(), human(s.min, m.unit).c_str(),
                  human(s.max, m.unit).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "(%zu runs)\n", a.runs);
  return out + line;
}

}  // namespace cgprof::report
