// Private to the sampler: the open stat files of one cgroup and the code that turns one pass
// over them into a Sample. Shared by the sampling thread and sample_once().
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgprof/cgroup.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"
#include "proc_source.hpp"

namespace cgprof::detail {

class Collector {
 public:
  // Takes the counter files of `groups` from the cgroup module (open_counter_files; absent ones
  // are listed by absent()) and opens /proc/<net_pid>/net/dev (net_pid < 0: no net). Version 0
  // (the emulated backend): the container's processes through its procfs instead. A v1 cgroup's
  // files are mapped onto the same Sample fields (cgroup_v1.hpp); a valid bit then says that
  // every file behind it was read.
  Collector(const CgroupDirs& dirs, unsigned groups, pid_t net_pid);
  Collector(int cgroup_dirfd, unsigned groups, pid_t net_pid)
      : Collector(CgroupDirs{2, cgroup_dirfd}, groups, net_pid) {}

  // Fills every field of *s except t_ns; returns the number of files that failed to read or
  // parse. No allocation, no exception.
  unsigned collect(Sample* s);

  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::string>& absent() const { return absent_; }
  size_t open_count() const { return count_ + (proc_ ? 1 : 0); }
  // Reads and parses /proc/PID/net/dev alone; false if not opened or unreadable.
  bool read_net(NetDevStat* out);
  // The raw fds, for the benchmark's pread-only floor.
  std::vector<int> fds() const;

 private:
  static constexpr size_t kMaxFiles = 16;
  static constexpr size_t kBufSize = 32768;
  struct File {
    UniqueFd fd;
    uint64_t bit = 0;   // SampleFile: the valid bit this file contributes to
    uint64_t kind = 0;  // how to parse it: a SampleFile bit (v2), or a v1 kind (collector.cpp)
    bool marks_cpu_read = false;  // Sample::cpu_read_ns is taken right after reading it
  };
  void add(UniqueFd fd, uint64_t bit, uint64_t kind, const std::string& name);
  File files_open_[kMaxFiles];
  std::unique_ptr<ProcSource> proc_;
  size_t count_ = 0;
  std::vector<std::string> files_, absent_;
  uint64_t usec_per_tick_ = 10000;  // cpuacct.stat's USER_HZ ticks
  alignas(64) char buf_[kBufSize];
};

}  // namespace cgprof::detail
