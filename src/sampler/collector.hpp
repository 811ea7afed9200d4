// Private to the sampler: the open stat files of one cgroup and the code that turns one pass
// over them into a Sample. Shared by the sampling thread and sample_once().
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::detail {

class Collector {
 public:
  // Opens the files of `groups` (absent ones are listed by absent()). net_pid < 0: no net.
  Collector(int cgroup_dirfd, unsigned groups, pid_t net_pid);

  // Fills every field of *s except t_ns; returns the number of files that failed to read or
  // parse. No allocation, no exception.
  unsigned collect(Sample* s);

  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::string>& absent() const { return absent_; }
  size_t open_count() const { return count_; }
  // Reads and parses /proc/PID/net/dev alone; false if not opened or unreadable.
  bool read_net(NetDevStat* out);
  // The raw fds, for the benchmark's pread-only floor.
  std::vector<int> fds() const;

 private:
  static constexpr size_t kMaxFiles = 10;
  static constexpr size_t kBufSize = 32768;
  struct File {
    UniqueFd fd;
    uint64_t bit = 0;  // SampleFile
  };
  File files_open_[kMaxFiles];
  size_t count_ = 0;
  std::vector<std::string> files_, absent_;
  alignas(64) char buf_[kBufSize];
};

}  // namespace cgprof::detail
