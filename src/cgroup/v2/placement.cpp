// Where the run's cgroup goes: reading the path from the root to our cgroup, then deciding
// (purely, from what was read) which cgroup gets "cgprof/<run-id>" and what to enable on the way.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  return a + "/" + b;
}

std::string shown(const std::string& rel) {
  return "/" + rel;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string joined(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// systemd delegates a subtree by chowning the directory and these two files to the user.
bool owned_writable(int dirfd, const char* name, uid_t uid) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return false;
  return st.st_uid == uid && (st.st_mode & S_IWUSR);
}

const char* const kRootlessFix =
    "run cgprof as root on a cgroup v2 host, or inside a delegated cgroup: "
    "systemd-run --user --scope -p Delegate=yes cgprof run ...";

}  // namespace

std::vector<CgroupNode> read_cgroup_path(int mount_fd, const std::string& self, uid_t uid) {
  std::vector<std::string> paths{""};
  for (size_t i = 0; i <= self.size() && !self.empty(); ++i)
    if (i == self.size() || self[i] == '/') paths.push_back(self.substr(0, i));
  std::vector<CgroupNode> nodes;
  for (const std::string& rel : paths) {
    CgroupNode n;
    n.path = rel;
    UniqueFd dir = with_context("cgroup " + shown(rel), [&] {
      return open_beneath(mount_fd, rel.empty() ? "." : rel, O_PATH | O_DIRECTORY);
    });
    n.controllers = split_words(read_cgroup_file(dir.get(), "cgroup.controllers"));
    // The root has no subtree_control file on some kernels' views of nested namespaces.
    try {
      n.subtree = split_words(read_cgroup_file(dir.get(), "cgroup.subtree_control"));
    } catch (const Error& e) {
      if (e.sys_errno() != ENOENT) throw;
    }
    std::string procs = read_cgroup_file(dir.get(), "cgroup.procs");
    for (const std::string& p : split_words(procs)) {
      uint64_t v = 0;
      if (parse_u64(p.data(), p.data() + p.size(), &v)) n.pids.push_back(static_cast<pid_t>(v));
    }
    n.has_processes = !n.pids.empty();
    n.writable = uid == 0 || (owned_writable(dir.get(), "", uid) &&
                              owned_writable(dir.get(), "cgroup.procs", uid) &&
                              owned_writable(dir.get(), "cgroup.subtree_control", uid));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

PlacementPlan plan_placement(const std::vector<CgroupNode>& nodes, const PlacementRequest& req) {
  if (nodes.empty()) throw Error("internal: empty cgroup path");
  const size_t self = nodes.size() - 1;
  size_t start = 0;  // first cgroup whose subtree_control we may write
  size_t base = 0;   // the cgroup that gets the "cgprof" child
  if (req.uid == 0) {
    base = self == 0 ? 0 : self - 1;
  } else {
    if (!nodes[self].writable) {
      throw Error("no writable cgroup: our cgroup " + shown(nodes[self].path) +
                  " is not delegated to uid " + std::to_string(req.uid) + "; " + kRootlessFix);
    }
    start = self;
    while (start > 0 && nodes[start - 1].writable) --start;
    if (start == self) {
      if (nodes[self].has_processes) {
        throw Error("no usable cgroup: our cgroup " + shown(nodes[self].path) +
                    " is the top of the subtree delegated to uid " + std::to_string(req.uid) +
                    " and holds processes, so no controller can be enabled below it (cgroup v2 "
                    "allows controllers only for cgroups without processes); start cgprof in a "
                    "child of it, e.g. systemd-run --user --scope -p Delegate=yes cgprof run ...");
      }
      base = self;
    } else {
      base = self - 1;
    }
  }

  bool any_resource_controller = false;
  for (const char* c : {"cpu", "memory", "io", "pids"})
    if (contains(nodes[0].controllers, c)) any_resource_controller = true;
  if (!any_resource_controller) {
    throw Error(
        "the cgroup v2 hierarchy has none of the cpu, memory, io, pids controllers (this host "
        "binds them to cgroup v1, a hybrid setup); cgprof needs a cgroup v2 host: boot with "
        "systemd.unified_cgroup_hierarchy=1 (or run without limits: cgprof run --no-cgroup)");
  }

  PlacementPlan plan;
  plan.base = nodes[base].path;
  plan.leaf = join(join(plan.base, "cgprof"), req.run_id);
  std::vector<std::string> want = req.required;
  for (const auto& c : req.wanted)
    if (!contains(want, c)) want.push_back(c);
  std::vector<std::string> missing;  // "cpuset (reason)"
  for (const std::string& c : want) {
    std::string why;
    if (!contains(nodes[start].controllers, c)) {
      why = c + " (not offered to " + shown(nodes[start].path) + ", which has: " +
            (nodes[start].controllers.empty() ? "none" : joined(nodes[start].controllers)) + ")";
    } else {
      for (size_t i = start; i <= base && why.empty(); ++i) {
        if (contains(nodes[i].subtree, c)) continue;
        if (!nodes[i].writable) {
          why = c + " (not enabled in " + shown(nodes[i].path) + "/cgroup.subtree_control)";
        } else if (nodes[i].has_processes && i != 0) {
          why = c + " (" + shown(nodes[i].path) +
                " holds processes, so it cannot enable controllers for its children)";
        }
      }
    }
    if (why.empty()) {
      plan.controllers.push_back(c);
    } else if (contains(req.required, c)) {
      missing.push_back(why);
    } else {
      plan.notices.push_back("cgroup controller " + why +
                             " is unavailable: its statistics are missing");
    }
  }
  if (!missing.empty()) {
    throw Error(
        "the limits need cgroup controllers that are unavailable: " + joined(missing, ", ") + "; " +
        (req.uid == 0 ? std::string("enable them on a cgroup v2 host")
                      : std::string("run as root, or have systemd delegate them: "
                                    "Delegate=cpu cpuset io memory pids in "
                                    "user@.service (systemctl edit user@.service)")));
  }
  for (size_t i = start; i <= base; ++i) {
    for (const auto& c : plan.controllers) {
      if (!contains(nodes[i].subtree, c)) {
        plan.enable_in.push_back(nodes[i].path);
        break;
      }
    }
  }
  if (!plan.controllers.empty()) plan.enable_in.push_back(join(plan.base, "cgprof"));
  return plan;
}

}  // namespace cgprof
