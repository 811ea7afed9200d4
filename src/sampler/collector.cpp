#include "collector.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"

namespace cgprof::detail {
namespace {

struct FileSpec {
  const char* name;
  uint64_t bit;
  unsigned group;
};
constexpr FileSpec kCgroupFiles[] = {
    {"cpu.stat", kFileCpuStat, kSampleCpu},
    {"memory.current", kFileMemoryCurrent, kSampleMemory},
    {"memory.stat", kFileMemoryStat, kSampleMemory},
    {"memory.events", kFileMemoryEvents, kSampleMemory},
    {"io.stat", kFileIoStat, kSampleIo},
    {"pids.current", kFilePidsCurrent, kSamplePids},
    {"cpu.pressure", kFileCpuPressure, kSamplePsi},
    {"memory.pressure", kFileMemoryPressure, kSamplePsi},
    {"io.pressure", kFileIoPressure, kSamplePsi},
};

bool parse_into(uint64_t bit, const char* d, size_t n, Sample* s) {
  switch (bit) {
    case kFileCpuStat: {
      CpuStat c;
      bool ok = parse_cpu_stat(d, n, &c);
      s->cpu_usage_usec = c.usage_usec;
      s->cpu_user_usec = c.user_usec;
      s->cpu_system_usec = c.system_usec;
      s->cpu_nr_periods = c.nr_periods;
      s->cpu_nr_throttled = c.nr_throttled;
      s->cpu_throttled_usec = c.throttled_usec;
      return ok && (c.present & 1);
    }
    case kFileMemoryCurrent:
      return parse_single_value(d, n, &s->memory_current);
    case kFileMemoryStat: {
      MemoryStat m;
      bool ok = parse_memory_stat(d, n, &m);
      s->memory_anon = m.anon;
      s->memory_file = m.file;
      s->memory_kernel = m.kernel;
      s->memory_shmem = m.shmem;
      s->memory_pgfault = m.pgfault;
      s->memory_pgmajfault = m.pgmajfault;
      return ok && m.present != 0;
    }
    case kFileMemoryEvents: {
      MemoryEvents e;
      bool ok = parse_memory_events(d, n, &e);
      s->memory_events_high = e.high;
      s->memory_events_max = e.max;
      s->memory_events_oom = e.oom;
      s->memory_events_oom_kill = e.oom_kill;
      return ok && e.present != 0;
    }
    case kFileIoStat: {
      IoStat io;
      bool ok = parse_io_stat(d, n, &io);
      s->io_rbytes = io.total.rbytes;
      s->io_wbytes = io.total.wbytes;
      s->io_rios = io.total.rios;
      s->io_wios = io.total.wios;
      return ok;
    }
    case kFilePidsCurrent:
      return parse_single_value(d, n, &s->pids_current);
    case kFileCpuPressure:
    case kFileMemoryPressure:
    case kFileIoPressure: {
      Pressure p;
      bool ok = parse_pressure(d, n, &p);
      uint64_t* some = bit == kFileCpuPressure      ? &s->cpu_some_usec
                       : bit == kFileMemoryPressure ? &s->memory_some_usec
                                                    : &s->io_some_usec;
      uint64_t* full = bit == kFileCpuPressure      ? &s->cpu_full_usec
                       : bit == kFileMemoryPressure ? &s->memory_full_usec
                                                    : &s->io_full_usec;
      *some = p.some.total_usec;
      *full = p.full.total_usec;
      return ok && (p.present & 1);
    }
    case kFileNetDev: {
      NetDevStat net;
      bool ok = parse_net_dev(d, n, &net);
      s->net_rx_bytes = net.rx_bytes;
      s->net_tx_bytes = net.tx_bytes;
      s->net_rx_packets = net.rx_packets;
      s->net_tx_packets = net.tx_packets;
      return ok;
    }
  }
  return false;
}

}  // namespace

Collector::Collector(int cgroup_dirfd, unsigned groups, pid_t net_pid) {
  for (const FileSpec& spec : kCgroupFiles) {
    if (!(groups & spec.group)) continue;
    int fd = ::openat(cgroup_dirfd, spec.name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno != ENOENT && errno != EACCES && errno != EPERM) {
        throw_errno("open", spec.name);
      }
      absent_.emplace_back(spec.name);
      continue;
    }
    files_open_[count_].fd.reset(fd);
    files_open_[count_].bit = spec.bit;
    ++count_;
    files_.emplace_back(spec.name);
  }
  if ((groups & kSampleNet) && net_pid > 0) {
    std::string path = "/proc/" + std::to_string(net_pid) + "/net/dev";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      absent_.push_back(path);
    } else {
      files_open_[count_].fd.reset(fd);
      files_open_[count_].bit = kFileNetDev;
      ++count_;
      files_.push_back(path);
    }
  }
}

unsigned Collector::collect(Sample* s) {
  unsigned errors = 0;
  uint64_t valid = 0;
  for (size_t i = 0; i < count_; ++i) {
    ssize_t n;
    do {
      n = ::pread(files_open_[i].fd.get(), buf_, kBufSize, 0);
    } while (n < 0 && errno == EINTR);
    // A read that fills the buffer may be cut short; the parsers reject unterminated lines.
    if (n >= 0 && parse_into(files_open_[i].bit, buf_, static_cast<size_t>(n), s)) {
      valid |= files_open_[i].bit;
    } else {
      ++errors;
    }
  }
  s->valid = valid;
  return errors;
}

bool Collector::read_net(NetDevStat* out) {
  for (size_t i = 0; i < count_; ++i) {
    if (files_open_[i].bit != kFileNetDev) continue;
    ssize_t n = ::pread(files_open_[i].fd.get(), buf_, kBufSize, 0);
    return n >= 0 && parse_net_dev(buf_, static_cast<size_t>(n), out);
  }
  return false;
}

std::vector<int> Collector::fds() const {
  std::vector<int> out;
  for (size_t i = 0; i < count_; ++i) out.push_back(files_open_[i].fd.get());
  return out;
}

}  // namespace cgprof::detail
