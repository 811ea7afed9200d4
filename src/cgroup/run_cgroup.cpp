// The run's cgroup from creation to removal: placement, controllers, limits, kill, rmdir.
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

namespace cgprof {
namespace {

std::string join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

// This process's name for a new run cgroup (see run_cgroup_name).
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

std::optional<uint64_t> read_u64(int dirfd, const char* file) {
  try {
    std::string s = read_cgroup_file(dirfd, file);
    uint64_t v;
    if (parse_u64(s.data(), s.data() + s.size(), &v)) return v;
  } catch (const Error&) {
  }
  return std::nullopt;
}

// Creates a directory below the mount; an existing one is fine (a concurrent run made it).
void make_cgroup_dir(int mount_fd, const std::string& rel) {
  if (::mkdirat(mount_fd, rel.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir", rel);
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

// rmdir of an empty cgroup below dirfd. A killed process leaves cgroup.procs a moment before the
// cgroup may be removed (EBUSY), hence the retries. ENOENT counts as removed.
void rmdir_cgroup(int dirfd, const std::string& rel, const std::string& shown) {
  for (int i = 0;; ++i) {
    if (::unlinkat(dirfd, rel.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return;
    if (errno != EBUSY || i >= 200) throw_errno("rmdir", shown);
    sleep_ms(5);
  }
}

// Removes the cgroup `name` below parent_fd and the cgroups below it, deepest first; its
// processes must be gone.
void remove_cgroup_tree(int parent_fd, const std::string& name, const std::string& shown,
                        int depth = 0) {
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

// Kills the processes of a stale run cgroup (normally none: the container's init dies with
// cgprof), then removes it. Returns false if another run removed it first.
bool remove_stale_run_cgroup(int parent_fd, const std::string& name, const std::string& shown) {
  UniqueFd dir;
  try {
    dir = open_beneath(parent_fd, name, O_PATH | O_DIRECTORY);
  } catch (const Error& e) {
    if (e.sys_errno() == ENOENT) return false;
    throw;
  }
  if (!wait_unpopulated(dir.get(), 0)) {
    UniqueFd kill_fd;
    try {
      kill_fd = open_beneath(dir.get(), "cgroup.kill", O_WRONLY);
    } catch (const Error&) {
      // Kernels before 5.14: kill_cgroup signals each pid instead.
    }
    kill_cgroup(dir.get(), kill_fd.get(), shown);
    if (!wait_unpopulated(dir.get(), 5000))
      throw Error("processes are still in it 5 s after being killed");
  }
  remove_cgroup_tree(parent_fd, name, shown);
  return true;
}

// Removes the stale run cgroups in the parent `rel` (below the mount) and reports on stderr.
void remove_stale_run_cgroups(int mount_fd, const std::string& rel, const std::string& shown_rel,
                              int proc_fd, const RunOwner& self) {
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
  std::string pids;
  size_t removed = 0;
  for (const StaleRunCgroup& s : stale) {
    std::string shown = shown_rel + "/" + s.name;
    try {
      if (!remove_stale_run_cgroup(parent.get(), s.name, shown)) continue;
      ++removed;
      pids += (pids.empty() ? "" : ", ") + std::to_string(s.owner.pid);
    } catch (const Error& e) {
      std::fprintf(stderr,
                   "cgprof: notice: could not remove the stale run cgroup %s left by a killed "
                   "cgprof (pid %d): %s; remove it by hand (rmdir) once its processes are gone\n",
                   shown.c_str(), static_cast<int>(s.owner.pid), e.what());
    }
  }
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
  remove_stale_run_cgroups(cg.mount_.get(), parent, h.mount_point + "/" + parent, proc.get(), self);
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
  try {
    destroy();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cgprof: warning: %s\n", e.what());
  }
}

}  // namespace cgprof
