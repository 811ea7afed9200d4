// The profiling half of `cgprof run`: device limits -> cgroup -> launch -> sampler -> wait ->
// result. run_cmd.cpp builds the ProcessSpec and hands it to run_profiled().
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "cgprof/device.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::cli {

struct ProfileOptions {
  LimitOverrides limits;  // --device and the docker-style overrides (limit_options.hpp)
  double rate_hz = 1000;  // --rate
  std::string sample = "cpu,memory,io,pids,psi,net";  // --sample
  std::string output;                                 // --output ("" = a new timestamped dir)
  double stop_timeout = 10;  // --stop-timeout: s from a passed-on Ctrl-C to the kill; <0: none
  bool no_cgroup = false;    // --no-cgroup: no limits, no sampling, no result (no cgroup v2 here)
  std::string cgroup_manager = "auto";  // --cgroup-manager auto|v1|v2
  bool no_marks = false;     // --no-marks: no $CGPROF_MARK FIFO in the container
  std::string mark_regex;    // --mark-regex: phase marks from output lines (group 1 = name)
  // Not options: set by `run` when an IMAGE was given, for run.json (reference as given, and the
  // manifest digest, or the config digest for a classic docker-archive that has no manifest).
  std::string image, image_digest;
  std::map<std::string, std::string> labels;  // --label K=V, parsed by run_repeat.cpp
};

// Adds --device, the limit overrides, --rate, --sample and --output to `cmd`.
void add_profile_options(CLI::App* cmd, ProfileOptions& o);

// The result directory of a run: --output (created; refused if it holds a run.json already), or
// a new ./cgprof-results/<UTC time>-<device>-<command>[-N].
std::string make_output_dir(const ProfileOptions& o, const std::string& device,
                            const std::vector<std::string>& argv);

// Runs `spec` under the device's limits, sampled; writes the result directory and prints the
// summary. Returns docker's exit code (the workload's; 137 for an OOM kill; 128+N when cgprof
// was interrupted by signal N). Throws Error when cgprof itself fails (after writing what it can).
int run_profiled(const ProfileOptions& o, const sandbox::ProcessSpec& spec,
                 sandbox::LaunchOptions launch);

}  // namespace cgprof::cli
