// Time series for charts and traces, derived from cumulative kernel counters.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct TrackInfo {
  const char* key;
  const char* unit;
};
constexpr TrackInfo kTracks[kTrackCount] = {
    {"cpu_cores", "cores"},   {"throttled_ratio", "s/s"}, {"memory_current", "bytes"},
    {"memory_anon", "bytes"}, {"memory_file", "bytes"},   {"io_read_bps", "B/s"},
    {"io_write_bps", "B/s"},  {"cpu_some_percent", "%"},  {"memory_some_percent", "%"},
    {"io_some_percent", "%"}, {"pids", "count"},     {"throttled_periods_percent", "%"},
};

// Counter difference; a reset (kernel counter going backwards) counts as 0 like the totals do.
double delta(uint64_t a, uint64_t b) {
  return b >= a ? static_cast<double>(b - a) : 0.0;
}

bool valid(const Sample& s, uint64_t bit) {
  return (s.valid & bit) != 0;
}

}  // namespace

const char* track_key(Track t) {
  return kTracks[static_cast<unsigned>(t)].key;
}
const char* track_unit(Track t) {
  return kTracks[static_cast<unsigned>(t)].unit;
}

RunSeries derive_series(const std::vector<Sample>& samples, uint64_t origin_ns,
                        uint64_t min_interval_ns) {
  RunSeries out;
  if (samples.size() < 2) return out;
  auto push = [&](Track t, double v) { out.values[static_cast<unsigned>(t)].push_back(v); };

  // Gauge maxima over the samples merged into the current interval.
  struct Gauges {
    double current = kNaN, anon = kNaN, file = kNaN, pids = kNaN;
  } g;
  auto take_max = [](double& acc, bool ok, uint64_t v) {
    if (!ok) return;
    acc = std::isnan(acc) ? static_cast<double>(v) : std::max(acc, static_cast<double>(v));
  };

  std::size_t start = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const Sample& cur = samples[i];
    take_max(g.current, valid(cur, kFileMemoryCurrent), cur.memory_current);
    take_max(g.anon, valid(cur, kFileMemoryStat), cur.memory_anon);
    take_max(g.file, valid(cur, kFileMemoryStat), cur.memory_file);
    take_max(g.pids, valid(cur, kFilePidsCurrent), cur.pids_current);
    const Sample& prev = samples[start];
    if (cur.t_ns <= prev.t_ns) continue;
    const uint64_t span_ns = cur.t_ns - prev.t_ns;
    if (span_ns < min_interval_ns && i + 1 < samples.size()) continue;

    const double dt_us = static_cast<double>(span_ns) / 1e3;
    const double dt_s = static_cast<double>(span_ns) / 1e9;
    auto rate = [&](uint64_t bit, uint64_t a, uint64_t b, double per) {
      return valid(prev, bit) && valid(cur, bit) ? delta(a, b) / per : kNaN;
    };
    auto cap = [](double v) { return v > 100 ? 100.0 : v; };  // keeps NaN
    auto percent = [&](uint64_t bit, uint64_t a, uint64_t b) {
      return cap(rate(bit, a, b, dt_us / 100));
    };
    out.t_s.push_back(static_cast<double>(cur.t_ns - std::min(cur.t_ns, origin_ns)) / 1e9);
    push(Track::kCpuCores, rate(kFileCpuStat, prev.cpu_usage_usec, cur.cpu_usage_usec, dt_us));
    push(Track::kThrottledRatio,
         rate(kFileCpuStat, prev.cpu_throttled_usec, cur.cpu_throttled_usec, dt_us));
    push(Track::kMemoryCurrent, g.current);
    push(Track::kMemoryAnon, g.anon);
    push(Track::kMemoryFile, g.file);
    push(Track::kIoReadBps, rate(kFileIoStat, prev.io_rbytes, cur.io_rbytes, dt_s));
    push(Track::kIoWriteBps, rate(kFileIoStat, prev.io_wbytes, cur.io_wbytes, dt_s));
    push(Track::kCpuSomePercent, percent(kFileCpuPressure, prev.cpu_some_usec, cur.cpu_some_usec));
    push(Track::kMemorySomePercent,
         percent(kFileMemoryPressure, prev.memory_some_usec, cur.memory_some_usec));
    push(Track::kIoSomePercent, percent(kFileIoPressure, prev.io_some_usec, cur.io_some_usec));
    push(Track::kPids, g.pids);
    const double periods = delta(prev.cpu_nr_periods, cur.cpu_nr_periods);
    push(Track::kThrottledPeriodsPercent,
         periods > 0
             ? cap(rate(kFileCpuStat, prev.cpu_nr_throttled, cur.cpu_nr_throttled, periods / 100))
             : kNaN);
    g = Gauges{};
    start = i;
  }
  return out;
}

std::optional<double> memory_limit_bytes(const RunResult& r) {
  auto it = r.limits_written.find("memory.max");
  if (it == r.limits_written.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0' || !(v > 0)) return std::nullopt;
  return v;
}

}  // namespace cgprof::report
