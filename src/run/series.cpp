// `--repeat N [--warmup K]`: each run is a complete run into its own directory, so a series is
// just runs side by side, readable by report/compare one by one; aggregate.json adds the
// statistics (docs/formats/aggregate.md).
#include <sys/stat.h>

#include <cstdio>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/result.hpp"
#include "profiled_run.hpp"

namespace cgprof::run {
namespace {

constexpr unsigned kMaxRuns = 10000;

std::string series_dir_name(bool warmup, unsigned n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%03u", warmup ? "warmup" : "run", n);
  return buf;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// A directory that already holds a series would mix two of them in one aggregate.
void check_fresh(const std::string& dir) {
  for (const char* name : {"aggregate.json", "run-001", "warmup-001"}) {
    if (exists(dir + "/" + name))
      throw Error("--output " + dir + ": already holds repeated runs (" + name +
                  "); choose a new directory or leave --output out for a fresh timestamped one");
  }
}

void write_aggregate(const std::string& dir, const std::vector<std::string>& measured,
                     const RunRequest& r, const sandbox::ProcessSpec& spec) {
  if (measured.empty()) {
    r.observer->series_finished(nullptr, 0, r.repeat, "");
    return;
  }
  std::vector<RunResult> results;
  for (const auto& name : measured) results.push_back(load_run_result(dir + "/" + name));
  const analysis::Aggregate agg = analysis::aggregate(results);
  report::AggregateInfo info;
  info.run_dirs = measured;
  info.warmup = r.warmup;
  info.planned = r.repeat;
  info.labels = r.labels;
  info.device = results.front().device_name;
  info.command = spec.argv;
  const std::string path = dir + "/aggregate.json";
  report::write_file_atomic(path, report::aggregate_to_json(agg, info));
  r.observer->series_finished(&agg, measured.size(), r.repeat, path);
}

}  // namespace

int run_series(const RunRequest& r, const Workload& w) {
  const sandbox::ProcessSpec& spec = w.spec;
  if (r.repeat < 1 || r.repeat > kMaxRuns)
    throw Error("--repeat " + std::to_string(r.repeat) + ": expected 1 to 10000 runs");
  if (r.warmup > kMaxRuns)
    throw Error("--warmup " + std::to_string(r.warmup) + ": expected 0 to 10000 runs");
  const bool series = r.repeat > 1 || r.warmup > 0;
  if (r.no_cgroup && (series || !r.labels.empty()))
    throw Error(
        "--no-cgroup writes no result: leave out --repeat, --warmup and --label, or drop "
        "--no-cgroup");
  if (!series) return run_profiled(r, w, r.output);

  if (!r.output.empty()) check_fresh(r.output);
  const std::string dir = make_output_dir(r.output, resolve_device(r.limits).name, spec.argv);
  std::vector<std::string> measured;
  int status = 0;
  try {
    for (unsigned i = 0; i < r.warmup + r.repeat; ++i) {
      const bool warmup = i < r.warmup;
      const unsigned n = warmup ? i + 1 : i - r.warmup + 1;
      const std::string name = series_dir_name(warmup, n);
      r.observer->message(RunObserver::Kind::info,
                          std::string(warmup ? "warm-up" : "run") + " " + std::to_string(n) +
                              "/" + std::to_string(warmup ? r.warmup : r.repeat) + " -> " + dir +
                              "/" + name);
      status = run_profiled(r, w, dir + "/" + name);
      if (status != 0) {
        r.observer->message(RunObserver::Kind::info, name + " ended with status " +
                                                         std::to_string(status) +
                                                         "; the series stops here");
        break;
      }
      if (!warmup) measured.push_back(name);
    }
  } catch (const Error&) {
    write_aggregate(dir, measured, r, spec);  // what succeeded stays usable
    throw;
  }
  write_aggregate(dir, measured, r, spec);
  return status;
}

}  // namespace cgprof::run
