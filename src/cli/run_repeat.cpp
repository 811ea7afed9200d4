// Repeated runs: each is a complete `cgprof run` into its own directory, so a series is just
// runs side by side, readable by report/compare one by one; aggregate.json adds the statistics.
#include "run_repeat.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/result.hpp"

namespace cgprof::cli {
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
                     const RepeatOptions& r, const ProfileOptions& p,
                     const sandbox::ProcessSpec& spec) {
  if (measured.empty()) {
    std::fprintf(stderr, "cgprof: no measured run succeeded; no aggregate written\n");
    return;
  }
  std::vector<RunResult> results;
  for (const auto& name : measured) results.push_back(load_run_result(dir + "/" + name));
  const analysis::Aggregate agg = analysis::aggregate(results);
  report::AggregateInfo info;
  info.run_dirs = measured;
  info.warmup = r.warmup;
  info.planned = r.repeat;
  info.labels = p.labels;
  info.device = results.front().device_name;
  info.command = spec.argv;
  const std::string path = dir + "/aggregate.json";
  report::write_file_atomic(path, report::aggregate_to_json(agg, info));
  std::fputs(report::format_aggregate(agg).c_str(), stderr);
  std::fprintf(stderr, "cgprof: %zu of %u runs aggregated in %s\n", measured.size(), r.repeat,
               path.c_str());
}

}  // namespace

void add_repeat_options(CLI::App* cmd, RepeatOptions& o) {
  cmd->add_option("--label", o.labels,
                  "Label the result, KEY=VALUE (repeatable); compare --by KEY and calibration "
                  "CSVs group runs by labels")
      ->allow_extra_args(false)  // `--label k=v IMAGE`: IMAGE is not a second label
      ->type_name("KEY=VALUE");
  cmd->add_option("--repeat", o.repeat,
                  "Run N times into OUTPUT/run-001... and write OUTPUT/aggregate.json (default 1)")
      ->type_name("N");
  cmd->add_option("--warmup", o.warmup,
                  "Run K times first into OUTPUT/warmup-001..., kept but not aggregated")
      ->type_name("K");
}

int run_repeated(const RepeatOptions& r, ProfileOptions p, const sandbox::ProcessSpec& spec,
                 const sandbox::LaunchOptions& launch) {
  p.labels = report::parse_labels(r.labels);
  if (r.repeat < 1 || r.repeat > kMaxRuns)
    throw Error("--repeat " + std::to_string(r.repeat) + ": expected 1 to 10000 runs");
  if (r.warmup > kMaxRuns)
    throw Error("--warmup " + std::to_string(r.warmup) + ": expected 0 to 10000 runs");
  const bool series = r.repeat > 1 || r.warmup > 0;
  if (p.no_cgroup && (series || !p.labels.empty()))
    throw Error(
        "--no-cgroup writes no result: leave out --repeat, --warmup and --label, or drop "
        "--no-cgroup");
  if (!series) return run_profiled(p, spec, launch);

  if (!p.output.empty()) check_fresh(p.output);
  const std::string dir = make_output_dir(p, resolve_device(p.limits).name, spec.argv);
  std::vector<std::string> measured;
  int status = 0;
  try {
    for (unsigned i = 0; i < r.warmup + r.repeat; ++i) {
      const bool warmup = i < r.warmup;
      const unsigned n = warmup ? i + 1 : i - r.warmup + 1;
      const std::string name = series_dir_name(warmup, n);
      std::fprintf(stderr, "cgprof: %s %u/%u -> %s/%s\n", warmup ? "warm-up" : "run", n,
                   warmup ? r.warmup : r.repeat, dir.c_str(), name.c_str());
      p.output = dir + "/" + name;
      status = run_profiled(p, spec, launch);
      if (status != 0) {
        std::fprintf(stderr, "cgprof: %s ended with status %d; the series stops here\n",
                     name.c_str(), status);
        break;
      }
      if (!warmup) measured.push_back(name);
    }
  } catch (const Error&) {
    write_aggregate(dir, measured, r, p, spec);  // what succeeded stays usable
    throw;
  }
  write_aggregate(dir, measured, r, p, spec);
  return status;
}

}  // namespace cgprof::cli
