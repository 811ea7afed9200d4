// cgroup v1 cpuset: CPUs and memory nodes (set). A new cpuset cgroup starts empty and takes no
// task until both are written, so the run's parent copies its own parent's first.
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "src/cgroup/v1/controllers.hpp"

namespace cgprof::v1_detail {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void cpuset_inherit(int to_fd, int from_fd) {
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    if (!trimmed(read_cgroup_file(to_fd, f)).empty()) continue;
    write_cgroup_file(to_fd, f, trimmed(read_cgroup_file(from_fd, f)));
  }
}

void cpuset_set(int leaf_fd, int parent_fd, const Limits& l, LimitsWritten* w) {
  std::string avail = trimmed(read_cgroup_file(parent_fd, "cpuset.cpus"));
  std::string mems = trimmed(read_cgroup_file(parent_fd, "cpuset.mems"));
  std::string cpus = l.cpuset || l.cores ? cpuset_cpus_value(l, avail, &w->notices) : "";
  if (cpus.empty()) {
    // No CPU limit: the whole parent set, written because v1 demands it (not a limit).
    write_cgroup_file(leaf_fd, "cpuset.cpus", avail);
    write_cgroup_file(leaf_fd, "cpuset.mems", mems);
    return;
  }
  put_limit(leaf_fd, "cpuset.cpus", cpus, w);
  put_limit(leaf_fd, "cpuset.mems", mems, w);
  w->cpuset_cpus = cpus;
}

}  // namespace cgprof::v1_detail
