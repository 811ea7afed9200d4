// Writers that turn result directories into something people read: a Chrome/Perfetto trace,
// a self-contained HTML report with charts, CSV of samples, and JSON. Several runs in one
// output overlay their series.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cgprof/analysis.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"

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
  // Phase occurrences (phases.csv), in seconds since start_monotonic_ns like the samples.
  std::vector<PhaseSpan> phases;
};

// Expands arguments into result directories: a run directory (has run.json) or its run.json;
// an experiment directory (index.json: its finished runs, in matrix order); a `run --repeat`
// directory (aggregate.json: its run_dirs); any other directory: those found up to three levels
// below it, sorted. Warm-up runs count only when named themselves. Throws Error naming an
// argument that holds no run.
std::vector<std::string> collect_run_dirs(const std::vector<std::string>& paths);

// The run.json of every directory collect_run_dirs(paths) finds (no samples).
struct LoadedRun {
  std::string dir;
  RunResult result;
};
std::vector<LoadedRun> load_runs(const std::vector<std::string>& paths);

// Reads DIR/run.json and, if present, DIR/samples.bin and DIR/phases.csv. Names the run by its
// labels and device,
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
  kCpuSomePercent,  // % of time some task stalled on CPU (clamped to 0..100: the kernel's
                    // totals advance in steps, so a short interval can overshoot)
  kMemorySomePercent,
  kIoSomePercent,
  kPids,
  kThrottledPeriodsPercent,  // % of CFS periods in the interval that were throttled
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
// CSV of phases, one row per run and phase name (run.json's phases.by_name): run, phase, count,
// wall time total and distribution, CPU, throttled time, peak memory, I/O.
std::string to_phases_csv(const std::vector<ReportRun>& runs);

// ---- labels: `--label K=V`, an experiment's `labels` ----
// Keys are letters, digits, '_', '-', '.', '/'; values hold no whitespace, control character or
// ';' (calibration CSVs match "k=v;k=v"). Returns why a label is unusable, "" when it is fine.
std::string label_problem(std::string_view key, std::string_view value);
// "K=V" -> {K, V}; throws Error "--label ARG: ..." naming the fix.
std::pair<std::string, std::string> parse_label(std::string_view arg);
// Every --label argument; a key given twice is an error.
std::map<std::string, std::string> parse_labels(const std::vector<std::string>& args);

// ---- repeats: aggregate.json (docs/formats/aggregate.md) ----
struct AggregateInfo {
  std::vector<std::string> run_dirs;  // relative to the aggregate's directory
  unsigned warmup = 0;                // runs made before and not counted
  unsigned planned = 0;               // measured runs asked for (--repeat N); 0: run_dirs.size()
  std::map<std::string, std::string> labels;
  std::string device;
  std::vector<std::string> command;
};
std::string aggregate_to_json(const analysis::Aggregate& a, const AggregateInfo& info);
// The terminal table of an aggregate: one row per metric with mean ± CI half-width, sd, min, max.
std::string format_aggregate(const analysis::Aggregate& a);

// ---- experiments (docs/formats/experiment.md, docs/formats/index.md) ----
struct ExperimentWorkload {
  std::string name;
  std::string image, rootfs;  // exactly one is set
  std::vector<std::string> command;
  std::map<std::string, std::string> labels;  // always includes workload=<name>
  std::vector<std::string> run_args;          // extra `cgprof run` options for this workload
};
// sbatch options for `cgprof experiment FILE --slurm` (include/cgprof/slurm.hpp); empty or 0:
// the cluster's default. Command-line flags override each field.
struct ExperimentSlurm {
  std::string partition, time, mem;
  unsigned cpus_per_task = 0, max_parallel = 0;
  std::optional<bool> exclusive;
  std::vector<std::string> sbatch_args;  // more sbatch options, one per element
};
struct Experiment {
  std::string source;    // the TOML file
  std::string base_dir;  // its directory: relative paths in it (and runs) resolve from here
  std::string name;
  std::string output;  // result directory (absolute or relative to base_dir)
  unsigned repeat = 1, warmup = 0;
  std::vector<std::string> devices;   // profile names or files; "host" = no limits
  std::vector<std::string> run_args;  // extra `cgprof run` options for every run
  std::vector<ExperimentWorkload> workloads;
  ExperimentSlurm slurm;  // the [slurm] table: sbatch options of `--slurm`
};
// Throws Error "FILE: line N: KEY: ..." on a malformed file.
Experiment parse_experiment(std::string_view toml_text, const std::string& source);

struct PlannedRun {
  std::string id;  // "<workload>/<device>/run-001" (or warmup-001); also its directory
  std::string workload, device;
  unsigned repeat = 0;  // 1-based within its kind
  bool warmup = false;
  std::map<std::string, std::string> labels;
  std::vector<std::string> argv;  // the complete `cgprof run` command line (argv[0] = cgprof)
};
// The matrix in execution order: workload, then device, then warm-ups and repeats.
// `output_dir` is where results go (absolute), `cgprof` argv[0] of the child runs.
std::vector<PlannedRun> plan_experiment(const Experiment& e, const std::string& output_dir,
                                        const std::string& cgprof);

// A run directory is complete when its run.json exists and the run was not interrupted and
// cgprof did not fail (a workload that exits non-zero is complete: rerunning changes nothing).
struct RunDirState {
  bool complete = false;
  bool exists = false;
  int exit_status = 0;
  std::optional<RunResult> result;
};
RunDirState inspect_run_dir(const std::string& dir);

// index.json / index.csv from the plan and the state of every run directory.
std::string experiment_index_json(const Experiment& e, const std::vector<PlannedRun>& plan,
                                  const std::vector<RunDirState>& states);
std::string experiment_index_csv(const std::vector<PlannedRun>& plan,
                                 const std::vector<RunDirState>& states);
// Shell-quoted command line ("cgprof run --device rpi4 ... -- python3 'a b'").
std::string shell_join(const std::vector<std::string>& argv);

// The atomic write of sys.hpp under its old name, for the callers in src/cli until they switch.
using cgprof::write_file_atomic;

}  // namespace cgprof::report
