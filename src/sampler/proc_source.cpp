#include "proc_source.hpp"

#include <unistd.h>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"

namespace cgprof::detail {
namespace {

unsigned proc_files_for(unsigned groups) {
  unsigned f = kProcStat;  // CPU, faults, threads and RSS are all in stat
  if (groups & kSampleMemory) f |= kProcStatm;
  if (groups & kSampleIo) f |= kProcIo;
  return f;
}

}  // namespace

ProcSource::ProcSource(const CgroupDirs& dirs, unsigned groups)
    : tree_(dirs.procfs, proc_files_for(groups)), counters_(dirs.emulated), groups_(groups) {
  long hz = ::sysconf(_SC_CLK_TCK);
  usec_per_tick_ = 1000000 / static_cast<uint64_t>(hz > 0 ? hz : 100);
  long page = ::sysconf(_SC_PAGESIZE);
  page_ = static_cast<uint64_t>(page > 0 ? page : 4096);
}

std::vector<std::string> ProcSource::files() const {
  std::vector<std::string> f = {"/proc/PID/stat"};
  if (groups_ & kSampleMemory) f.emplace_back("/proc/PID/statm");
  if (groups_ & kSampleIo) f.emplace_back("/proc/PID/io");
  return f;
}

unsigned ProcSource::collect(Sample* s) {
  ProcTotals t;
  unsigned errors = tree_.read(&t);
  s->cpu_read_ns = monotonic_ns() - s->t_ns;
  uint64_t valid = 0;
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  if ((groups_ & kSampleCpu) && t.has_stat) {
    s->cpu_user_usec = t.user_ticks * usec_per_tick_;
    s->cpu_system_usec = t.system_ticks * usec_per_tick_;
    s->cpu_usage_usec = s->cpu_user_usec + s->cpu_system_usec;
    if (counters_) {
      s->cpu_nr_periods = load(counters_->nr_periods);
      s->cpu_nr_throttled = load(counters_->nr_throttled);
      s->cpu_throttled_usec = load(counters_->throttled_usec);
    }
    valid |= kFileCpuStat;
  }
  if ((groups_ & kSampleMemory) && t.has_stat) {
    s->memory_current = t.rss_pages * page_;
    valid |= kFileMemoryCurrent;
    s->memory_pgfault = t.minflt + t.majflt;
    s->memory_pgmajfault = t.majflt;
    if (t.has_statm) {
      uint64_t shared = t.shared_pages * page_;
      s->memory_file = shared;
      s->memory_anon = s->memory_current > shared ? s->memory_current - shared : 0;
      valid |= kFileMemoryStat;
    }
    if (counters_) {
      s->memory_events_max = load(counters_->memory_max_events);
      s->memory_events_oom_kill = load(counters_->oom_kills);
      valid |= kFileMemoryEvents;
    }
  }
  if ((groups_ & kSampleIo) && t.has_io) {
    s->io_rbytes = t.io.read_bytes;
    s->io_wbytes = t.io.write_bytes;
    s->io_rios = t.io.syscr;
    s->io_wios = t.io.syscw;
    valid |= kFileIoStat;
  }
  if ((groups_ & kSamplePids) && t.has_stat) {
    s->pids_current = t.tasks;
    valid |= kFilePidsCurrent;
  }
  s->valid = valid;
  return errors;
}

}  // namespace cgprof::detail
