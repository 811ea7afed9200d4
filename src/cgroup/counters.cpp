// The counters of a run cgroup: snapshots for the totals (read_counters) and the files the
// sampler preads at every tick (open_counter_files). The one place outside the backends' own
// code that opens a controller file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"

namespace cgprof {
namespace {

std::optional<std::string> try_read(int dirfd, const char* name) {
  return try_read_cgroup_file(dirfd, name);
}
std::optional<uint64_t> try_value(int dirfd, const char* name) {
  return try_read_cgroup_value(dirfd, name);
}

// The network namespace's counters through a pid in it (net_pid <= 0: none).
void read_net(pid_t net_pid, CounterSnapshot* s) {
  if (net_pid <= 0) return;
  std::string path = "/proc/" + std::to_string(net_pid) + "/net/dev";
  if (auto t = try_read(AT_FDCWD, path.c_str()))
    s->has_net = parse_net_dev(t->data(), t->size(), &s->net);
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
  read_net(net_pid, &s);
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
  read_net(net_pid, &s);
  return s;
}

namespace {

struct CounterFileSpec {
  const char* name;
  const char* fallback;  // opened when `name` does not exist (older kernels)
  int CgroupDirs::*dir;
  CounterFile kind;
  unsigned group;
};
constexpr CounterFileSpec kV2Files[] = {
    {"cpu.stat", nullptr, &CgroupDirs::unified, CounterFile::kCpuStat, kCountersCpu},
    {"memory.current", nullptr, &CgroupDirs::unified, CounterFile::kMemoryCurrent, kCountersMemory},
    {"memory.stat", nullptr, &CgroupDirs::unified, CounterFile::kMemoryStat, kCountersMemory},
    {"memory.events", nullptr, &CgroupDirs::unified, CounterFile::kMemoryEvents, kCountersMemory},
    {"io.stat", nullptr, &CgroupDirs::unified, CounterFile::kIoStat, kCountersIo},
    {"pids.current", nullptr, &CgroupDirs::unified, CounterFile::kPidsCurrent, kCountersPids},
    {"cpu.pressure", nullptr, &CgroupDirs::unified, CounterFile::kCpuPressure, kCountersPsi},
    {"memory.pressure", nullptr, &CgroupDirs::unified, CounterFile::kMemoryPressure, kCountersPsi},
    {"io.pressure", nullptr, &CgroupDirs::unified, CounterFile::kIoPressure, kCountersPsi},
};
constexpr CounterFileSpec kV1Files[] = {
    {"cpuacct.usage", nullptr, &CgroupDirs::cpuacct, CounterFile::kV1CpuacctUsage, kCountersCpu},
    {"cpuacct.stat", nullptr, &CgroupDirs::cpuacct, CounterFile::kV1CpuacctStat, kCountersCpu},
    {"cpu.stat", nullptr, &CgroupDirs::cpu, CounterFile::kV1CpuStat, kCountersCpu},
    {"memory.usage_in_bytes", nullptr, &CgroupDirs::memory, CounterFile::kV1MemoryUsage,
     kCountersMemory},
    {"memory.stat", nullptr, &CgroupDirs::memory, CounterFile::kV1MemoryStat, kCountersMemory},
    {"memory.oom_control", nullptr, &CgroupDirs::memory, CounterFile::kV1OomControl,
     kCountersMemory},
    {"memory.failcnt", nullptr, &CgroupDirs::memory, CounterFile::kV1Failcnt, kCountersMemory},
    {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes",
     &CgroupDirs::blkio, CounterFile::kV1BlkioBytes, kCountersIo},
    {"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced", &CgroupDirs::blkio,
     CounterFile::kV1BlkioOps, kCountersIo},
    {"pids.current", nullptr, &CgroupDirs::pids, CounterFile::kV1PidsCurrent, kCountersPids},
};

// -1 when absent (no such file, not ours to read, or the controller is not mounted: dirfd -1).
int open_counter(int dirfd, const char* name) {
  if (dirfd < 0) return -1;
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT && errno != EACCES && errno != EPERM) throw_errno("open", name);
  return fd;
}

}  // namespace

CounterFiles open_counter_files(const CgroupDirs& dirs, unsigned groups) {
  CounterFiles out;
  auto open_all = [&](const auto& specs) {
    for (const CounterFileSpec& spec : specs) {
      if (!(groups & spec.group)) continue;
      const char* name = spec.name;
      int fd = open_counter(dirs.*spec.dir, name);
      if (fd < 0 && spec.fallback) fd = open_counter(dirs.*spec.dir, name = spec.fallback);
      if (fd < 0) {
        out.absent.emplace_back(spec.name);
        continue;
      }
      out.opened.push_back({UniqueFd(fd), spec.kind, name});
    }
  };
  if (dirs.version == 1) {
    open_all(kV1Files);
  } else {
    open_all(kV2Files);
  }
  return out;
}

}  // namespace cgprof
