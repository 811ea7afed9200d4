// The emulated backend: a run without any writable cgroup (non-root on v1/hybrid hosts, v2 without
// delegation). Limits are enforced from user space and counters come from /proc, over every
// process of the container's PID namespace, read through the procfs instance mounted for it (its
// listing holds exactly the container's processes):
//   - CPU quota: the processes are stopped (SIGSTOP) once they used the period's budget, measured
//     from their own CPU times, and continued (SIGCONT) at the next period, as CFS throttles;
//     overshoot is repaid in the next period, so the long-run average holds the quota.
//   - cores / cpuset: sched_setaffinity (the kernel enforces it).
//   - memory: a watchdog sums the resident sets every few ms and kills the container over the
//     limit (exit 137, oom_kill 1, "emulated").
//   - pids: RLIMIT_NPROC (fork fails with EAGAIN, as with pids.max) plus a count.
//   - I/O: bytes and ops from /proc/PID/io; limits are not enforced.
// Exact CPU and block-I/O totals come from the wait4 rusage of the container's init, which reaps
// every process of its namespace. Nothing here is a security boundary.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cgprof/cgroup.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {

// ---- /proc parsers (pure) ----

// The fields of /proc/PID/stat that are summed (counts in clock ticks / pages).
struct ProcPidStat {
  char state = 0;
  uint64_t minflt = 0, cminflt = 0, majflt = 0, cmajflt = 0;
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;  // USER_HZ ticks
  uint64_t num_threads = 0, starttime = 0, rss_pages = 0;
};
// Parses after the last ')' of the comm field (a comm may hold spaces and parentheses).
bool parse_proc_pid_stat(const char* d, size_t n, ProcPidStat* out);

struct ProcStatm {
  uint64_t size = 0, resident = 0, shared = 0;  // pages
};
bool parse_proc_statm(const char* d, size_t n, ProcStatm* out);

struct ProcIo {
  uint64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0;
  uint64_t read_bytes = 0, write_bytes = 0, cancelled_write_bytes = 0;
};
bool parse_proc_io(const char* d, size_t n, ProcIo* out);

// ---- one pass over a PID namespace ----

// Sums over the live (and zombie) processes of the namespace. A process's times include those
// of the children it reaped (cutime, cstime), and init reaps every orphan, so the sums stay
// (nearly) constant when a process exits: exact to a clock tick per process, except for the
// moment between a reap and the reaped entry's removal.
struct ProcTotals {
  uint64_t processes = 0, tasks = 0;
  uint64_t user_ticks = 0, system_ticks = 0;
  uint64_t minflt = 0, majflt = 0;
  uint64_t rss_pages = 0;     // resident (stat): anon + file + shmem, per process
  uint64_t shared_pages = 0;  // statm "shared": file + shmem
  ProcIo io;
  bool has_stat = false, has_statm = false, has_io = false;
};

enum ProcFile : unsigned {
  kProcStat = 1u << 0,
  kProcStatm = 1u << 1,
  kProcIo = 1u << 2,
};

// The processes of one PID namespace through a procfs mounted for it (borrowed dirfd). Keeps an
// fd per process (its /proc directory and files) across passes, so a pass reads with pread into
// a fixed buffer and allocates nothing; an fd of a process that exited fails with ESRCH, so a
// reused pid is never mistaken for the old process.
class ProcTree {
 public:
  static constexpr size_t kMaxProcesses = 512;  // beyond: counted as read errors
  ProcTree(int procfs_dirfd, unsigned files);
  ~ProcTree();
  ProcTree(const ProcTree&) = delete;
  ProcTree& operator=(const ProcTree&) = delete;

  // Lists the namespace and reads every process. Returns the number of reads that failed.
  unsigned read(ProcTotals* out);
  // Signals every process seen by the last read() except PID 1 of the namespace (cgprof-init)
  // with pidfd_send_signal on its /proc directory fd. Returns how many were signalled.
  unsigned signal_all(int sig);
  // Number of processes other than PID 1 in the last read().
  size_t workload_processes() const;

 private:
  struct Entry;
  Entry* find_or_open(int pid);
  int procfs_;
  unsigned files_;
  std::unique_ptr<Entry[]> entries_;
  size_t used_ = 0;
  std::unique_ptr<char[]> buf_;
  std::unique_ptr<char[]> dents_;
};

// Opens the procfs of the container whose init is host pid `init_pid` (its /proc, through
// /proc/PID/root), checked to be a procfs whose PID 1 started when init did. Throws Error.
UniqueFd open_container_procfs(pid_t init_pid);

// ---- the emulated backend ----

// What the enforcer publishes (atomics: read by the sampler's thread without locks).
struct EmulatedCounters {
  std::atomic<uint64_t> nr_periods{0}, nr_throttled{0}, throttled_usec{0};
  std::atomic<uint64_t> memory_max_events{0}, oom_kills{0};
  std::atomic<uint64_t> memory_peak_bytes{0}, memory_current_bytes{0}, pids_peak{0};
  // Last pass of the enforcer (exact totals replace them once the container was reaped).
  std::atomic<uint64_t> cpu_user_usec{0}, cpu_system_usec{0};
  std::atomic<uint64_t> pgfault{0}, pgmajfault{0}, anon_bytes{0}, file_bytes{0};
  std::atomic<uint64_t> io_rbytes{0}, io_wbytes{0}, io_rios{0}, io_wios{0};
  std::atomic<bool> reaped{false};  // the totals above are final (wait4 rusage)
};

// The CFS-like period accounting of the CPU quota, without clocks or signals (unit-testable).
// At each check the enforcer reports the container's total CPU; the throttle says whether to
// stop it now and when to check next.
class CpuThrottle {
 public:
  CpuThrottle(double quota_cores, uint64_t period_ns, unsigned max_cores, uint64_t now_ns,
              uint64_t cpu_ns);
  struct Decision {
    bool run = true;        // the container may run until next_ns
    uint64_t next_ns = 0;   // when to check again
  };
  Decision update(uint64_t now_ns, uint64_t cpu_ns);
  uint64_t nr_periods() const { return nr_periods_; }
  uint64_t nr_throttled() const { return nr_throttled_; }
  uint64_t throttled_ns() const { return throttled_ns_; }

 private:
  void start_period(uint64_t start_ns, uint64_t cpu_ns);
  uint64_t budget_ns_, period_ns_;
  unsigned max_cores_;
  uint64_t period_start_ = 0, cpu_at_start_ = 0;
  int64_t budget_left_ = 0;  // this period's budget minus the debt carried in
  int64_t debt_ = 0;
  bool throttled_ = false;
  bool counted_throttle_ = false;
  uint64_t throttled_since_ = 0;
  uint64_t nr_periods_ = 0, nr_throttled_ = 0, throttled_ns_ = 0;
};

class EmulatedRunCgroup final : public CgroupBackend {
 public:
  // `reason`: why no cgroup could be created (the one notice line says it).
  static std::unique_ptr<EmulatedRunCgroup> create(const RunCgroupOptions& opts,
                                                   const std::string& reason);
  ~EmulatedRunCgroup() override;

  int version() const override { return 0; }
  CgroupDirs dirs() const override;
  std::vector<std::pair<std::string, std::string>> paths() const override { return {}; }
  const LimitsWritten& limits_written() const override { return written_; }
  int clone_into_fd() const override { return -1; }
  std::vector<int> join_fds() const override { return {}; }
  int kill_fd() const override { return -1; }
  std::vector<Fidelity> fidelity() const override;
  void attach(pid_t init_pid, int init_pidfd) override;
  void reaped(const struct rusage& ru) override;
  void kill() override;
  void destroy() override;

  struct Enforcer;

 private:
  EmulatedRunCgroup() = default;
  Limits limits_;
  LimitsWritten written_;
  std::vector<unsigned> cpus_;  // sched_setaffinity set ("" = all)
  UniqueFd procfs_;
  int init_pidfd_ = -1;
  pid_t init_pid_ = -1;
  std::unique_ptr<EmulatedCounters> counters_;
  std::unique_ptr<Enforcer> enforcer_;
};

// Whether a failure to create a cgroup means "no cgroup can be written here" (fall back to the
// emulated backend) rather than a broken setup: not root on a v1/hybrid host, or v2 without a
// writable (delegated) subtree.
bool cgroup_unavailable_to_us(CgroupLayout layout, uid_t euid);

}  // namespace cgprof
