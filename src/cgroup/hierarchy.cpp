// Finding the cgroup hierarchies (v2, and v1's controller hierarchies) and our place in each
// from /proc/self/{mountinfo,cgroup}; the host's layout and the backend for it.
#include <algorithm>
#include <cerrno>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"

namespace cgprof {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct MountLine {
  std::string root, mount_point, fstype, super_opts;
};

// Calls f(line) for each line of text (the last one may lack its '\n').
template <class F>
void for_each_line(std::string_view text, F&& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!f(line)) return;
  }
}

template <class F>
void for_each_mount(std::string_view mountinfo, F&& f) {
  for_each_line(mountinfo, [&](std::string_view line) {
    std::vector<std::string> w = split_words(line);
    // id parent maj:min root mount-point options [optional...] - fstype source super-options
    size_t dash = 6;
    while (dash < w.size() && w[dash] != "-") ++dash;
    if (w.size() < 7 || dash + 2 >= w.size()) return true;
    MountLine m{unescape_octal(w[3]), unescape_octal(w[4]), w[dash + 1],
                dash + 3 < w.size() ? w[dash + 3] : ""};
    f(m);
    return true;
  });
}

// Our cgroup as /proc/self/cgroup gives it, relative to a mount of the hierarchy whose root
// inside the hierarchy is `mount_root`: "" for the mount's root, else "a/b".
std::string relative_to_mount(std::string path, const std::string& mount_root) {
  if (path.size() > 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0)
    path.resize(path.size() - 10);
  // A mount of a sub-tree (containers) shows its root in mountinfo; paths in /proc/self/cgroup are
  // relative to our cgroup namespace, which then usually is that same sub-tree.
  if (mount_root != "/" && path.compare(0, mount_root.size(), mount_root) == 0 &&
      (path.size() == mount_root.size() || path[mount_root.size()] == '/'))
    path.erase(0, mount_root.size());
  if (path.compare(0, 3, "/..") == 0) {
    throw Error("our cgroup " + path +
                " lies outside our cgroup namespace; run cgprof inside the "
                "namespace's hierarchy");
  }
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string_view::npos) c = s.size();
    if (c > pos) out.emplace_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

}  // namespace

std::optional<CgroupMount> parse_cgroup2_mount(std::string_view mountinfo) {
  std::optional<CgroupMount> found;
  for_each_mount(mountinfo, [&](const MountLine& m) {
    if (m.fstype != "cgroup2") return;
    // Prefer the canonical place; otherwise the first one (hybrid hosts: /sys/fs/cgroup/unified).
    if (!found || m.mount_point == "/sys/fs/cgroup") found = CgroupMount{m.mount_point, m.root};
  });
  return found;
}

bool has_cgroup1_controllers(std::string_view mountinfo) {
  bool v1 = false;
  for_each_mount(mountinfo, [&](const MountLine& m) {
    // A v1 hierarchy with no controller is "name=systemd" only; it binds no resources.
    if (m.fstype == "cgroup" && m.super_opts.find("name=") == std::string::npos) v1 = true;
  });
  return v1;
}

CgroupLayout detect_cgroup_layout(std::string_view mountinfo) {
  bool v2 = parse_cgroup2_mount(mountinfo).has_value();
  bool v1 = has_cgroup1_controllers(mountinfo);
  if (v1) return v2 ? CgroupLayout::kHybrid : CgroupLayout::kLegacy;
  return v2 ? CgroupLayout::kUnified : CgroupLayout::kNone;
}

const char* to_string(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kUnified:
      return "v2";
    case CgroupLayout::kHybrid:
      return "hybrid";
    case CgroupLayout::kLegacy:
      return "v1";
    case CgroupLayout::kNone:
      break;
  }
  return "none";
}

CgroupManager parse_cgroup_manager(std::string_view text) {
  if (text == "auto") return CgroupManager::kAuto;
  if (text == "v1") return CgroupManager::kV1;
  if (text == "v2") return CgroupManager::kV2;
  if (text == "emulated") return CgroupManager::kEmulated;
  throw Error("--cgroup-manager " + std::string(text) + ": expected auto, v1, v2 or emulated");
}

int cgroup_version_for(CgroupLayout layout, CgroupManager manager) {
  if (manager == CgroupManager::kV1) return 1;
  if (manager == CgroupManager::kV2) return 2;
  if (manager == CgroupManager::kEmulated) return 0;
  return layout == CgroupLayout::kHybrid || layout == CgroupLayout::kLegacy ? 1 : 2;
}

std::string V1Hierarchy::name() const {
  std::string n;
  for (const std::string& c : controllers) n += (n.empty() ? "" : ",") + c;
  return n;
}

bool V1Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<V1Hierarchy> parse_v1_hierarchies(std::string_view mountinfo,
                                              std::string_view proc_self_cgroup) {
  std::vector<V1Hierarchy> out;
  for_each_line(proc_self_cgroup, [&](std::string_view line) {
    // "ID:CONTROLLERS:PATH"; the path may hold ':'.
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return true;
    std::vector<std::string> ctl = split_commas(line.substr(c1 + 1, c2 - c1 - 1));
    if (ctl.empty() || ctl[0].compare(0, 5, "name=") == 0) return true;  // v2 entry, named
    bool used = false;
    for (const char* c : kV1Controllers) used |= std::find(ctl.begin(), ctl.end(), c) != ctl.end();
    if (!used) return true;
    // The mount whose super options name exactly these controllers; the first one, unless one
    // lies directly under /sys/fs/cgroup.
    std::optional<std::pair<std::string, std::string>> mount;  // mount point, root
    for_each_mount(mountinfo, [&](const MountLine& m) {
      if (m.fstype != "cgroup") return;
      std::vector<std::string> opts = split_commas(m.super_opts);
      for (const std::string& c : ctl)
        if (std::find(opts.begin(), opts.end(), c) == opts.end()) return;
      bool canonical = m.mount_point.compare(0, 15, "/sys/fs/cgroup/") == 0;
      if (!mount || canonical) mount = std::make_pair(m.mount_point, m.root);
    });
    if (!mount) return true;
    V1Hierarchy h;
    h.mount_point = mount->first;
    h.controllers = ctl;
    h.self = relative_to_mount(std::string(line.substr(c2 + 1)), mount->second);
    out.push_back(std::move(h));
    return true;
  });
  return out;
}

std::optional<std::string> parse_cgroup_v2_path(std::string_view text) {
  std::optional<std::string> found;
  for_each_line(text, [&](std::string_view line) {
    if (line.substr(0, 3) == "0::") found = std::string(line.substr(3));
    return !found;
  });
  return found;
}

CgroupHierarchy discover_hierarchy(int proc_dirfd) {
  std::string mountinfo = with_context("finding the cgroup v2 hierarchy",
                                       [&] { return read_file_at(proc_dirfd, "self/mountinfo"); });
  std::optional<CgroupMount> mount = parse_cgroup2_mount(mountinfo);
  if (!mount) {
    throw Error(
        "no cgroup v2 hierarchy is mounted (/proc/self/mountinfo has no cgroup2 file system); "
        "cgprof needs a cgroup v2 host (boot with systemd.unified_cgroup_hierarchy=1) or a "
        "cgroup2 mount at /sys/fs/cgroup");
  }
  std::string self_text =
      with_context("finding our cgroup", [&] { return read_file_at(proc_dirfd, "self/cgroup"); });
  std::optional<std::string> self = parse_cgroup_v2_path(self_text);
  if (!self) {
    throw Error(
        "/proc/self/cgroup has no cgroup v2 entry (\"0::/path\"); cgprof needs a cgroup v2 "
        "host (boot with systemd.unified_cgroup_hierarchy=1)");
  }
  std::string path = relative_to_mount(*self, mount->root);
  CgroupHierarchy h;
  h.mount_point = mount->mount_point;
  h.self = path;
  h.hybrid = has_cgroup1_controllers(mountinfo);
  return h;
}

}  // namespace cgprof
