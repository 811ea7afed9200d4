// Private to the v1 backend: the "set" half of each controller file (the "stat" half and the
// parsers are public in cgroup_v1.hpp). Each writes into the run cgroup of its hierarchy and
// records what it wrote, and every limit it cannot express, in *w.
#pragma once

#include <string>

#include "cgprof/cgroup.hpp"
#include "cgprof/device.hpp"

namespace cgprof::v1_detail {

// Writes value to file below dirfd and records it in w->files.
void put_limit(int dirfd, const std::string& file, const std::string& value, LimitsWritten* w);

// cpuset: a new cpuset cgroup has no CPUs and no memory nodes, and takes no task until it has
// both: copy them from `from_fd` into `to_fd` when empty (for the "cgprof" parent).
void cpuset_inherit(int to_fd, int from_fd);
// The leaf's cpuset.cpus (the limit's, else all of the parent's) and cpuset.mems (the parent's).
void cpuset_set(int leaf_fd, int parent_fd, const Limits& l, LimitsWritten* w);
// cpu.cfs_period_us, cpu.cfs_quota_us (-1 without a quota); a notice where CFS quota is absent.
void cpu_set(int leaf_fd, const Limits& l, LimitsWritten* w);
// memory.limit_in_bytes, memory.memsw.limit_in_bytes (or memory.swappiness 0 and a notice),
// a notice for memory.high.
void memory_set(int leaf_fd, const Limits& l, LimitsWritten* w);
// blkio.throttle.{read,write}_{bps,iops}_device, one line per disk and key.
void blkio_set(int leaf_fd, const Limits& l, const std::string& rootfs, int sys_dirfd,
               LimitsWritten* w);
// pids.max.
void pids_set(int leaf_fd, const Limits& l, LimitsWritten* w);
// freezer: FROZEN, SIGKILL to every task of cgroup.procs, THAWED. The tasks cannot fork while
// frozen, so none escapes; they die once thawed. Throws Error.
void freezer_kill(int leaf_fd, const std::string& shown);
// Polls cgroup.procs until it is empty, at most timeout_ms. True if empty.
bool wait_no_procs(int leaf_fd, int timeout_ms);

}  // namespace cgprof::v1_detail
