// Private to the cgroup module: what both backends do with run cgroup directories (names,
// mkdir, rmdir with retries, whole-tree removal, removal of stale run cgroups).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "cgprof/cgroup.hpp"

namespace cgprof::cgroup_detail {

// "a" + "b" -> "a/b"; "" + "b" -> "b".
std::string join(const std::string& a, const std::string& b);
// This process's name for a new run cgroup (see run_cgroup_name).
std::string new_run_cgroup_name(const RunOwner& self);
void sleep_ms(long ms);
// Creates a directory below dirfd; an existing one is fine (a concurrent run made it).
void make_cgroup_dir(int dirfd, const std::string& rel);
// rmdir of an empty cgroup below dirfd. A killed process leaves cgroup.procs a moment before the
// cgroup may be removed (EBUSY), hence the retries. ENOENT counts as removed.
void rmdir_cgroup(int dirfd, const std::string& rel, const std::string& shown);
// Removes the cgroup `name` below parent_fd and the cgroups below it, deepest first; its
// processes must be gone.
void remove_cgroup_tree(int parent_fd, const std::string& name, const std::string& shown,
                        int depth = 0);

// Runs f (a destroy()) from a destructor: an error becomes one warning line on stderr.
template <class F>
void warn_on_error(F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cgprof: warning: %s\n", e.what());
  }
}

// Kills every process in the cgroup: cgroup.kill (kill_fd, -1 if none; it takes the whole
// subtree), else SIGKILL to each pid of its cgroup.procs until none is left.
void kill_cgroup(int dirfd, int kill_fd, const std::string& shown);

// Kills what is left in a stale run cgroup (dirfd) and waits until it is empty; throws Error.
using EmptyCgroup = std::function<void(int dirfd, const std::string& shown)>;
struct StaleRemoval {
  std::vector<std::string> names;  // removed run cgroups (one entry per removal)
  std::vector<pid_t> pids;         // their owners, in the same order
};
// Removes the stale run cgroups in the parent `rel` (below mount_fd): empties each with
// `empty`, then removes its tree. Appends what it removed to *out; prints a notice for one it
// could not remove, or for a parent it could not read, and goes on.
void remove_stale_run_cgroups(int mount_fd, const std::string& rel, const std::string& shown_rel,
                              int proc_fd, const RunOwner& self, const EmptyCgroup& empty,
                              StaleRemoval* out);
// One line on stderr saying how many were removed and whose (nothing if none).
void report_stale_removal(size_t removed, const std::vector<pid_t>& pids);

}  // namespace cgprof::cgroup_detail
