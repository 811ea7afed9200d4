// Named metrics of a run: the one vocabulary shared by compare, aggregate, calibrate and the
// calibration CSV, so a user can write "wall_time" everywhere.
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {

const std::vector<MetricInfo>& metric_catalog() {
  static const std::vector<MetricInfo> kMetrics = {
      {"wall_time", "s", "wall-clock time of the workload"},
      {"cpu_time", "s", "CPU time, user + system (cpu.stat usage_usec)"},
      {"cpu_user_time", "s", "user CPU time"},
      {"cpu_system_time", "s", "system CPU time"},
      {"avg_cores", "cores", "average CPU use, cpu_time / wall_time"},
      {"peak_cores", "cores", "peak CPU use over a 100 ms window"},
      {"throttled_time", "s", "time throttled by the CPU quota"},
      {"throttled_percent", "%", "CFS periods throttled, % of periods"},
      {"peak_memory", "bytes", "memory.peak"},
      {"avg_memory", "bytes", "time-weighted mean of memory.current"},
      {"peak_anon", "bytes", "peak anonymous memory"},
      {"peak_file", "bytes", "peak page cache"},
      {"major_faults", "count", "major page faults"},
      {"io_read", "bytes", "bytes read from block devices"},
      {"io_write", "bytes", "bytes written to block devices"},
      {"peak_pids", "count", "peak number of tasks"},
      {"cpu_pressure", "s", "time some task stalled waiting for CPU (PSI)"},
      {"memory_pressure", "s", "time some task stalled on memory (PSI)"},
      {"io_pressure", "s", "time some task stalled on I/O (PSI)"},
  };
  return kMetrics;
}

const MetricInfo& find_metric(std::string_view name) {
  for (const auto& m : metric_catalog())
    if (name == m.name) return m;
  std::string valid;
  for (const auto& m : metric_catalog()) valid += (valid.empty() ? "" : ", ") + std::string(m.name);
  throw Error("unknown metric \"" + std::string(name) + "\"; valid metrics: " + valid);
}

std::map<std::string, double> run_metrics(const RunResult& r) {
  const RunTotals& t = r.totals;
  std::map<std::string, double> m = {
      {"wall_time", r.wall_seconds},
      {"cpu_time", t.cpu_total_seconds},
      {"cpu_user_time", t.cpu_user_seconds},
      {"cpu_system_time", t.cpu_system_seconds},
      {"avg_cores", t.avg_cores},
      {"peak_cores", t.peak_cores_100ms},
      {"peak_memory", static_cast<double>(t.memory_peak_bytes)},
      {"avg_memory", t.memory_avg_bytes},
      {"peak_anon", static_cast<double>(t.anon_peak_bytes)},
      {"peak_file", static_cast<double>(t.file_peak_bytes)},
      {"major_faults", static_cast<double>(t.pgmajfault)},
      {"io_read", static_cast<double>(t.io_read_bytes)},
      {"io_write", static_cast<double>(t.io_write_bytes)},
      {"peak_pids", static_cast<double>(t.pids_peak)},
  };
  // Throttling only means something under a quota.
  if (r.quota_cores) {
    m["throttled_time"] = t.throttled_seconds;
    m["throttled_percent"] = t.throttled_percent_of_periods;
  }
  if (t.psi_measured) {
    m["cpu_pressure"] = t.cpu_pressure.some_seconds;
    m["memory_pressure"] = t.memory_pressure.some_seconds;
    m["io_pressure"] = t.io_pressure.some_seconds;
  }
  return m;
}

Aggregate aggregate(const std::vector<RunResult>& runs, double level) {
  Aggregate a;
  a.runs = runs.size();
  a.level = level;
  std::map<std::string, std::vector<double>> values;
  for (const auto& r : runs)
    for (const auto& [k, v] : run_metrics(r)) values[k].push_back(v);
  for (const auto& [k, v] : values) a.metrics[k] = summarize(v, level);
  return a;
}

}  // namespace cgprof::analysis
