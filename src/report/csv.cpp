// Samples as CSV, for spreadsheets and pandas.
#include <cinttypes>
#include <cstdio>

#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

// RFC 4180: quote a field that contains a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string to_samples_csv(const std::vector<ReportRun>& runs) {
  const bool multi = runs.size() > 1;
  // Only the columns some run sampled (--sample): a group left out was never read, and a column
  // of zeros would look like a measurement.
  unsigned groups = 0;
  for (const auto& run : runs)  // 0: a run.json that does not say (older): every group
    groups |= run.result.sampler.groups ? run.result.sampler.groups : kSampleAll;
  const std::vector<unsigned> columns = sample_fields_for(groups);
  std::string out;
  if (multi) out += "run,";
  out += "t_s";
  for (unsigned i : columns) out += std::string(",") + kSampleFieldNames[i];
  out += "\n";
  char buf[32];
  for (const auto& run : runs) {
    const std::string prefix = multi ? csv_field(run.name) + "," : "";
    for (const Sample& s : run.samples) {
      out += prefix;
      const uint64_t rel = s.t_ns >= run.start_monotonic_ns ? s.t_ns - run.start_monotonic_ns : 0;
      std::snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, rel / 1000000000u,
                    (rel % 1000000000u) / 1000u);
      out += buf;
      const auto* fields = reinterpret_cast<const uint64_t*>(&s);
      for (unsigned i : columns) {
        std::snprintf(buf, sizeof buf, ",%" PRIu64, fields[i]);
        out += buf;
      }
      out += "\n";
    }
  }
  return out;
}

std::string to_phases_csv(const std::vector<ReportRun>& runs) {
  std::string out =
      "run,phase,count,closed_at_exit,wall_s,wall_min_s,wall_mean_s,wall_p50_s,wall_p90_s,"
      "wall_p99_s,wall_max_s,wall_stddev_s,cpu_s,cpu_mean_s,cpu_p50_s,cpu_p99_s,throttled_s,"
      "memory_peak_bytes,io_read_bytes,io_write_bytes\n";
  char buf[64];
  auto num = [&](double v) {
    std::snprintf(buf, sizeof buf, ",%.9g", v);
    return std::string(buf);
  };
  auto opt = [&](const auto& v) { return v ? num(static_cast<double>(*v)) : std::string(","); };
  for (const auto& run : runs) {
    if (!run.result.phases) continue;
    for (const PhaseStats& p : run.result.phases->phases) {
      out += csv_field(run.name) + "," + csv_field(p.name) + "," + std::to_string(p.count) + "," +
             std::to_string(p.closed_at_exit) + num(p.wall_seconds);
      for (double v : {p.wall.min, p.wall.mean, p.wall.p50, p.wall.p90, p.wall.p99, p.wall.max,
                       p.wall.stddev})
        out += num(v);
      out += opt(p.cpu_seconds);
      if (p.cpu) {
        out += num(p.cpu->mean) + num(p.cpu->p50) + num(p.cpu->p99);
      } else {
        out += ",,,";
      }
      out += opt(p.throttled_seconds) + opt(p.memory_peak_bytes) + opt(p.io_read_bytes) +
             opt(p.io_write_bytes) + "\n";
    }
  }
  return out;
}

}  // namespace cgprof::report
