// Writers that turn result directories into something people read: a Chrome/Perfetto trace,
// a self-contained HTML report with charts, CSV of samples, and JSON. Several runs in one
// output overlay their series.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"

namespace cgprof::report {

// One run as the writers see it. Loaded from a result directory by load_report_run(), or built
// by hand in tests.
struct ReportRun {
  std::string name;  // shown in legends and as the trace process name
  std::string dir;   // result directory ("" when built in memory)
  RunResult result;
  std::vector<Sample> samples;
  uint64_t start_monotonic_ns = 0;  // samples.bin header: t_ns origin
  uint64_t start_realtime_ns = 0;   // CLOCK_REALTIME at that instant
  std::string summary_text;         // format_summary(result), the terminal table
};

// Reads DIR/run.json and, if present, DIR/samples.bin. Names the run by its labels and device,
// or by the directory name. Throws Error naming the directory.
ReportRun load_report_run(const std::string& dir);

// Names for several runs: labels differ -> "model=a device=rpi4"; else directory names.
void assign_run_names(std::vector<ReportRun>& runs);

// ---- time series derived from samples ----
// Rates are counter differences over the interval that ends at the point; gauges (memory,
// pids) are the maximum seen inside the interval, so decimation never hides a peak. A value
// whose file was not read at either end of an interval is NaN (a gap in charts).
enum class Track : unsigned {
  kCpuCores,        // cores (CPU-seconds per second)
  kThrottledRatio,  // throttled time per second of wall time
  kMemoryCurrent,   // bytes
  kMemoryAnon,      // bytes
  kMemoryFile,      // bytes
  kIoReadBps,       // bytes per second
  kIoWriteBps,      // bytes per second
  kCpuSomePercent,  // % of time some task stalled on CPU
  kMemorySomePercent,
  kIoSomePercent,
  kPids,
  kCount
};
inline constexpr unsigned kTrackCount = static_cast<unsigned>(Track::kCount);
// Stable keys used in JSON/trace output ("cpu_cores", ...), and human units.
const char* track_key(Track t);
const char* track_unit(Track t);

struct RunSeries {
  std::vector<double> t_s;  // end of each interval, seconds since start_monotonic_ns
  std::vector<double> values[kTrackCount];
  const std::vector<double>& operator[](Track t) const { return values[static_cast<unsigned>(t)]; }
};

// min_interval_ns merges consecutive samples until an interval is at least that long
// (0: one point per sample interval).
RunSeries derive_series(const std::vector<Sample>& samples, uint64_t origin_ns,
                        uint64_t min_interval_ns = 0);

// memory.max as written for the run, if it was a number (not "max").
std::optional<double> memory_limit_bytes(const RunResult& r);

// ---- writers ----
enum class TraceClock { kMonotonic, kRealtime, kRelative };

struct TraceOptions {
  // kMonotonic: CLOCK_MONOTONIC µs, as Chrome, Perfetto's track_event and perf use, so the
  // samples line up with a trace the user recorded on the same machine.
  TraceClock clock = TraceClock::kMonotonic;
  uint64_t min_interval_ns = 0;  // 0: every sample
};

// Chrome trace-event JSON (object form, "traceEvents"), counter tracks per run process.
std::string to_trace_json(const std::vector<ReportRun>& runs, const TraceOptions& opts = {});

// One self-contained HTML page (inline SVG + script, nothing fetched).
std::string to_html(const std::vector<ReportRun>& runs);

// CSV of samples. One run: samples.csv format (docs/run-json.md); several runs: a leading
// "run" column with the run's name.
std::string to_samples_csv(const std::vector<ReportRun>& runs);

}  // namespace cgprof::report
