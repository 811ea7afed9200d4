// One profiled run as a library call: a request (an image or a root file system, a device
// profile with overrides, the sandbox and sampling options) in, docker's exit status out. In
// between: resolve the workload and the device -> the cgroup backend -> the container -> the
// sampler -> wait -> totals -> run.json, written once, atomically, on every exit path (a normal
// exit, an OOM kill, a signal, a crash, cgprof's own error) -> cleanup. `cgprof run`, each cell
// of `cgprof experiment` and a Slurm array task all call it; the CLI only parses and prints.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/device.hpp"
#include "cgprof/image.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::run {

// The sandbox options of `cgprof run` (docker's spelling), as given. They are applied on top of
// what an image config supplies (env, working directory, user).
struct SandboxOptions {
  std::vector<std::string> volumes, env, env_files, cap_add, cap_drop, security_opts;
  std::string workdir, user, hostname, net = "loopback", userns = "auto";
  bool rootless = false;
  bool read_only = false;
  bool quiet = false;  // no one-line notices of the launcher on stderr
};

// What to run, where, under which limits, sampled how, recorded where.
struct RunRequest {
  // The workload: an image (reference as given, e.g. "./img:latest") with `command` as the
  // arguments that replace its Cmd, or a root file system directory with `command` to run in it.
  // Exactly one of image and rootfs.
  std::string image;
  std::string rootfs;
  std::vector<std::string> command;
  std::string platform;                   // OS/ARCH[/VARIANT] of an image index ("" = host's)
  std::optional<std::string> entrypoint;  // replaces the image's Entrypoint (and drops its Cmd)
  image::UnpackOptions unpack;            // how the image store unpacks it
  SandboxOptions sandbox;

  LimitOverrides limits;  // the device profile (limits.device) and the docker-style overrides
  double rate_hz = 1000;  // samples per second, 1..50000
  std::string sample = "cpu,memory,io,pids,psi,net";  // sample groups
  std::string output;  // result directory ("" = a new ./cgprof-results/<time>-<device>-<command>)
  double stop_timeout = 10;  // s from a passed-on Ctrl-C to the kill; < 0: no limit
  bool no_cgroup = false;    // no cgroup: no limits, no sampling, no result directory
  std::string cgroup_manager = "auto";  // auto | v1 | v2
  bool no_marks = false;     // no $CGPROF_MARK FIFO in the container
  std::string mark_regex;    // phase marks from output lines (first capture group: the name)
  std::map<std::string, std::string> labels;  // for run.json

  unsigned repeat = 1;  // measured runs: > 1 makes a series OUTPUT/run-001... + aggregate.json
  unsigned warmup = 0;  // runs made first into OUTPUT/warmup-001..., kept but not aggregated
};

// Runs the request: once into its result directory, or `warmup` + `repeat` times into a series
// (which stops at the first run whose status is not 0). Prints notices, the summary and where the
// results are on stderr. Returns docker's exit code: the workload's (the last run's of a series),
// 137 for an OOM kill, 128+N when cgprof was interrupted by signal N. Throws Error when cgprof
// itself fails (after writing the run's run.json, when its result directory existed).
int run_workload(const RunRequest& request);

// The argv docker would run for an image: a pure function of its config and the command line.
std::vector<std::string> image_argv(const image::ImageConfig& config,
                                    const std::optional<std::string>& entrypoint,
                                    const std::vector<std::string>& args);

// ---- `cgprof devices show` (cgroup_preview.cpp) ----

// One cgroup v2 file a run would write for a device's limits on this host.
struct CgroupFilePreview {
  std::string file, value, note;  // note: where the value comes from, or why it is what it is
};
// The files in the order a run writes them, computed by the cgroup module without creating a
// cgroup; limits that would not apply here go to `notices`.
std::vector<CgroupFilePreview> preview_cgroup_files(const Limits& limits,
                                                    std::vector<std::string>* notices);
// CPUs this process may run on (its affinity mask).
unsigned host_cpu_count();

}  // namespace cgprof::run
