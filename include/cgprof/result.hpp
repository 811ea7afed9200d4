// The result of one run: what ran, where, under which limits, how it ended, and what it used.
// Totals come from exact kernel counter deltas (start/end snapshots of the cgroup), never from
// averaging samples; only peak-over-window and time-weighted averages use the samples.
// run.json is documented field by field in docs/run-json.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/phases.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/stat_parsers.hpp"

namespace cgprof {

// What this cgprof writes. It also reads cgprof.run/1 (notices then lived in device.notices and
// as "notice.N" keys of device.limits_written, the run's cgroup in device.cgroup).
inline constexpr const char* kRunSchema = "cgprof.run/2";
inline constexpr const char* kRunSchemaV1 = "cgprof.run/1";

// CounterSnapshot and read_counters() are the cgroup module's (cgroup.hpp): the totals below
// consume its snapshots.

// A fixed single-thread integer + floating-point loop, timed on the thread's own CPU clock: a
// rate that tells hosts (and one host's frequency or microcode changes) apart in run.json.
struct ReferenceScore {
  std::string name;        // names the loop; a changed loop gets a new name
  double rate = 0;         // millions of loop iterations per CPU second (median of its chunks)
  double cpu_seconds = 0;  // CPU time the measurement took
};
// About 50 ms of CPU (at most 250 ms of wall time on a busy host).
ReferenceScore measure_reference_score();

struct HostInfo {
  std::string kernel;     // uname -r
  std::string cpu_model;  // /proc/cpuinfo "model name"
  unsigned cores = 0;     // online CPUs
  std::string hostname;
  std::optional<ReferenceScore> reference;  // absent with CGPROF_REFERENCE_SCORE=0
};
HostInfo read_host_info();

struct ExitInfo {
  int status = 0;                // docker-style: exit code, or 128+signal
  std::optional<int> exit_code;  // set if the workload exited
  std::optional<int> signal;     // set if it was killed by a signal
  bool oom_killed = false;       // killed by the OOM killer of its cgroup
  bool interrupted = false;      // the user interrupted cgprof (Ctrl-C / SIGTERM)
  // After an interrupt, why cgprof killed the workload: "" (it exited by itself after the
  // signal was passed on), "stop_timeout" or "second_signal".
  std::string killed_by;
  std::string error;  // cgprof's own error, if the run failed ("" if none)
};

struct IoDeviceTotals {
  std::string device;  // "MAJ:MIN"
  uint64_t read_bytes = 0, write_bytes = 0, read_ops = 0, write_ops = 0;
  uint64_t discard_bytes = 0, discard_ops = 0;
};

struct PressureTotals {
  double some_seconds = 0, full_seconds = 0;
};

struct RunTotals {
  // CPU
  double cpu_user_seconds = 0, cpu_system_seconds = 0, cpu_total_seconds = 0;
  double avg_cores = 0;                     // cpu_total / wall
  std::optional<double> avg_quota_percent;  // avg_cores / quota_cores * 100
  double peak_cores_100ms = 0;              // from samples (sliding 100 ms window)
  std::optional<double> peak_quota_percent;
  uint64_t nr_periods = 0, nr_throttled = 0;
  double throttled_seconds = 0;
  double throttled_percent_of_periods = 0;
  // Memory
  uint64_t memory_peak_bytes = 0;
  std::string memory_peak_source;                     // "memory.peak" or "samples"
  double memory_avg_bytes = 0;                        // time-weighted from samples
  uint64_t anon_peak_bytes = 0, file_peak_bytes = 0;  // from samples
  uint64_t pgfault = 0, pgmajfault = 0;
  MemoryEvents memory_events;  // deltas (present mirrors the end snapshot)
  // I/O
  uint64_t io_read_bytes = 0, io_write_bytes = 0, io_read_ops = 0, io_write_ops = 0;
  uint64_t io_discard_bytes = 0, io_discard_ops = 0;
  std::vector<IoDeviceTotals> io_devices;
  // Network (nullopt when not measured)
  bool net_measured = false;
  uint64_t net_rx_bytes = 0, net_tx_bytes = 0, net_rx_packets = 0, net_tx_packets = 0;
  uint64_t net_lo_rx_bytes = 0, net_lo_tx_bytes = 0;
  // Processes
  uint64_t pids_peak = 0;
  // Pressure stall time during the run
  bool psi_measured = false;
  PressureTotals cpu_pressure, memory_pressure, io_pressure;
};

// Pure: totals from a start and an end snapshot, the sample summary, the wall time and the CPU
// quota in cores (nullopt: no quota). Counter resets (end < start) count as 0.
RunTotals compute_totals(const CounterSnapshot& start, const CounterSnapshot& end,
                         const SampleSummary& samples, double wall_seconds,
                         std::optional<double> quota_cores);

struct RunResult {
  std::string schema = kRunSchema;
  std::string cgprof_version;
  std::string run_id;
  std::string started_at;  // UTC, ISO 8601 ("2026-11-24T10:30:00.123Z")
  std::map<std::string, std::string> labels;
  HostInfo host;
  // Device profile and the limits actually written (cgroup file -> value written)
  std::string device_name;
  std::string device_source;
  std::optional<double> quota_cores;
  std::map<std::string, std::string> limits_written;  // cgroup file -> value, nothing else
  // What cgprof told about the run in human words: limits not applied and why ("rootfs on tmpfs:
  // no io.max"), ...
  std::vector<std::string> notices;
  // The cgroup backend ("cgroup": {"backend", "version", "path", "paths"}): "v2" or "v1" ("":
  // not recorded), its cgroup version (0: not recorded), the run's cgroup (v1: the one in the
  // cpu hierarchy) and its path per hierarchy ("unified" on v2; "cpu", "memory", ... on v1).
  std::string cgroup_backend;
  int cgroup_version = 0;
  std::string cgroup;
  std::map<std::string, std::string> cgroup_paths;
  // Per limit and metric: enforced or measured by the kernel, emulated, or neither, and how
  // precisely ("cgroup": {"backend", "limits": {...}, "metrics": {...}}).
  std::vector<Fidelity> fidelity;
  // Workload
  std::string rootfs;
  std::string image;         // reference as given
  std::string image_digest;  // "sha256:..."
  std::vector<std::string> command;
  ExitInfo exit;
  double wall_seconds = 0;  // measured around the workload by the launcher
  RunTotals totals;
  SamplerStats sampler;
  std::optional<PhasesResult> phases;  // when marks were served (absent in older run.json)
};

// Fills cgprof_version, run_id, started_at (now) and host.
RunResult new_run_result();
// "20261124-103000-ab12": UTC time plus 16 random bits; sortable, fit for a directory name.
std::string new_run_id();
// "2026-11-24T10:30:00.123Z"
std::string utc_timestamp_now();

// run.json into `dir` (created if missing), written atomically (temp file + rename).
void write_run_json(const RunResult& r, const std::string& dir);
std::string run_result_to_json(const RunResult& r);  // pretty-printed JSON text
// Reads DIR/run.json (or a path to a .json file). Throws Error naming the file and field.
RunResult load_run_result(const std::string& dir_or_file);
RunResult run_result_from_json(const std::string& text, const std::string& source_name);

// The terminal summary: aligned rows with human units (ends with '\n'), then the phase table.
std::string format_summary(const RunResult& r);
// "" for a run whose limits the kernel enforced; else one line saying which limits were
// emulated, enforced by the kernel or not at all ("emulated without a cgroup: cpu, memory, pids;
// kernel: cpuset; not enforced: io").
std::string format_enforcement(const RunResult& r);
// The per-phase table (count, wall time per occurrence, CPU, peak memory); "" without phases.
std::string format_phase_table(const PhasesResult& p);
// One line for a live status on a TTY, from the last two samples (rates between them).
std::string format_live_status(const Sample& prev, const Sample& cur,
                               std::optional<double> quota_cores, double elapsed_seconds);

}  // namespace cgprof
