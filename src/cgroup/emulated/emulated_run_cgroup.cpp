// The emulated backend's lifecycle and its enforcer thread (CPU duty cycle, memory watchdog,
// counters); see cgroup_emulated.hpp.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {
namespace {

// While the container runs, the enforcer looks at it at least this often (memory watchdog,
// counters); with a memory limit, more often.
constexpr uint64_t kPollNs = 10'000'000;
constexpr uint64_t kMemoryPollNs = 2'000'000;

void send(int pidfd, int sig) {
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
}

std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == 0 && v > 0) out.push_back(static_cast<int>(v));
  }
  ::closedir(d);
  return out;
}

// Host pids of init and its descendants, with their threads, from /proc/PID/task/TID/children.
void host_tree(pid_t init, std::vector<pid_t>* pids, std::vector<pid_t>* tids) {
  pids->assign(1, init);
  for (size_t i = 0; i < pids->size(); ++i) {
    std::string base = "/proc/" + std::to_string((*pids)[i]) + "/task";
    for (int tid : numeric_entries(base)) {
      tids->push_back(tid);
      std::string children = read_file_or_empty(base + "/" + std::to_string(tid) + "/children");
      for (const std::string& c : split_words(children)) pids->push_back(std::stoi(c));
    }
  }
}

uint64_t tv_usec(const timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
}

}  // namespace

bool cgroup_unavailable_to_us(CgroupLayout layout, uid_t euid) {
  return layout == CgroupLayout::kNone || euid != 0;
}

// ---- the enforcer thread ----

struct EmulatedRunCgroup::Enforcer {
  Enforcer(int procfs, int init_pidfd, const Limits& limits, unsigned cores,
           EmulatedCounters* counters)
      : tree(procfs, kProcStat | kProcStatm | kProcIo),
        init_pidfd(init_pidfd),
        limits(limits),
        cores(cores),
        c(*counters) {
    long hz = ::sysconf(_SC_CLK_TCK);
    ns_per_tick = 1000000000u / static_cast<uint64_t>(hz > 0 ? hz : 100);
    thread = std::thread([this] { loop(); });
  }
  ~Enforcer() { stop(); }

  void stop() {
    {
      std::lock_guard<std::mutex> g(mu);
      done = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  // Stops every process but init; a process forked just before its parent stopped shows up in
  // the next listing, so list again until no new one appears.
  void stop_all() {
    size_t before = tree.workload_processes();
    tree.signal_all(SIGSTOP);
    for (int round = 0; round < 4; ++round) {
      ProcTotals t;
      tree.read(&t);
      if (tree.workload_processes() <= before) break;
      before = tree.workload_processes();
      tree.signal_all(SIGSTOP);
    }
    stopped = true;
  }
  void continue_all() {
    tree.signal_all(SIGCONT);
    stopped = false;
  }

  void publish(const ProcTotals& t) {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t rss = t.rss_pages * page;
    c.memory_current_bytes.store(rss, std::memory_order_relaxed);
    if (rss > c.memory_peak_bytes.load(std::memory_order_relaxed))
      c.memory_peak_bytes.store(rss, std::memory_order_relaxed);
    if (t.tasks > c.pids_peak.load(std::memory_order_relaxed))
      c.pids_peak.store(t.tasks, std::memory_order_relaxed);
    c.cpu_user_usec.store(t.user_ticks * ns_per_tick / 1000, std::memory_order_relaxed);
    c.cpu_system_usec.store(t.system_ticks * ns_per_tick / 1000, std::memory_order_relaxed);
    c.pgfault.store(t.minflt + t.majflt, std::memory_order_relaxed);
    c.pgmajfault.store(t.majflt, std::memory_order_relaxed);
    if (t.has_statm) {
      uint64_t shared = t.shared_pages * page;
      c.file_bytes.store(shared, std::memory_order_relaxed);
      c.anon_bytes.store(rss > shared ? rss - shared : 0, std::memory_order_relaxed);
    }
    if (t.has_io) {
      c.io_rbytes.store(t.io.read_bytes, std::memory_order_relaxed);
      c.io_wbytes.store(t.io.write_bytes, std::memory_order_relaxed);
      c.io_rios.store(t.io.syscr, std::memory_order_relaxed);
      c.io_wios.store(t.io.syscw, std::memory_order_relaxed);
    }
  }

  void loop() {
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    std::optional<CpuThrottle> throttle;
    std::unique_lock<std::mutex> lk(mu);
    while (!done) {
      lk.unlock();
      ProcTotals t;
      tree.read(&t);
      const uint64_t now = monotonic_ns();
      const uint64_t cpu_ns = (t.user_ticks + t.system_ticks) * ns_per_tick;
      publish(t);
      uint64_t next = now + kPollNs;
      if (limits.memory_max && t.rss_pages * page > *limits.memory_max) {
        // Over the limit: the kernel's OOM killer would end the group; killing init ends its
        // whole PID namespace (stopped processes too: SIGKILL wakes them).
        c.memory_max_events.fetch_add(1, std::memory_order_relaxed);
        c.oom_kills.fetch_add(1, std::memory_order_relaxed);
        send(init_pidfd, SIGKILL);
        lk.lock();
        break;
      }
      if (limits.memory_max) next = now + kMemoryPollNs;
      if (std::optional<double> q = limits.quota_cores()) {
        if (!throttle) throttle.emplace(*q, limits.cpu_period_us * 1000, cores, now, cpu_ns);
        CpuThrottle::Decision d = throttle->update(now, cpu_ns);
        if (!d.run && !stopped) stop_all();
        if (d.run && stopped) continue_all();
        c.nr_periods.store(throttle->nr_periods(), std::memory_order_relaxed);
        c.nr_throttled.store(throttle->nr_throttled(), std::memory_order_relaxed);
        c.throttled_usec.store(throttle->throttled_ns() / 1000, std::memory_order_relaxed);
        // Stopped processes neither run nor allocate: sleep to the period's end.
        next = d.run ? std::min(next, d.next_ns) : d.next_ns;
      }
      lk.lock();
      const auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next));
      cv.wait_until(lk, deadline, [this] { return done; });
    }
    lk.unlock();
    // Never leave a stopped process behind.
    if (stopped) continue_all();
  }

  ProcTree tree;
  int init_pidfd;
  Limits limits;
  unsigned cores;
  EmulatedCounters& c;
  uint64_t ns_per_tick = 10'000'000;
  bool stopped = false;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

// ---- the backend ----

std::unique_ptr<EmulatedRunCgroup> EmulatedRunCgroup::create(const RunCgroupOptions& opts,
                                                             const std::string& reason) {
  std::unique_ptr<EmulatedRunCgroup> cg(new EmulatedRunCgroup());
  cg->limits_ = opts.limits;
  cg->counters_ = std::make_unique<EmulatedCounters>();
  const Limits& l = opts.limits;
  LimitsWritten& w = cg->written_;
  w.notices.push_back(reason + ": limits are emulated from user space and counters read from "
                               "/proc (run.json \"cgroup\" says how, per limit and metric)");
  if (std::optional<double> q = l.quota_cores()) {
    w.cpu_quota_cores = *q;
    auto quota_us = static_cast<uint64_t>(*q * static_cast<double>(l.cpu_period_us));
    w.files.emplace_back("cpu.max (emulated: SIGSTOP/SIGCONT)",
                         std::to_string(quota_us) + " " + std::to_string(l.cpu_period_us));
  }
  std::vector<unsigned> avail = own_cpu_affinity();
  std::string cpus = cpuset_cpus_value(l, format_cpu_ranges(avail), &w.notices);
  if (!cpus.empty()) {
    cg->cpus_ = parse_cpu_ranges(cpus);
    w.cpuset_cpus = cpus;
    w.files.emplace_back("cpuset.cpus (sched_setaffinity)", cpus);
  }
  if (l.memory_max)
    w.files.emplace_back("memory.max (emulated: watchdog)", std::to_string(*l.memory_max));
  if (l.memory_high)
    w.notices.push_back("memory.high is not emulated (no reclaim without a cgroup)");
  if (l.pids_max)
    w.files.emplace_back("pids.max (RLIMIT_NPROC)", std::to_string(*l.pids_max));
  if (!l.io.empty())
    w.notices.push_back("io limits are not enforced without a cgroup (only counted)");
  return cg;
}

EmulatedRunCgroup::~EmulatedRunCgroup() {
  kill();
}

CgroupDirs EmulatedRunCgroup::dirs() const {
  CgroupDirs d;
  d.version = 0;
  d.procfs = procfs_.get();
  d.emulated = counters_.get();
  return d;
}

void EmulatedRunCgroup::attach(pid_t init_pid, int init_pidfd) {
  init_pid_ = init_pid;
  init_pidfd_ = ::fcntl(init_pidfd, F_DUPFD_CLOEXEC, 3);
  if (init_pidfd_ < 0) throw_errno("dup", "the container's pidfd");
  try {
    procfs_ = with_context("emulated limits: opening the container's /proc",
                           [&] { return open_container_procfs(init_pid); });
  } catch (const Error&) {
    // A workload that already ended (its init gone with it) has nothing left to limit.
    pollfd pfd{init_pidfd_, POLLIN, 0};
    if (::poll(&pfd, 1, 0) == 1) return;
    throw;
  }
  // The workload was forked by init and is about to exec: what its processes and threads have
  // now, everything they create later inherits.
  std::vector<pid_t> pids, tids;
  host_tree(init_pid, &pids, &tids);
  if (!cpus_.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned cpu : cpus_) CPU_SET(cpu, &set);
    for (pid_t tid : tids)
      if (::sched_setaffinity(tid, sizeof set, &set) != 0 && errno != ESRCH)
        throw_errno("sched_setaffinity", "the container's task " + std::to_string(tid));
  }
  if (limits_.pids_max) {
    rlimit rl{*limits_.pids_max, *limits_.pids_max};
    for (pid_t pid : pids)
      if (::prlimit(pid, RLIMIT_NPROC, &rl, nullptr) != 0 && errno != ESRCH)
        throw_errno("prlimit RLIMIT_NPROC", "the container's process " + std::to_string(pid));
  }
  unsigned cores = static_cast<unsigned>(cpus_.empty() ? own_cpu_affinity().size() : cpus_.size());
  enforcer_ = std::make_unique<Enforcer>(procfs_.get(), init_pidfd_, limits_, cores,
                                         counters_.get());
}

void EmulatedRunCgroup::reaped(const struct rusage& ru) {
  enforcer_.reset();
  EmulatedCounters& c = *counters_;
  c.cpu_user_usec = tv_usec(ru.ru_utime);
  c.cpu_system_usec = tv_usec(ru.ru_stime);
  c.memory_peak_bytes = std::max<uint64_t>(c.memory_peak_bytes, static_cast<uint64_t>(ru.ru_maxrss) * 1024);
  c.memory_current_bytes = 0;
  c.io_rbytes = static_cast<uint64_t>(ru.ru_inblock) * 512;
  c.io_wbytes = static_cast<uint64_t>(ru.ru_oublock) * 512;
  c.reaped = true;
}

void EmulatedRunCgroup::kill() {
  enforcer_.reset();  // continues whatever it stopped
  send(init_pidfd_, SIGKILL);
}

void EmulatedRunCgroup::destroy() {
  kill();
  if (init_pidfd_ >= 0) ::close(init_pidfd_);
  init_pidfd_ = -1;
}

std::vector<Fidelity> EmulatedRunCgroup::fidelity() const {
  const std::string period = std::to_string(limits_.cpu_period_us) + " us";
  return {
      {"limit", "cpu", "emulated",
       "SIGSTOP/SIGCONT of the container's processes over " + period +
           " periods, from their CPU times (10 ms clock ticks), checked every 1-10 ms; "
           "overshoot is repaid in the next period"},
      {"limit", "cpuset", "kernel",
       "sched_setaffinity of every process at start, inherited by later ones (a process may "
       "widen its own)"},
      {"limit", "memory", "emulated",
       "sum of the processes' resident sets checked every 2 ms; over the limit the container is "
       "killed (no reclaim, no memory.high)"},
      {"limit", "pids", "emulated",
       "RLIMIT_NPROC of the container's user (fork fails with EAGAIN as with pids.max; counts "
       "that uid's tasks only; not for host root)"},
      {"limit", "io", "not enforced", "counted only"},
      {"metric", "cpu", "emulated",
       "totals exact (wait4 rusage of the container's init, microseconds); samples from "
       "/proc/PID/stat (10 ms clock ticks per process)"},
      {"metric", "throttling", "emulated", "periods and stopped time of the emulated quota"},
      {"metric", "memory", "emulated",
       "sum of resident sets from /proc (pages shared by processes count once each); peak: the "
       "larger of the samples and the largest process's ru_maxrss"},
      {"metric", "io", "emulated",
       "bytes: /proc/PID/io read_bytes/write_bytes (totals: rusage in/oublock x 512); ops: read "
       "and write system calls, not block requests"},
      {"metric", "pids", "emulated", "tasks counted at each sample"},
      {"metric", "pressure", "not available", "PSI needs a cgroup"},
  };
}

}  // namespace cgprof
