// One profiled run. Every resource is an object (the cgroup backend, Container, Sampler, the
// signal scope, the status thread), so every exit path kills the workload, removes the cgroup and
// restores signal handlers. Once the result directory exists, run.json is written exactly once,
// at one place, whatever happened: the record is filled as the run goes and the outcome (exit,
// interrupt, error) is set by the path that ends it.
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>

#include "cgprof/cgroup.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"
#include "interrupt.hpp"
#include "live_status.hpp"
#include "marks.hpp"
#include "profiled_run.hpp"

namespace cgprof::run {
namespace {

constexpr double kMaxRateHz = 50000;

int64_t mono_ns() { return static_cast<int64_t>(monotonic_ns()); }

void fill_limits(RunResult& r, const LimitsWritten& w) {
  for (const auto& [file, value] : w.files) {
    auto [it, fresh] = r.limits_written.emplace(file, value);
    if (!fresh) it->second += "\n" + value;  // io.max: one line per disk
  }
  r.notices = w.notices;
  r.quota_cores = w.cpu_quota_cores;
}

// What is known before the workload starts: the request, the device, the backend.
RunResult describe_run(const RunRequest& o, const Workload& w, const DeviceProfile& device,
                       const CgroupBackend& cg, const std::string& out_dir) {
  RunResult r = new_run_result();
  r.run_id = out_dir.substr(out_dir.rfind('/') + 1);
  r.device_name = device.name;
  r.device_source = device.source;
  r.rootfs = w.image_ref.empty() ? w.spec.rootfs : "";
  r.image = w.image_ref;
  r.image_digest = w.image_digest;
  r.command = w.spec.argv;
  r.labels = o.labels;
  fill_limits(r, cg.limits_written());
  r.fidelity = cg.fidelity();
  r.cgroup_backend = cgroup_backend_name(cg);
  r.cgroup_version = cg.version();
  r.cgroup = cg.limits_written().cgroup;
  for (const auto& [hierarchy, path] : cg.paths()) r.cgroup_paths[hierarchy] = path;
  return r;
}

// The workload under the container, sampled until it exits: fills the record's exit, wall time,
// totals, sampler statistics and phases. Throws Error when cgprof fails; `started` says whether
// the container got as far as running the workload.
void start_sample_wait(const RunRequest& o, const Workload& w, unsigned groups,
                       CgroupBackend& cg, InterruptScope& interrupts, const std::string& out_dir,
                       sandbox::Container& container, RunResult& r, bool& started) {
  sandbox::LaunchOptions launch;
  launch.quiet = o.sandbox.quiet;
  if (cg.version() == 1)
    for (const auto& [hierarchy, path] : cg.paths()) launch.cgroup_v1_hierarchies.push_back(hierarchy);
  launch.cgroup_fd = cg.clone_into_fd();
  launch.cgroup_join_fds = cg.join_fds();
  launch.forward_signals = false;  // InterruptScope forwards, then kills after --stop-timeout
  CounterSnapshot start = read_counters(cg.dirs());
  RunMarks marks(o, w.spec, launch);
  int64_t t_start = mono_ns();
  container.start(marks.spec(), marks.launch());
  started = true;
  marks.started();
  interrupts.set_container(container.pidfd());
  cg.attach(container.pid(), container.pidfd());  // the emulated backend starts enforcing

  SamplerConfig sc;
  sc.rate_hz = o.rate_hz;
  sc.groups = groups;
  sc.net_pid = container.pid();
  sc.output_dir = out_dir;
  SamplerStats stats;
  sandbox::ExitStatus status;
  {
    Sampler sampler(cg.dirs(), sc);
    sampler.start();
    LiveStatus live(sampler, r.quota_cores, *o.observer);
    StopKill killed = interrupts.wait_for_exit(container.pidfd(), o.stop_timeout);
    r.exit.killed_by = to_string(killed);
    status = container.wait();
    cg.reaped(container.resource_usage());  // the emulated backend's exact totals
    live.stop();
    stats = sampler.stop();
  }
  int64_t t_end = mono_ns();
  CounterSnapshot end = read_counters(cg.dirs());

  r.sampler = stats;
  int64_t exec_ns = container.exec_start_ns(), exit_ns = container.exit_ns();
  r.wall_seconds = (exec_ns > 0 && exit_ns > exec_ns ? exit_ns - exec_ns : t_end - t_start) / 1e9;
  r.totals = compute_totals(start, end, stats.summary, r.wall_seconds, r.quota_cores);
  r.phases = marks.finish(exec_ns, exit_ns, out_dir, stats.samples_file);
  r.exit.status = status.exit_code();
  if (status.signal) {
    r.exit.signal = status.signal;
  } else {
    r.exit.exit_code = status.code;
  }
  uint64_t oom_before = start.has_memory_events ? start.events.oom_kill : 0;
  // The container's init reports a killed workload as a signal or as 128+N; either way 137.
  r.exit.oom_killed = status.exit_code() == 128 + SIGKILL && end.has_memory_events &&
                      end.events.oom_kill > oom_before;
  if (int sig = interrupts.signal()) {
    r.exit.interrupted = true;
    r.exit.status = 128 + sig;
  }
}

// --no-cgroup: the container alone, with phase marks (wall time only); no result directory.
int run_without_cgroup(const RunRequest& o, const Workload& w) {
  if (!o.limits.empty() || !o.limits.device.empty() || !o.output.empty()) {
    throw Error(
        "--no-cgroup runs without limits or results: leave out --device, the limit "
        "options and --output, or drop --no-cgroup");
  }
  sandbox::LaunchOptions launch;
  launch.quiet = o.sandbox.quiet;
  RunMarks marks(o, w.spec, launch);
  sandbox::Container container;
  container.start(marks.spec(), marks.launch());
  marks.started();
  int code = container.wait().exit_code();
  if (auto phases = marks.finish(container.exec_start_ns(), container.exit_ns(), "", ""))
    o.observer->phases(*phases);
  return code;
}

}  // namespace

int run_profiled(const RunRequest& o, const Workload& w, const std::string& output) {
  if (o.no_cgroup) return run_without_cgroup(o, w);
  if (!(o.rate_hz >= 1 && o.rate_hz <= kMaxRateHz)) {
    throw Error("--rate " + std::to_string(o.rate_hz) + ": expected 1 to 50000 samples per second");
  }
  if (!std::isfinite(o.stop_timeout)) {
    throw Error("--stop-timeout: expected a number of seconds (-1 for no limit)");
  }
  unsigned groups = with_context("--sample", [&] { return parse_sample_groups(o.sample); });
  DeviceProfile device = resolve_device(o.limits);

  // Installed before the cgroup exists, so an early Ctrl-C still runs every destructor.
  InterruptScope interrupts(*o.observer);
  std::unique_ptr<CgroupBackend> cg = select_cgroup_backend(o, device, w.spec.rootfs);
  interrupts.set_kill_fd(cg->kill_fd());
  interrupts.check();
  for (const std::string& n : cg->limits_written().notices)
    o.observer->message(RunObserver::Kind::notice, n);

  const std::string out_dir = make_output_dir(output, device.name, w.spec.argv);
  // From here on every path writes run.json, once, below.
  RunResult r = describe_run(o, w, device, *cg, out_dir);
  sandbox::Container container;  // outlives the signal target set in start_sample_wait
  bool started = false;
  std::exception_ptr failure;
  try {
    start_sample_wait(o, w, groups, *cg, interrupts, out_dir, container, r, started);
  } catch (const Error& e) {
    cg->kill();
    r.exit.error = e.message();
    r.exit.status = e.exit_code();
    if (int sig = interrupts.signal()) {
      r.exit.interrupted = true;
      r.exit.killed_by = to_string(interrupts.killed());
      // Interrupted while starting (a second signal killed the cgroup, or start failed): the
      // run ends as the signal says, not as an error of cgprof.
      if (!started) r.exit.status = 128 + sig;
    }
    if (started || !r.exit.interrupted) failure = std::current_exception();
  }
  try {
    write_run_json(r, out_dir);
  } catch (const Error& e) {
    if (!failure) throw;
    o.observer->message(RunObserver::Kind::warning, e.what());
  }
  if (failure) std::rethrow_exception(failure);  // the backend's destructor cleans up
  cg->destroy();
  if (r.exit.interrupted && !started) {
    o.observer->message(RunObserver::Kind::info,
                        "interrupted by signal " + std::to_string(interrupts.signal()) +
                            " while starting; results in " + out_dir);
    return r.exit.status;
  }
  o.observer->run_finished(r, out_dir);
  return r.exit.status;
}

}  // namespace cgprof::run
