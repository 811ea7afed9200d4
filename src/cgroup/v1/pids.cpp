// cgroup v1 pids: pids.max (set); pids.current, pids.peak (stat).
#include "cgprof/cgroup_v1.hpp"
#include "src/cgroup/v1/controllers.hpp"
#include "src/cgroup/v1/v1_files.hpp"

namespace cgprof {
using namespace v1_detail;

namespace v1 {
void pids_stat(int fd, std::optional<uint64_t>* current, std::optional<uint64_t>* peak) {
  *current = try_read_cgroup_value(fd, "pids.current");
  *peak = try_read_cgroup_value(fd, "pids.peak");
}
}  // namespace v1

namespace v1_detail {
void pids_set(int leaf_fd, const Limits& l, LimitsWritten* w) {
  put_limit(leaf_fd, "pids.max", l.pids_max ? std::to_string(*l.pids_max) : "max", w);
}
}  // namespace v1_detail
}  // namespace cgprof
