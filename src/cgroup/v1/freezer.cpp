// cgroup v1 freezer: the kill that nothing escapes by forking (v1 has no cgroup.kill).
#include <signal.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"
#include "src/cgroup/run_dirs.hpp"
#include "src/cgroup/v1/controllers.hpp"

namespace cgprof::v1_detail {
namespace {

std::vector<std::string> procs(int leaf_fd) {
  return split_words(read_cgroup_file(leaf_fd, "cgroup.procs"));
}

}  // namespace

bool wait_no_procs(int leaf_fd, int timeout_ms) {
  for (int waited = 0;; waited += 2) {
    try {
      if (procs(leaf_fd).empty()) return true;
    } catch (const Error& e) {
      if (e.sys_errno() == ENOENT) return true;  // removed already
      return false;
    }
    if (waited >= timeout_ms) return false;
    cgroup_detail::sleep_ms(2);
  }
}

void freezer_kill(int leaf_fd, const std::string& shown) {
  write_cgroup_file(leaf_fd, "freezer.state", "FROZEN");
  // FREEZING until every task has stopped; a task in an uninterruptible sleep may delay it.
  for (int i = 0; i < 500; ++i) {
    std::string state = read_cgroup_file(leaf_fd, "freezer.state");
    if (state.compare(0, 6, "FROZEN") == 0) break;
    cgroup_detail::sleep_ms(2);
  }
  for (const std::string& p : procs(leaf_fd)) {
    uint64_t pid;
    if (parse_u64(p.data(), p.data() + p.size(), &pid)) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  write_cgroup_file(leaf_fd, "freezer.state", "THAWED");
  // A task that was still FREEZING may have forked before it stopped: kill until empty.
  cgroup_detail::kill_cgroup(leaf_fd, -1, shown);
}

}  // namespace cgprof::v1_detail
