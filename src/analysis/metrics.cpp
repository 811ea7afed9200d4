// Named metrics of a run: the one vocabulary shared by compare, aggregate, calibrate and the
// calibration CSV, so a user can write "wall_time" everywhere.
#include <deque>
#include <mutex>
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

namespace {

// "phase.NAME.STAT": a statistic of phase NAME (run.json phases.by_name).
struct PhaseStat {
  const char* stat;
  const char* unit;
  const char* description;
  std::optional<double> (*get)(const PhaseStats&);
};
template <class T>
std::optional<double> as_double(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}
#define CGPROF_WALL(field) [](const PhaseStats& p) { return std::optional<double>(p.wall.field); }
#define CGPROF_CPU(field) \
  [](const PhaseStats& p) { return p.cpu ? std::optional<double>(p.cpu->field) : std::nullopt; }
const PhaseStat kPhaseStats[] = {
    {"count", "count", "occurrences of the phase",
     [](const PhaseStats& p) { return std::optional<double>(static_cast<double>(p.count)); }},
    {"wall_total", "s", "wall time in the phase, all occurrences",
     [](const PhaseStats& p) { return std::optional<double>(p.wall_seconds); }},
    {"wall_mean", "s", "mean wall time per occurrence", CGPROF_WALL(mean)},
    {"wall_min", "s", "shortest occurrence", CGPROF_WALL(min)},
    {"wall_p50", "s", "median wall time per occurrence", CGPROF_WALL(p50)},
    {"wall_p90", "s", "90th percentile of wall time per occurrence", CGPROF_WALL(p90)},
    {"wall_p99", "s", "99th percentile of wall time per occurrence", CGPROF_WALL(p99)},
    {"wall_max", "s", "longest occurrence", CGPROF_WALL(max)},
    {"wall_stddev", "s", "standard deviation of wall time per occurrence", CGPROF_WALL(stddev)},
    {"cpu_total", "s", "CPU time in the phase",
     [](const PhaseStats& p) { return p.cpu_seconds; }},
    {"cpu_mean", "s", "mean CPU time per occurrence", CGPROF_CPU(mean)},
    {"cpu_p50", "s", "median CPU time per occurrence", CGPROF_CPU(p50)},
    {"cpu_p90", "s", "90th percentile of CPU time per occurrence", CGPROF_CPU(p90)},
    {"cpu_p99", "s", "99th percentile of CPU time per occurrence", CGPROF_CPU(p99)},
    {"cpu_max", "s", "most CPU time of one occurrence", CGPROF_CPU(max)},
    {"throttled_time", "s", "time throttled in the phase",
     [](const PhaseStats& p) { return p.throttled_seconds; }},
    {"peak_memory", "bytes", "peak memory.current in the phase",
     [](const PhaseStats& p) { return as_double(p.memory_peak_bytes); }},
    {"io_read", "bytes", "bytes read in the phase",
     [](const PhaseStats& p) { return as_double(p.io_read_bytes); }},
    {"io_write", "bytes", "bytes written in the phase",
     [](const PhaseStats& p) { return as_double(p.io_write_bytes); }},
};
#undef CGPROF_WALL
#undef CGPROF_CPU

// Phase metric names are made up by users: each one found is kept for the life of the process,
// so MetricInfo can point at it like at the catalog's literals.
const MetricInfo& interned_phase_metric(const std::string& name, const PhaseStat& s) {
  static std::mutex mu;
  static std::deque<std::pair<std::string, MetricInfo>> known;
  std::lock_guard<std::mutex> g(mu);
  for (const auto& [n, info] : known)
    if (n == name) return info;
  auto& entry = known.emplace_back(name, MetricInfo{});
  entry.second = MetricInfo{entry.first.c_str(), s.unit, s.description};
  return entry.second;
}

}  // namespace

const MetricInfo& find_metric(std::string_view name) {
  for (const auto& m : metric_catalog())
    if (name == m.name) return m;
  const size_t dot = name.rfind('.');
  if (name.starts_with("phase.") && dot > 6 && dot != std::string_view::npos) {
    for (const PhaseStat& s : kPhaseStats)
      if (name.substr(dot + 1) == s.stat) return interned_phase_metric(std::string(name), s);
    std::string stats;
    for (const PhaseStat& s : kPhaseStats) stats += (stats.empty() ? "" : ", ") + std::string(s.stat);
    throw Error("unknown phase metric \"" + std::string(name) + "\"; after phase.NAME. comes one of: " +
                stats);
  }
  std::string valid;
  for (const auto& m : metric_catalog()) valid += (valid.empty() ? "" : ", ") + std::string(m.name);
  throw Error("unknown metric \"" + std::string(name) + "\"; valid metrics: " + valid +
              ", and phase.NAME.STAT (e.g. phase.infer.wall_p50)");
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
  if (r.phases) {
    for (const PhaseStats& p : r.phases->phases) {
      if (p.overflow) continue;
      for (const PhaseStat& s : kPhaseStats)
        if (auto v = s.get(p)) m["phase." + p.name + "." + s.stat] = *v;
    }
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
