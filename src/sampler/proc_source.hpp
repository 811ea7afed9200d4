// Private to the sampler: the source of the emulated backend (no cgroup). One pass over every
// process of the container's PID namespace through its procfs (cgroup_emulated.hpp: ProcTree)
// fills the Sample fields a cgroup's files would, and the enforcer's counters fill throttling and
// OOM events. No allocation after construction.
#pragma once

#include <string>
#include <vector>

#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/sampler.hpp"

namespace cgprof::detail {

class ProcSource {
 public:
  // dirs.version 0; dirs.procfs must be open (the container runs).
  ProcSource(const CgroupDirs& dirs, unsigned groups);
  // Fills the fields of the groups it serves and their valid bits; returns failed reads.
  unsigned collect(Sample* s);
  // The files it reads per process, for SamplerStats::files.
  std::vector<std::string> files() const;

 private:
  ProcTree tree_;
  const EmulatedCounters* counters_;
  unsigned groups_;
  uint64_t usec_per_tick_ = 10000, page_ = 4096;
};

}  // namespace cgprof::detail
