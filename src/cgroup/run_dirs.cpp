// Run cgroup directories, the same for both backends: names, mkdir, rmdir with retries, whole
// trees, and the removal of stale run cgroups left by a cgprof killed with SIGKILL.
#include "src/cgroup/run_dirs.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof::cgroup_detail {
namespace {

// Empties (with `empty`) and removes one stale run cgroup. False if another run removed it first.
bool remove_stale_run_cgroup(int parent_fd, const std::string& name, const std::string& shown,
                             const EmptyCgroup& empty) {
  UniqueFd dir;
  try {
    dir = open_beneath(parent_fd, name, O_PATH | O_DIRECTORY);
  } catch (const Error& e) {
    if (e.sys_errno() == ENOENT) return false;
    throw;
  }
  empty(dir.get(), shown);
  remove_cgroup_tree(parent_fd, name, shown);
  return true;
}

}  // namespace

std::string join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

std::string new_run_cgroup_name(const RunOwner& self) {
  uint32_t nonce = 0;
  if (::getrandom(&nonce, sizeof nonce, 0) != static_cast<ssize_t>(sizeof nonce)) {
    static uint32_t counter = 0;  // no entropy yet (early boot): unique within this process
    nonce = ++counter;
  }
  return run_cgroup_name(self, nonce);
}

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void make_cgroup_dir(int dirfd, const std::string& rel) {
  if (::mkdirat(dirfd, rel.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir", rel);
}

void rmdir_cgroup(int dirfd, const std::string& rel, const std::string& shown) {
  for (int i = 0;; ++i) {
    if (::unlinkat(dirfd, rel.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return;
    if (errno != EBUSY || i >= 200) throw_errno("rmdir", shown);
    sleep_ms(5);
  }
}

void remove_cgroup_tree(int parent_fd, const std::string& name, const std::string& shown,
                        int depth) {
  if (depth > 32) throw Error("cgroup " + shown + ": nested more than 32 levels deep");
  int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw_errno("open", shown);
  }
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    throw Error::from_errno("opendir", shown, err);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(d, ::closedir);
  std::vector<std::string> children;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (e->d_type == DT_DIR && n != "." && n != "..") children.push_back(std::move(n));
  }
  for (const std::string& c : children) remove_cgroup_tree(fd, c, shown + "/" + c, depth + 1);
  dir.reset();
  rmdir_cgroup(parent_fd, name, shown);
}



// Kills every process in the cgroup: cgroup.kill (kill_fd, -1 if none; it takes the whole
// subtree), else SIGKILL to each pid of its cgroup.procs until none is left.
void kill_cgroup(int dirfd, int kill_fd, const std::string& shown) {
  if (kill_fd >= 0 && ::write(kill_fd, "1", 1) == 1) return;
  for (int round = 0; round < 1000; ++round) {
    std::vector<std::string> pids = split_words(read_cgroup_file(dirfd, "cgroup.procs"));
    if (pids.empty()) return;
    for (const std::string& p : pids) {
      uint64_t pid;
      if (parse_u64(p.data(), p.data() + p.size(), &pid)) ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
    sleep_ms(1);
  }
  throw Error("cgroup " + shown + ": processes keep appearing after SIGKILL");
}

void remove_stale_run_cgroups(int mount_fd, const std::string& rel, const std::string& shown_rel,
                              int proc_fd, const RunOwner& self, const EmptyCgroup& empty,
                              StaleRemoval* out) {
  UniqueFd parent;
  std::vector<StaleRunCgroup> stale;
  try {
    parent = open_beneath(mount_fd, rel, O_PATH | O_DIRECTORY);
    stale = find_stale_run_cgroups(parent.get(), proc_fd, self.pid_ns);
  } catch (const Error& e) {
    if (e.sys_errno() == ENOENT) return;  // no parent yet: nothing can be stale
    std::fprintf(stderr, "cgprof: notice: not looking for stale run cgroups in %s: %s\n",
                 shown_rel.c_str(), e.what());
    return;
  }
  for (const StaleRunCgroup& s : stale) {
    std::string shown = shown_rel + "/" + s.name;
    try {
      if (!remove_stale_run_cgroup(parent.get(), s.name, shown, empty)) continue;
      out->names.push_back(s.name);
      out->pids.push_back(s.owner.pid);
    } catch (const Error& e) {
      std::fprintf(stderr,
                   "cgprof: notice: could not remove the stale run cgroup %s left by a killed "
                   "cgprof (pid %d): %s; remove it by hand (rmdir) once its processes are gone\n",
                   shown.c_str(), static_cast<int>(s.owner.pid), e.what());
    }
  }
}

void report_stale_removal(size_t removed, const std::vector<pid_t>& owner_pids) {
  std::string pids;
  for (pid_t p : owner_pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  if (removed == 1) {
    std::fprintf(stderr, "cgprof: removed 1 stale run cgroup left by a killed cgprof (pid %s)\n",
                 pids.c_str());
  } else if (removed > 1) {
    std::fprintf(stderr,
                 "cgprof: removed %zu stale run cgroups left by killed cgprof processes (pids "
                 "%s)\n",
                 removed, pids.c_str());
  }
}

}  // namespace cgprof::cgroup_detail
