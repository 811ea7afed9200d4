// Orchestration of one profiled run. Every resource is an object (RunCgroup, Container, Sampler,
// the signal scope, the status thread), so every exit path kills the workload, removes the
// cgroup and restores signal handlers; the result directory is written on every path too.
#include "run_profile.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "cgprof/clock.hpp"
#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"
#include "limit_options.hpp"
#include "run_interrupt.hpp"
#include "run_marks.hpp"

namespace cgprof::cli {
namespace {

constexpr double kMaxRateHz = 50000;

// ---- live status line on a TTY ----
class LiveStatus {
 public:
  LiveStatus(const Sampler& sampler, std::optional<double> quota)
      : sampler_(sampler), quota_(quota) {
    if (!::isatty(STDERR_FILENO)) return;
    thread_ = std::thread([this] { loop(); });
  }
  ~LiveStatus() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::fputs("\r\033[K", stderr);
  }

 private:
  void loop() {
    auto t0 = std::chrono::steady_clock::now();
    Sample prev = sampler_.latest();
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return done_; })) {
      Sample cur = sampler_.latest();
      if (prev.t_ns != 0 && cur.t_ns > prev.t_ns) {
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::string line = format_live_status(prev, cur, quota_, elapsed);
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
      }
      prev = cur;
    }
  }
  const Sampler& sampler_;
  std::optional<double> quota_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

std::string sanitized(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.size() > 40) out.resize(40);
  return out.empty() ? "run" : out;
}

void mkdir_parents(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string p = path.substr(0, i);
      if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir", p);
    }
  }
}

}  // namespace

// --output DIR, or ./cgprof-results/<UTC time>-<device>-<command>[-N]: a new directory.
std::string make_output_dir(const ProfileOptions& o, const std::string& device,
                            const std::vector<std::string>& argv) {
  if (!o.output.empty()) {
    mkdir_parents(o.output);
    struct stat st;
    if (::stat((o.output + "/run.json").c_str(), &st) == 0) {
      throw Error("--output " + o.output +
                  ": already holds a run (run.json); choose a new "
                  "directory or leave --output out for a fresh timestamped one");
    }
    return o.output;
  }
  char ts[32];
  time_t now = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
  std::string cmd = argv.empty() ? "run" : argv[0].substr(argv[0].rfind('/') + 1);
  std::string base =
      std::string("cgprof-results/") + ts + "-" + sanitized(device) + "-" + sanitized(cmd);
  mkdir_parents("cgprof-results");
  for (int n = 1;; ++n) {
    std::string dir = n == 1 ? base : base + "-" + std::to_string(n);
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST || n > 1000) throw_errno("mkdir", dir);
  }
}

namespace {

int64_t mono_ns() { return static_cast<int64_t>(monotonic_ns()); }

void fill_limits(RunResult& r, const LimitsWritten& w) {
  for (const auto& [file, value] : w.files) {
    auto [it, fresh] = r.limits_written.emplace(file, value);
    if (!fresh) it->second += "\n" + value;  // io.max: one line per disk
  }
  for (size_t i = 0; i < w.notices.size(); ++i)
    r.limits_written["notice." + std::to_string(i + 1)] = w.notices[i];
  r.quota_cores = w.cpu_quota_cores;
}

}  // namespace

void add_profile_options(CLI::App* cmd, ProfileOptions& o) {
  add_limit_options(cmd, o.limits);
  cmd->add_option("--rate", o.rate_hz, "Samples per second (1..50000, default 1000)")
      ->type_name("HZ");
  cmd->add_option("--sample", o.sample,
                  "Sample groups, comma-separated: cpu,memory,io,pids,psi,net (default: all)")
      ->type_name("LIST");
  cmd->add_option("--stop-timeout", o.stop_timeout,
                  "Seconds to wait for the command to exit after Ctrl-C/SIGTERM is passed on "
                  "before killing it (default 10; -1: no limit)")
      ->type_name("SECONDS");
  cmd->add_option("--output", o.output,
                  "Result directory (default: ./cgprof-results/<time>-<device>-<command>/)")
      ->type_name("DIR");
  cmd->add_option("--cgroup-manager", o.cgroup_manager,
                  "cgroup backend: auto (v1 where v1 controllers are mounted, else v2; emulated "
                  "when no cgroup can be created), v1, v2 or emulated (limits from user space, "
                  "counters from /proc)")
      ->type_name("auto|v1|v2|emulated");
  cmd->add_flag("--no-cgroup", o.no_cgroup,
                "Run without a cgroup and without limits: no sampling, no result directory "
                "(where no cgroup can be created, a plain run falls back to emulated limits)");
  cmd->add_option("--mark-regex", o.mark_regex,
                  "Phase marks from the workload's output lines matching RE (first capture "
                  "group: the phase name, '-' ends it); the output is passed through unchanged")
      ->type_name("RE");
  cmd->add_flag("--no-marks", o.no_marks,
                "Do not serve phase marks at $CGPROF_MARK (/dev/cgprof-mark) in the container");
}

int run_profiled(const ProfileOptions& o, const sandbox::ProcessSpec& spec,
                 sandbox::LaunchOptions launch) {
  if (o.no_cgroup) {
    if (!o.limits.empty() || !o.limits.device.empty() || !o.output.empty()) {
      throw Error(
          "--no-cgroup runs without limits or results: leave out --device, the limit "
          "options and --output, or drop --no-cgroup");
    }
    RunMarks marks(o, spec, launch);
    sandbox::Container container;
    container.start(marks.spec(), marks.launch());
    marks.started();
    int code = container.wait().exit_code();
    if (auto phases = marks.finish(container.exec_start_ns(), container.exit_ns(), "", ""))
      std::fputs(format_phase_table(*phases).c_str(), stderr);
    return code;
  }
  if (!(o.rate_hz >= 1 && o.rate_hz <= kMaxRateHz)) {
    throw Error("--rate " + std::to_string(o.rate_hz) + ": expected 1 to 50000 samples per second");
  }
  if (!std::isfinite(o.stop_timeout)) {
    throw Error("--stop-timeout: expected a number of seconds (-1 for no limit)");
  }
  unsigned groups = with_context("--sample", [&] { return parse_sample_groups(o.sample); });
  DeviceProfile device = resolve_device(o.limits);
  CgroupManager manager = parse_cgroup_manager(o.cgroup_manager);

  // Installed before the cgroup exists, so an early Ctrl-C still runs every destructor.
  InterruptScope interrupts;
  RunCgroupOptions cgo;
  cgo.limits = device.limits;
  cgo.rootfs = spec.rootfs;
  cgo.manager = manager;
  std::unique_ptr<CgroupBackend> cg_owner = create_run_cgroup(cgo);
  CgroupBackend& cg = *cg_owner;
  interrupts.set_kill_fd(cg.kill_fd());
  interrupts.check();
  for (const std::string& n : cg.limits_written().notices)
    std::fprintf(stderr, "cgprof: notice: %s\n", n.c_str());

  std::string out_dir = make_output_dir(o, device.name, spec.argv);
  RunResult r = new_run_result();
  r.run_id = out_dir.substr(out_dir.rfind('/') + 1);
  r.device_name = device.name;
  r.device_source = device.source;
  r.rootfs = o.image.empty() ? spec.rootfs : "";
  r.image = o.image;
  r.image_digest = o.image_digest;
  r.command = spec.argv;
  r.labels = o.labels;
  fill_limits(r, cg.limits_written());
  r.fidelity = cg.fidelity();
  r.cgroup = cg.limits_written().cgroup;
  r.cgroup_version = cg.version();
  for (const auto& [hierarchy, path] : cg.paths()) {
    r.cgroup_paths[hierarchy] = path;
    if (cg.version() == 1) launch.cgroup_v1_hierarchies.push_back(hierarchy);
  }

  launch.cgroup_fd = cg.clone_into_fd();
  launch.cgroup_join_fds = cg.join_fds();
  launch.forward_signals = false;  // InterruptScope forwards, then kills after --stop-timeout
  CounterSnapshot start = read_counters(cg.dirs());
  RunMarks marks(o, spec, launch);
  sandbox::Container container;
  int64_t t_start = mono_ns();
  try {
    container.start(marks.spec(), marks.launch());
    marks.started();
  } catch (Error& e) {
    r.exit.error = e.message();
    r.exit.status = e.exit_code();
    if (int sig = interrupts.signal()) {
      // Interrupted while starting (a second signal killed the cgroup, or start failed).
      r.exit.interrupted = true;
      r.exit.killed_by = to_string(interrupts.killed());
      r.exit.status = 128 + sig;
      write_run_json(r, out_dir);
      cg.destroy();
      std::fprintf(stderr, "cgprof: interrupted by signal %d while starting; results in %s\n", sig,
                   out_dir.c_str());
      return r.exit.status;
    }
    write_run_json(r, out_dir);
    throw;
  }
  interrupts.set_container(container.pidfd());

  // From here on a failure of cgprof still leaves a result directory saying what happened.
  try {
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
      LiveStatus live(sampler, r.quota_cores);
      StopKill killed = interrupts.wait_for_exit(container.pidfd(), o.stop_timeout);
      r.exit.killed_by = to_string(killed);
      status = container.wait();
      cg.reaped(container.resource_usage());
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
  } catch (Error& e) {
    cg.kill();
    r.exit.error = e.message();
    r.exit.status = e.exit_code();
    r.exit.interrupted = interrupts.signal() != 0;
    try {
      write_run_json(r, out_dir);
    } catch (const Error& w) {
      std::fprintf(stderr, "cgprof: warning: %s\n", w.what());
    }
    throw;
  }
  write_run_json(r, out_dir);
  cg.destroy();
  std::fputs(format_summary(r).c_str(), stderr);
  std::fprintf(stderr, "cgprof: results in %s\n", out_dir.c_str());
  return r.exit.status;
}

}  // namespace cgprof::cli
