// The run's cgroup on cgroup v2 from creation to removal: placement, controllers, limits, kill,
// rmdir.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"
#include "src/cgroup/run_dirs.hpp"

namespace cgprof {
using namespace cgroup_detail;
namespace {

std::optional<uint64_t> read_u64(int dirfd, const char* file) {
  try {
    std::string s = read_cgroup_file(dirfd, file);
    uint64_t v;
    if (parse_u64(s.data(), s.data() + s.size(), &v)) return v;
  } catch (const Error&) {
  }
  return std::nullopt;
}

// Kills the processes of a stale run cgroup (normally none: the container's init dies with
// cgprof) and waits until it is empty.
void empty_stale_run_cgroup(int dir, const std::string& shown) {
  if (!wait_unpopulated(dir, 0)) {
    UniqueFd kill_fd;
    try {
      kill_fd = open_beneath(dir, "cgroup.kill", O_WRONLY);
    } catch (const Error&) {
      // Kernels before 5.14: kill_cgroup signals each pid instead.
    }
    kill_cgroup(dir, kill_fd.get(), shown);
    if (!wait_unpopulated(dir, 5000))
      throw Error("processes are still in it 5 s after being killed");
  }
}

}  // namespace

bool wait_unpopulated(int cgroup_dirfd, int timeout_ms) {
  UniqueFd ev;
  try {
    ev = open_beneath(cgroup_dirfd, "cgroup.events", O_RDONLY);
  } catch (const Error&) {
    return false;
  }
  struct timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    char buf[256];
    ssize_t n = ::pread(ev.get(), buf, sizeof buf - 1, 0);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) {
      buf[n] = 0;
      if (std::strstr(buf, "populated 0")) return true;
    }
    struct timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed >= timeout_ms) return false;
    // kernfs signals a change of cgroup.events with POLLPRI; the 50 ms cap guards against a
    // missed notification.
    struct pollfd p = {ev.get(), POLLPRI, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long>(50, timeout_ms - elapsed)));
  }
}

RunCgroup RunCgroup::create(const RunCgroupOptions& opts) {
  UniqueFd proc = open_at(AT_FDCWD, opts.proc, O_PATH | O_DIRECTORY);
  CgroupHierarchy h = discover_hierarchy(proc.get());
  RunCgroup cg;
  cg.mount_ = with_context("cgroup v2 mount",
                           [&] { return open_at(AT_FDCWD, h.mount_point, O_PATH | O_DIRECTORY); });
  UniqueFd sys = open_at(AT_FDCWD, opts.sys, O_PATH | O_DIRECTORY);

  uid_t uid = ::geteuid();
  std::vector<CgroupNode> nodes = read_cgroup_path(cg.mount_.get(), h.self, uid);
  PlacementRequest req;
  req.uid = uid;
  req.required = controllers_for(opts.limits);
  req.wanted = opts.extra_controllers;
  if (opts.limits.cores) req.wanted.push_back("cpuset");
  PlacementPlan plan;
  try {
    plan = plan_placement(nodes, req);
  } catch (Error& e) {
    if (h.hybrid) {
      e.context("cgroup v2 at " + h.mount_point + " (hybrid host)");
    }
    throw;
  }

  const std::string parent = join(plan.base, "cgprof");
  // Read after planning, so that "no usable cgroup" is what a user without one hears first.
  const RunOwner self = current_run_owner(proc.get());
  plan.leaf = join(parent, new_run_cgroup_name(self));
  StaleRemoval stale;
  remove_stale_run_cgroups(cg.mount_.get(), parent, h.mount_point + "/" + parent, proc.get(), self,
                           empty_stale_run_cgroup, &stale);
  report_stale_removal(stale.names.size(), stale.pids);
  // A concurrent run may remove an empty "cgprof" between our mkdir and the leaf's: retry.
  for (int attempt = 0;; ++attempt) {
    try {
      for (const std::string& rel : plan.enable_in) {
        if (rel == parent) make_cgroup_dir(cg.mount_.get(), parent);
        UniqueFd dir = open_beneath(cg.mount_.get(), rel.empty() ? "." : rel, O_PATH | O_DIRECTORY);
        std::vector<std::string> have =
            split_words(read_cgroup_file(dir.get(), "cgroup.subtree_control"));
        std::string add;
        for (const auto& c : plan.controllers)
          if (std::find(have.begin(), have.end(), c) == have.end())
            add += (add.empty() ? "+" : " +") + c;
        if (!add.empty()) write_cgroup_file(dir.get(), "cgroup.subtree_control", add);
      }
      make_cgroup_dir(cg.mount_.get(), parent);
      if (::mkdirat(cg.mount_.get(), plan.leaf.c_str(), 0755) != 0) throw_errno("mkdir", plan.leaf);
      break;
    } catch (Error& e) {
      if (e.sys_errno() == ENOENT && attempt < 3) continue;
      e.context("creating the run's cgroup in " + h.mount_point);
      throw;
    }
  }
  cg.rel_ = plan.leaf;
  cg.path_ = h.mount_point + "/" + plan.leaf;
  cg.live_ = true;  // from here on the destructor removes it
  cg.dir_ = open_beneath(cg.mount_.get(), plan.leaf, O_PATH | O_DIRECTORY);
  UniqueFd parent_fd = open_beneath(cg.mount_.get(), parent, O_PATH | O_DIRECTORY);
  cg.written_ = with_context("cgroup " + cg.path_, [&] {
    return write_limits(cg.dir_.get(), parent_fd.get(), opts.limits, opts.rootfs, sys.get());
  });
  cg.written_.cgroup = cg.path_;
  cg.written_.notices.insert(cg.written_.notices.begin(), plan.notices.begin(), plan.notices.end());
  try {
    cg.kill_fd_ = open_beneath(cg.dir_.get(), "cgroup.kill", O_WRONLY);
  } catch (const Error&) {
    // Kernels before 5.14: kill() falls back to signalling every pid.
  }
  return cg;
}

RunCgroup::RunCgroup(RunCgroup&& o) noexcept
    : mount_(std::move(o.mount_)),
      dir_(std::move(o.dir_)),
      kill_fd_(std::move(o.kill_fd_)),
      rel_(std::move(o.rel_)),
      path_(std::move(o.path_)),
      written_(std::move(o.written_)),
      live_(std::exchange(o.live_, false)) {}

RunCgroup& RunCgroup::operator=(RunCgroup&& o) noexcept {
  if (this != &o) {
    destroy_noexcept();
    mount_ = std::move(o.mount_);
    dir_ = std::move(o.dir_);
    kill_fd_ = std::move(o.kill_fd_);
    rel_ = std::move(o.rel_);
    path_ = std::move(o.path_);
    written_ = std::move(o.written_);
    live_ = std::exchange(o.live_, false);
  }
  return *this;
}

RunCgroup::~RunCgroup() {
  destroy_noexcept();
}

std::optional<uint64_t> RunCgroup::memory_peak() const {
  return read_u64(dir_.get(), "memory.peak");
}

uint64_t RunCgroup::oom_kills() const {
  try {
    std::string ev = read_cgroup_file(dir_.get(), "memory.events");
    size_t at = ev.find("oom_kill ");
    uint64_t v = 0;
    if (at != std::string::npos) parse_u64(ev.data() + at + 9, ev.data() + ev.size(), &v);
    return v;
  } catch (const Error&) {
    return 0;
  }
}

CgroupDirs RunCgroup::dirs() const {
  CgroupDirs d;
  d.version = 2;
  d.unified = dir_.get();
  return d;
}

std::vector<std::pair<std::string, std::string>> RunCgroup::paths() const {
  return {{"unified", path_}};
}

void RunCgroup::kill() {
  if (!live_) return;
  kill_cgroup(dir_.get(), kill_fd_.get(), path_);
}

void RunCgroup::destroy() {
  if (!live_) return;
  with_context("removing cgroup " + path_, [&] {
    kill();
    if (!wait_unpopulated(dir_.get(), 10000))
      throw Error("processes are still in it 10 s after being killed");
    rmdir_cgroup(mount_.get(), rel_, path_);
  });
  live_ = false;
  size_t slash = rel_.rfind('/');
  // The shared "cgprof" parent goes when the last run leaves it; another run may still be inside.
  if (slash != std::string::npos)
    ::unlinkat(mount_.get(), rel_.substr(0, slash).c_str(), AT_REMOVEDIR);
  dir_.reset();
  kill_fd_.reset();
}

void RunCgroup::destroy_noexcept() noexcept {
  warn_on_error([&] { destroy(); });
}

}  // namespace cgprof
