// The run's cgroups on a v1 (or hybrid) host: one per controller hierarchy, nested under our own
// cgroup of that hierarchy, from creation to removal.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "src/cgroup/run_dirs.hpp"
#include "src/cgroup/v1/controllers.hpp"
#include "src/cgroup/v1/v1_files.hpp"

namespace cgprof {
using namespace cgroup_detail;
using namespace v1_detail;

namespace v1_detail {
void put_limit(int dirfd, const std::string& file, const std::string& value, LimitsWritten* w) {
  with_context("writing the limits", [&] { write_cgroup_file(dirfd, file, value); });
  w->files.emplace_back(file, value);
}
}  // namespace v1_detail

namespace {

// v2 names what the limits need "io"; v1 calls that controller blkio.
std::string v1_name(const std::string& controller) {
  return controller == "io" ? "blkio" : controller;
}

// Kills what a stale run cgroup still holds (the freezer where this is its hierarchy) and waits
// until it is empty.
void empty_stale_v1(int dir, const std::string& shown) {
  if (wait_no_procs(dir, 0)) return;
  if (file_exists_at(dir, "freezer.state")) {
    freezer_kill(dir, shown);
  } else {
    kill_cgroup(dir, -1, shown);
  }
  if (!wait_no_procs(dir, 5000)) throw Error("processes are still in it 5 s after being killed");
}

}  // namespace

std::unique_ptr<V1RunCgroup> V1RunCgroup::create(const RunCgroupOptions& opts) {
  UniqueFd proc = open_at(AT_FDCWD, opts.proc, O_PATH | O_DIRECTORY);
  std::string mountinfo = with_context("finding the cgroup v1 hierarchies",
                                       [&] { return read_file_at(proc.get(), "self/mountinfo"); });
  std::string self_cgroup =
      with_context("finding our cgroups", [&] { return read_file_at(proc.get(), "self/cgroup"); });
  std::vector<V1Hierarchy> hs = parse_v1_hierarchies(mountinfo, self_cgroup);
  if (hs.empty()) {
    throw Error(
        "cgroup v1: no controller hierarchy (cpu, memory, ...) is mounted (/proc/self/mountinfo); "
        "use --cgroup-manager auto or v2");
  }
  if (::geteuid() != 0) {
    throw Error(
        "cgroup v1 (this host mounts its controllers under " +
        hs.front().mount_point.substr(0, hs.front().mount_point.rfind('/')) +
        "/<controller>): creating cgroups there needs root, since v1 has no delegation to "
        "users; run cgprof as root, or add --no-cgroup to run without limits and samples");
  }
  auto has = [&](const std::string& c) {
    return std::any_of(hs.begin(), hs.end(), [&](const V1Hierarchy& h) { return h.has(c); });
  };
  std::vector<std::string> notices;
  for (const std::string& c : controllers_for(opts.limits)) {
    if (!has(v1_name(c))) {
      throw Error("cgroup v1: the " + v1_name(c) +
                  " controller is not mounted (see /proc/self/cgroup), and the device's limits "
                  "need it; mount it, or leave out the limit");
    }
  }
  for (const char* c : {"cpuacct", "cpu", "memory", "blkio", "pids", "freezer"}) {
    if (!has(c)) {
      notices.push_back(std::string("cgroup v1: the ") + c +
                        " controller is not mounted: its counters are absent" +
                        (std::string(c) == "freezer" ? "; processes are killed one by one" : ""));
    }
  }
  UniqueFd sys = open_at(AT_FDCWD, opts.sys, O_PATH | O_DIRECTORY);
  const RunOwner self = current_run_owner(proc.get());
  const std::string name = new_run_cgroup_name(self);

  std::unique_ptr<V1RunCgroup> cg(new V1RunCgroup());
  cg->live_ = true;  // from here on the destructor removes what was created
  StaleRemoval stale;
  // `hs` is consumed here: each hierarchy moves into its leaf.
  for (V1Hierarchy& h : hs) {
    Leaf leaf;
    leaf.mount = with_context("cgroup v1 mount " + h.mount_point, [&] {
      return open_at(AT_FDCWD, h.mount_point, O_PATH | O_DIRECTORY);
    });
    const std::string parent = join(h.self, "cgprof");
    leaf.rel = join(parent, name);
    leaf.path = h.mount_point + "/" + leaf.rel;
    remove_stale_run_cgroups(leaf.mount.get(), parent, h.mount_point + "/" + parent, proc.get(),
                             self, empty_stale_v1, &stale);
    // A concurrent run may remove an empty "cgprof" between our mkdir and the leaf's: retry.
    for (int attempt = 0;; ++attempt) {
      try {
        make_cgroup_dir(leaf.mount.get(), parent);
        if (h.has("cpuset")) {
          UniqueFd p = open_beneath(leaf.mount.get(), parent, O_PATH | O_DIRECTORY);
          UniqueFd base = open_beneath(leaf.mount.get(), h.self.empty() ? "." : h.self,
                                       O_PATH | O_DIRECTORY);
          cpuset_inherit(p.get(), base.get());
        }
        if (::mkdirat(leaf.mount.get(), leaf.rel.c_str(), 0755) != 0)
          throw_errno("mkdir", leaf.path);
        break;
      } catch (Error& e) {
        if (e.sys_errno() == ENOENT && attempt < 3) continue;
        e.context("creating the run's cgroup in " + h.mount_point);
        throw;
      }
    }
    leaf.created = true;
    leaf.hierarchy = std::move(h);
    cg->leaves_.push_back(std::move(leaf));
    Leaf& l = cg->leaves_.back();
    l.dir = open_beneath(l.mount.get(), l.rel, O_PATH | O_DIRECTORY);
  }
  std::set<std::string> removed_names(stale.names.begin(), stale.names.end());
  std::vector<pid_t> removed_pids;
  for (size_t i = 0; i < stale.names.size(); ++i)
    if (std::find(stale.names.begin(), stale.names.begin() + static_cast<long>(i),
                  stale.names[i]) == stale.names.begin() + static_cast<long>(i))
      removed_pids.push_back(stale.pids[i]);
  report_stale_removal(removed_names.size(), removed_pids);

  // Limits, cpuset first (as on v2), each in its controller's hierarchy.
  LimitsWritten& w = cg->written_;
  const Limits& l = opts.limits;
  for (const Leaf& leaf : cg->leaves_) {
    with_context("cgroup " + leaf.path, [&] {
      UniqueFd parent = open_beneath(leaf.mount.get(), join(leaf.hierarchy.self, "cgprof"),
                                     O_PATH | O_DIRECTORY);
      if (leaf.hierarchy.has("cpuset")) cpuset_set(leaf.dir.get(), parent.get(), l, &w);
    });
  }
  if ((l.cpuset || l.cores) && cg->fd_of("cpuset") < 0) {
    w.notices.push_back("the cpuset controller is unavailable: the device's " +
                        std::to_string(l.cores.value_or(0)) +
                        " cores are not pinned to host CPUs; the CPU quota still applies");
  }
  for (const Leaf& leaf : cg->leaves_) {
    const V1Hierarchy& h = leaf.hierarchy;
    with_context("cgroup " + leaf.path, [&] {
      if (h.has("cpu")) cpu_set(leaf.dir.get(), l, &w);
      if (h.has("memory")) memory_set(leaf.dir.get(), l, &w);
      if (h.has("blkio")) blkio_set(leaf.dir.get(), l, opts.rootfs, sys.get(), &w);
      if (h.has("pids")) pids_set(leaf.dir.get(), l, &w);
    });
    for (const std::string& c : h.controllers) w.controllers.push_back(c);
    if (h.has("cpu") || w.cgroup.empty()) w.cgroup = leaf.path;
  }
  w.notices.insert(w.notices.begin(), notices.begin(), notices.end());
  return cg;
}

V1RunCgroup::~V1RunCgroup() {
  destroy_noexcept();
}

int V1RunCgroup::fd_of(std::string_view controller) const {
  for (const Leaf& l : leaves_)
    if (l.hierarchy.has(controller)) return l.dir.get();
  return -1;
}

CgroupDirs V1RunCgroup::dirs() const {
  CgroupDirs d;
  d.version = 1;
  d.cpu = fd_of("cpu");
  d.cpuacct = fd_of("cpuacct");
  d.cpuset = fd_of("cpuset");
  d.memory = fd_of("memory");
  d.blkio = fd_of("blkio");
  d.pids = fd_of("pids");
  d.freezer = fd_of("freezer");
  return d;
}

std::vector<std::pair<std::string, std::string>> V1RunCgroup::paths() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Leaf& l : leaves_) out.emplace_back(l.hierarchy.name(), l.path);
  return out;
}

std::vector<int> V1RunCgroup::join_fds() const {
  std::vector<int> out;
  for (const Leaf& l : leaves_) out.push_back(l.dir.get());
  return out;
}

void V1RunCgroup::kill() {
  if (!live_ || leaves_.empty()) return;
  int freezer = fd_of("freezer");
  for (const Leaf& l : leaves_) {
    if (l.dir.get() != freezer) continue;
    freezer_kill(l.dir.get(), l.path);
    return;
  }
  kill_cgroup(leaves_.front().dir.get(), -1, leaves_.front().path);
}

void V1RunCgroup::destroy() {
  if (!live_) return;
  std::optional<Error> first;
  try {
    kill();
  } catch (Error& e) {
    first = e.context("killing the run's processes");
  }
  for (Leaf& l : leaves_) {
    if (!l.created) continue;
    try {
      with_context("removing cgroup " + l.path, [&] {
        if (!wait_no_procs(l.dir.get(), 10000))
          throw Error("processes are still in it 10 s after being killed");
        rmdir_cgroup(l.mount.get(), l.rel, l.path);
      });
      l.created = false;
      // The shared "cgprof" parent goes when the last run leaves it.
      ::unlinkat(l.mount.get(), join(l.hierarchy.self, "cgprof").c_str(), AT_REMOVEDIR);
    } catch (Error& e) {
      if (!first) first = e;
    }
  }
  if (first) throw *first;
  live_ = false;
  for (Leaf& l : leaves_) l.dir.reset();
}

void V1RunCgroup::destroy_noexcept() noexcept {
  warn_on_error([&] { destroy(); });
}

}  // namespace cgprof
