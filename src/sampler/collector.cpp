#include "collector.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgprof/cgroup_v1.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"

namespace cgprof::detail {
namespace {

// The v1 files that need their own parser (each sets the valid bit of the v2 file whose fields
// it fills); the others parse as the v2 file they stand for.
enum V1Kind : uint64_t {
  kV1CpuacctUsage = 1ull << 32,
  kV1CpuacctStat = 1ull << 33,
  kV1CpuStat = 1ull << 34,
  kV1MemoryStat = 1ull << 35,
  kV1OomControl = 1ull << 36,
  kV1Failcnt = 1ull << 37,
  kV1BlkioBytes = 1ull << 38,
  kV1BlkioOps = 1ull << 39,
};
// For each counter file the cgroup module opens: the valid bit it contributes to, and how to
// parse it (a SampleFile bit for the v2 formats, else a V1Kind).
struct KindSpec {
  CounterFile file;
  uint64_t bit, kind;
};
constexpr KindSpec kKinds[] = {
    {CounterFile::kCpuStat, kFileCpuStat, kFileCpuStat},
    {CounterFile::kMemoryCurrent, kFileMemoryCurrent, kFileMemoryCurrent},
    {CounterFile::kMemoryStat, kFileMemoryStat, kFileMemoryStat},
    {CounterFile::kMemoryEvents, kFileMemoryEvents, kFileMemoryEvents},
    {CounterFile::kIoStat, kFileIoStat, kFileIoStat},
    {CounterFile::kPidsCurrent, kFilePidsCurrent, kFilePidsCurrent},
    {CounterFile::kCpuPressure, kFileCpuPressure, kFileCpuPressure},
    {CounterFile::kMemoryPressure, kFileMemoryPressure, kFileMemoryPressure},
    {CounterFile::kIoPressure, kFileIoPressure, kFileIoPressure},
    {CounterFile::kV1CpuacctUsage, kFileCpuStat, kV1CpuacctUsage},
    {CounterFile::kV1CpuacctStat, kFileCpuStat, kV1CpuacctStat},
    {CounterFile::kV1CpuStat, kFileCpuStat, kV1CpuStat},
    {CounterFile::kV1MemoryUsage, kFileMemoryCurrent, kFileMemoryCurrent},
    {CounterFile::kV1MemoryStat, kFileMemoryStat, kV1MemoryStat},
    {CounterFile::kV1OomControl, kFileMemoryEvents, kV1OomControl},
    {CounterFile::kV1Failcnt, kFileMemoryEvents, kV1Failcnt},
    {CounterFile::kV1BlkioBytes, kFileIoStat, kV1BlkioBytes},
    {CounterFile::kV1BlkioOps, kFileIoStat, kV1BlkioOps},
    {CounterFile::kV1PidsCurrent, kFilePidsCurrent, kFilePidsCurrent},
};
const KindSpec& kind_of(CounterFile f) {
  for (const KindSpec& k : kKinds)
    if (k.file == f) return k;
  throw Error("internal: counter file without a parser");
}

// Which parsed field goes to which Sample field, per file.
template <class Stat>
struct FieldCopy {
  uint64_t Stat::*from;
  uint64_t Sample::*to;
};
template <class Stat, size_t N>
void copy_fields(const Stat& stat, const FieldCopy<Stat> (&fields)[N], Sample* s) {
  for (const FieldCopy<Stat>& f : fields) s->*f.to = stat.*f.from;
}

constexpr FieldCopy<CpuStat> kCpuFields[] = {
    {&CpuStat::usage_usec, &Sample::cpu_usage_usec},
    {&CpuStat::user_usec, &Sample::cpu_user_usec},
    {&CpuStat::system_usec, &Sample::cpu_system_usec},
    {&CpuStat::nr_periods, &Sample::cpu_nr_periods},
    {&CpuStat::nr_throttled, &Sample::cpu_nr_throttled},
    {&CpuStat::throttled_usec, &Sample::cpu_throttled_usec}};
constexpr FieldCopy<MemoryStat> kMemoryFields[] = {
    {&MemoryStat::anon, &Sample::memory_anon},
    {&MemoryStat::file, &Sample::memory_file},
    {&MemoryStat::kernel, &Sample::memory_kernel},
    {&MemoryStat::shmem, &Sample::memory_shmem},
    {&MemoryStat::pgfault, &Sample::memory_pgfault},
    {&MemoryStat::pgmajfault, &Sample::memory_pgmajfault}};
constexpr FieldCopy<MemoryEvents> kEventFields[] = {
    {&MemoryEvents::high, &Sample::memory_events_high},
    {&MemoryEvents::max, &Sample::memory_events_max},
    {&MemoryEvents::oom, &Sample::memory_events_oom},
    {&MemoryEvents::oom_kill, &Sample::memory_events_oom_kill}};
constexpr FieldCopy<IoDeviceStat> kIoFields[] = {{&IoDeviceStat::rbytes, &Sample::io_rbytes},
                                                 {&IoDeviceStat::wbytes, &Sample::io_wbytes},
                                                 {&IoDeviceStat::rios, &Sample::io_rios},
                                                 {&IoDeviceStat::wios, &Sample::io_wios}};
constexpr FieldCopy<NetDevStat> kNetFields[] = {{&NetDevStat::rx_bytes, &Sample::net_rx_bytes},
                                                {&NetDevStat::tx_bytes, &Sample::net_tx_bytes},
                                                {&NetDevStat::rx_packets, &Sample::net_rx_packets},
                                                {&NetDevStat::tx_packets, &Sample::net_tx_packets}};
struct PressureFields {
  uint64_t file_bit;
  uint64_t Sample::*some;
  uint64_t Sample::*full;
};
constexpr PressureFields kPressureFields[] = {
    {kFileCpuPressure, &Sample::cpu_some_usec, &Sample::cpu_full_usec},
    {kFileMemoryPressure, &Sample::memory_some_usec, &Sample::memory_full_usec},
    {kFileIoPressure, &Sample::io_some_usec, &Sample::io_full_usec}};

bool parse_into(uint64_t kind, const char* d, size_t n, uint64_t usec_per_tick, Sample* s) {
  switch (kind) {
    case kV1CpuacctUsage: {
      uint64_t ns = 0;
      bool ok = parse_single_value(d, n, &ns);
      s->cpu_usage_usec = ns / 1000;
      return ok;
    }
    case kV1CpuacctStat: {
      CpuStat c;
      bool ok = parse_cpuacct_stat(d, n, usec_per_tick, &c);
      s->cpu_user_usec = c.user_usec;
      s->cpu_system_usec = c.system_usec;
      return ok && (c.present & 6) == 6;
    }
    case kV1CpuStat: {
      CpuStat c;
      bool ok = parse_cpu_stat_v1(d, n, &c);
      s->cpu_nr_periods = c.nr_periods;
      s->cpu_nr_throttled = c.nr_throttled;
      s->cpu_throttled_usec = c.throttled_usec;
      return ok && (c.present & 8);
    }
    case kV1MemoryStat: {
      MemoryStat m;
      bool ok = parse_memory_stat_v1(d, n, &m);
      copy_fields(m, kMemoryFields, s);
      return ok && m.present != 0;
    }
    case kV1OomControl: {
      MemoryEvents e;
      bool ok = parse_memory_oom_control(d, n, &e, nullptr);
      s->memory_events_oom_kill = e.oom_kill;
      return ok;
    }
    case kV1Failcnt:
      return parse_single_value(d, n, &s->memory_events_max);
    case kV1BlkioBytes:
    case kV1BlkioOps: {
      IoStat io;
      bool bytes = kind == kV1BlkioBytes;
      bool ok = parse_blkio_throttle(d, n, bytes ? BlkioCounter::kBytes : BlkioCounter::kOps, &io);
      if (bytes) {
        s->io_rbytes = io.total.rbytes;
        s->io_wbytes = io.total.wbytes;
      } else {
        s->io_rios = io.total.rios;
        s->io_wios = io.total.wios;
      }
      return ok;
    }
    case kFileCpuStat: {
      CpuStat c;
      bool ok = parse_cpu_stat(d, n, &c);
      copy_fields(c, kCpuFields, s);
      return ok && (c.present & 1);
    }
    case kFileMemoryCurrent:
      return parse_single_value(d, n, &s->memory_current);
    case kFileMemoryStat: {
      MemoryStat m;
      bool ok = parse_memory_stat(d, n, &m);
      copy_fields(m, kMemoryFields, s);
      return ok && m.present != 0;
    }
    case kFileMemoryEvents: {
      MemoryEvents e;
      bool ok = parse_memory_events(d, n, &e);
      copy_fields(e, kEventFields, s);
      return ok && e.present != 0;
    }
    case kFileIoStat: {
      IoStat io;
      bool ok = parse_io_stat(d, n, &io);
      copy_fields(io.total, kIoFields, s);
      return ok;
    }
    case kFilePidsCurrent:
      return parse_single_value(d, n, &s->pids_current);
    case kFileCpuPressure:
    case kFileMemoryPressure:
    case kFileIoPressure: {
      Pressure p;
      bool ok = parse_pressure(d, n, &p);
      for (const PressureFields& f : kPressureFields) {
        if (f.file_bit != kind) continue;
        s->*f.some = p.some.total_usec;
        s->*f.full = p.full.total_usec;
      }
      return ok && (p.present & 1);
    }
    case kFileNetDev: {
      NetDevStat net;
      bool ok = parse_net_dev(d, n, &net);
      copy_fields(net, kNetFields, s);
      return ok;
    }
  }
  return false;
}

// Nanoseconds from t_ns (CLOCK_MONOTONIC) to now.
uint64_t elapsed_since(uint64_t t_ns) {
  uint64_t now = monotonic_ns();
  return now > t_ns ? now - t_ns : 0;
}

}  // namespace

void Collector::add(UniqueFd fd, uint64_t bit, uint64_t kind, const std::string& name) {
  File& f = files_open_[count_++];
  f.fd = std::move(fd);
  f.bit = bit;
  f.kind = kind;
  f.marks_cpu_read = kind == kFileCpuStat || kind == kV1CpuacctUsage;
  files_.push_back(name);
}

Collector::Collector(const CgroupDirs& dirs, unsigned groups, pid_t net_pid) {
  if (dirs.version == 0) {
    if (groups & (kSampleCpu | kSampleMemory | kSampleIo | kSamplePids)) {
      proc_ = std::make_unique<ProcSource>(dirs, groups);
      files_ = proc_->files();
    }
  } else if (dirs.version == 1) {
    long hz = ::sysconf(_SC_CLK_TCK);
    usec_per_tick_ = 1000000 / static_cast<uint64_t>(hz > 0 ? hz : 100);
  }
  if (dirs.version != 0) {
    CounterFiles cf = open_counter_files(dirs, groups & ~static_cast<unsigned>(kSampleNet));
    absent_ = std::move(cf.absent);
    for (OpenedCounterFile& f : cf.opened) {
      const KindSpec& k = kind_of(f.kind);
      add(std::move(f.fd), k.bit, k.kind, f.name);
    }
  }
  if ((groups & kSampleNet) && net_pid > 0) {
    std::string path = "/proc/" + std::to_string(net_pid) + "/net/dev";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      absent_.push_back(path);
    } else {
      add(UniqueFd(fd), kFileNetDev, kFileNetDev, path);
    }
  }
}

unsigned Collector::collect(Sample* s) {
  unsigned errors = 0;
  uint64_t valid = 0, failed = 0;
  if (proc_) {
    errors += proc_->collect(s);
    valid = s->valid;
  }
  for (size_t i = 0; i < count_; ++i) {
    const File& f = files_open_[i];
    ssize_t n;
    do {
      n = ::pread(f.fd.get(), buf_, kBufSize, 0);
    } while (n < 0 && errno == EINTR);
    // A read that fills the buffer may be cut short; the parsers reject unterminated lines.
    if (f.marks_cpu_read) s->cpu_read_ns = elapsed_since(s->t_ns);
    if (n >= 0 && parse_into(f.kind, buf_, static_cast<size_t>(n), usec_per_tick_, s)) {
      valid |= f.bit;
    } else {
      failed |= f.bit;
      ++errors;
    }
  }
  s->valid = valid & ~failed;
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
