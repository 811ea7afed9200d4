#include "collector.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgprof/clock.hpp"
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

bool parse_into(uint64_t bit, const char* d, size_t n, Sample* s) {
  switch (bit) {
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
        if (f.file_bit != bit) continue;
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
    if (files_open_[i].bit == kFileCpuStat) s->cpu_read_ns = elapsed_since(s->t_ns);
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
