// Finding the cgroup v2 hierarchy and our place in it from /proc/self/{mountinfo,cgroup}.
#include <cerrno>

#include "cgprof/cgroup.hpp"
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

template <class F>
void for_each_mount(std::string_view mountinfo, F&& f) {
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t nl = mountinfo.find('\n', pos);
    if (nl == std::string_view::npos) nl = mountinfo.size();
    std::vector<std::string> w = split_words(mountinfo.substr(pos, nl - pos));
    pos = nl + 1;
    // id parent maj:min root mount-point options [optional...] - fstype source super-options
    size_t dash = 6;
    while (dash < w.size() && w[dash] != "-") ++dash;
    if (w.size() < 7 || dash + 2 >= w.size()) continue;
    MountLine m{unescape_octal(w[3]), unescape_octal(w[4]), w[dash + 1],
                dash + 3 < w.size() ? w[dash + 3] : ""};
    f(m);
  }
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

std::optional<std::string> parse_cgroup_v2_path(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  }
  return std::nullopt;
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
  std::string path = *self;
  if (path.size() > 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0)
    path.resize(path.size() - 10);
  // A mount of a sub-tree (containers) shows its root in mountinfo; paths in /proc/self/cgroup are
  // relative to our cgroup namespace, which then usually is that same sub-tree.
  if (mount->root != "/" && path.compare(0, mount->root.size(), mount->root) == 0 &&
      (path.size() == mount->root.size() || path[mount->root.size()] == '/'))
    path.erase(0, mount->root.size());
  if (path.compare(0, 3, "/..") == 0) {
    throw Error("our cgroup " + path +
                " lies outside our cgroup namespace; run cgprof inside the "
                "namespace's hierarchy");
  }
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  CgroupHierarchy h;
  h.mount_point = mount->mount_point;
  h.self = path;
  h.hybrid = has_cgroup1_controllers(mountinfo);
  return h;
}

}  // namespace cgprof
