// Start/end snapshots of a cgroup's counters, host information, and new run metadata.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

std::optional<std::string> try_read(int dirfd, const char* name) {
  return try_read_cgroup_file(dirfd, name);
}
std::optional<uint64_t> try_value(int dirfd, const char* name) {
  return try_read_cgroup_value(dirfd, name);
}

}  // namespace

CounterSnapshot read_counters(int cgroup_dirfd, pid_t net_pid) {
  struct stat st;
  if (::fstat(cgroup_dirfd, &st) != 0) throw_errno("fstat", "cgroup directory");
  if (!S_ISDIR(st.st_mode)) throw Error("read_counters: the cgroup fd is not a directory");
  CounterSnapshot s;
  s.t_ns = monotonic_ns();
  if (auto t = try_read(cgroup_dirfd, "cpu.stat")) {
    s.has_cpu = parse_cpu_stat(t->data(), t->size(), &s.cpu) || (s.cpu.present & 1);
  }
  if (auto t = try_read(cgroup_dirfd, "memory.stat")) {
    s.has_memory_stat = parse_memory_stat(t->data(), t->size(), &s.memory) || s.memory.present;
  }
  if (auto t = try_read(cgroup_dirfd, "memory.events")) {
    s.has_memory_events = parse_memory_events(t->data(), t->size(), &s.events) || s.events.present;
  }
  if (auto t = try_read(cgroup_dirfd, "io.stat")) {
    s.has_io = parse_io_stat(t->data(), t->size(), &s.io);
  }
  auto cpu_p = try_read(cgroup_dirfd, "cpu.pressure");
  auto mem_p = try_read(cgroup_dirfd, "memory.pressure");
  auto io_p = try_read(cgroup_dirfd, "io.pressure");
  if (cpu_p && mem_p && io_p) {
    bool a = parse_pressure(cpu_p->data(), cpu_p->size(), &s.cpu_pressure);
    bool b = parse_pressure(mem_p->data(), mem_p->size(), &s.memory_pressure);
    bool c = parse_pressure(io_p->data(), io_p->size(), &s.io_pressure);
    s.has_psi = a && b && c;
  }
  s.memory_current = try_value(cgroup_dirfd, "memory.current");
  s.memory_peak = try_value(cgroup_dirfd, "memory.peak");
  s.pids_current = try_value(cgroup_dirfd, "pids.current");
  s.pids_peak = try_value(cgroup_dirfd, "pids.peak");
  if (net_pid > 0) {
    std::string path = "/proc/" + std::to_string(net_pid) + "/net/dev";
    if (auto t = try_read(AT_FDCWD, path.c_str())) {
      s.has_net = parse_net_dev(t->data(), t->size(), &s.net);
    }
  }
  return s;
}

namespace {

// The emulated backend: its enforcer's counters (final, from wait4 rusage, once reaped).
CounterSnapshot emulated_counters(const EmulatedCounters* c) {
  CounterSnapshot s;
  s.t_ns = monotonic_ns();
  if (!c) return s;
  auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.has_cpu = s.has_memory_stat = s.has_memory_events = s.has_io = true;
  s.cpu.user_usec = v(c->cpu_user_usec);
  s.cpu.system_usec = v(c->cpu_system_usec);
  s.cpu.usage_usec = s.cpu.user_usec + s.cpu.system_usec;
  s.cpu.nr_periods = v(c->nr_periods);
  s.cpu.nr_throttled = v(c->nr_throttled);
  s.cpu.throttled_usec = v(c->throttled_usec);
  s.memory.anon = v(c->anon_bytes);
  s.memory.file = v(c->file_bytes);
  s.memory.pgfault = v(c->pgfault);
  s.memory.pgmajfault = v(c->pgmajfault);
  s.events.max = v(c->memory_max_events);
  s.events.oom_kill = v(c->oom_kills);
  s.io.total.rbytes = v(c->io_rbytes);
  s.io.total.wbytes = v(c->io_wbytes);
  s.io.total.rios = v(c->io_rios);
  s.io.total.wios = v(c->io_wios);
  s.memory_current = v(c->memory_current_bytes);
  s.memory_peak = v(c->memory_peak_bytes);
  s.memory_peak_file = "emulated: /proc samples and wait4 ru_maxrss";
  s.pids_peak = v(c->pids_peak);
  return s;
}

}  // namespace

CounterSnapshot read_counters(const CgroupDirs& dirs, pid_t net_pid) {
  if (dirs.version == 0) return emulated_counters(dirs.emulated);
  if (dirs.version != 1) return read_counters(dirs.unified, net_pid);
  CounterSnapshot s;
  s.t_ns = monotonic_ns();
  s.has_cpu = v1::cpu_stat(dirs.cpu, dirs.cpuacct, &s.cpu);
  v1::MemoryCounters m = v1::memory_stat(dirs.memory);
  s.has_memory_stat = m.has_stat;
  s.memory = m.stat;
  s.has_memory_events = m.has_events;
  s.events = m.events;
  s.memory_current = m.current;
  s.memory_peak = m.peak;
  s.memory_peak_file = "memory.max_usage_in_bytes";
  s.has_io = v1::blkio_stat(dirs.blkio, &s.io);
  v1::pids_stat(dirs.pids, &s.pids_current, &s.pids_peak);
  if (net_pid > 0) {
    std::string path = "/proc/" + std::to_string(net_pid) + "/net/dev";
    if (auto t = try_read(AT_FDCWD, path.c_str())) {
      s.has_net = parse_net_dev(t->data(), t->size(), &s.net);
    }
  }
  return s;
}

HostInfo read_host_info() {
  HostInfo h;
  utsname u;
  if (::uname(&u) == 0) {
    h.kernel = u.release;
    h.hostname = u.nodename;
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  h.cores = n > 0 ? static_cast<unsigned>(n) : 0;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t b = line.find_first_not_of(" \t", colon + 1);
        h.cpu_model = b == std::string::npos ? "" : line.substr(b);
      }
      break;
    }
  }
  return h;
}

ReferenceScore measure_reference_score() {
  // Chunks of a fixed loop: xorshift64 (integer shifts and xors) feeding a dependent
  // multiply-add chain, so neither the compiler nor the CPU can skip or overlap much of it. The
  // rate is per CPU second of this thread, so time spent preempted on a busy host does not count;
  // the median chunk ignores the first, slower chunks while the core clocks up.
  constexpr uint64_t kChunk = 1 << 16;
  constexpr int64_t kCpuBudgetNs = 50'000'000, kWallBudgetNs = 250'000'000;
  auto thread_cpu_ns = [] { return static_cast<int64_t>(clock_ns(CLOCK_THREAD_CPUTIME_ID)); };
  uint64_t a = 0x9E3779B97F4A7C15ull;
  double f = 1.0;
  std::vector<double> rates;
  const int64_t cpu0 = thread_cpu_ns(), wall0 = static_cast<int64_t>(monotonic_ns());
  int64_t cpu = cpu0;
  while (cpu - cpu0 < kCpuBudgetNs && static_cast<int64_t>(monotonic_ns()) - wall0 < kWallBudgetNs) {
    for (uint64_t i = 0; i < kChunk; ++i) {
      a ^= a << 13;
      a ^= a >> 7;
      a ^= a << 17;
      f = f * 0.9999999 + static_cast<double>(a & 0xff) * 1e-7;
    }
    const int64_t now = thread_cpu_ns();
    if (now > cpu) rates.push_back(static_cast<double>(kChunk) / 1e6 / (static_cast<double>(now - cpu) / 1e9));
    cpu = now;
  }
  volatile double sink = f + static_cast<double>(a & 1);  // keeps the loop's result alive
  (void)sink;
  ReferenceScore s;
  s.name = "cgprof-ref-1";
  s.cpu_seconds = static_cast<double>(cpu - cpu0) / 1e9;
  if (!rates.empty()) {
    std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
    s.rate = rates[rates.size() / 2];
  }
  return s;
}

std::string new_run_id() {
  time_t now = ::time(nullptr);
  tm utc;
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string(stamp) + "-" + suffix;
}

std::string utc_timestamp_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

RunResult new_run_result() {
  RunResult r;
  r.cgprof_version = CGPROF_VERSION;
  r.run_id = new_run_id();
  r.started_at = utc_timestamp_now();
  r.host = read_host_info();
  const char* ref = std::getenv("CGPROF_REFERENCE_SCORE");
  if (!ref || std::string(ref) != "0") r.host.reference = measure_reference_score();
  return r;
}

}  // namespace cgprof
