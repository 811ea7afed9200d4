// User and group resolution from the rootfs's own /etc/passwd and /etc/group (never the host's).
#include <cerrno>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"

namespace cgprof::sandbox {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

template <class F>
void for_each_line(std::string_view content, F&& f) {
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    f(line);
  }
}

// (uid_t)-1 means "unchanged" to the kernel: not an id.
std::optional<std::uint32_t> parse_id(std::string_view s) { return parse_u32(s, 0xFFFFFFFEu); }

// Reads a file beneath the rootfs without following any link out of it; missing -> "". Like every
// file an image names, it must be a regular file of at most kMaxUserDbFileBytes: opened without
// blocking, so a FIFO fails at once instead of hanging, and a link to a device (/dev/zero) is
// refused instead of read until memory runs out.
std::string read_in_root(int rootfs_fd, const char* path) {
  int fd = openat2_fd(rootfs_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, RESOLVE_IN_ROOT);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    throw_errno("open rootfs", path);
  }
  return read_regular_fd(UniqueFd(fd), path, kMaxUserDbFileBytes);
}

}  // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view content) {
  std::vector<PasswdEntry> out;
  for_each_line(content, [&](std::string_view line) {
    auto f = split(line, ':');
    if (f.size() < 4) return;  // malformed lines are skipped, as libc does
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) return;
    PasswdEntry e;
    e.name = f[0];
    e.uid = *uid;
    e.gid = *gid;
    if (f.size() > 5) e.home = f[5];
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view content) {
  std::vector<GroupEntry> out;
  for_each_line(content, [&](std::string_view line) {
    auto f = split(line, ':');
    if (f.size() < 3) return;
    auto gid = parse_id(f[2]);
    if (!gid) return;
    GroupEntry g;
    g.name = f[0];
    g.gid = *gid;
    if (f.size() > 3 && !f[3].empty())
      for (auto m : split(f[3], ',')) g.members.emplace_back(m);
    out.push_back(std::move(g));
  });
  return out;
}

ResolvedUser resolve_user(std::string_view spec, std::string_view passwd_content,
                          std::string_view group_content) {
  if (spec.empty()) spec = "0";
  size_t colon = spec.find(':');
  std::string_view user = spec.substr(0, colon);
  std::optional<std::string_view> group;
  if (colon != std::string_view::npos) group = spec.substr(colon + 1);
  if (user.empty() || (group && group->empty()))
    throw Error("user \"" + std::string(spec) + "\": expected UID[:GID] or NAME[:GROUP]");

  auto passwd = parse_passwd(passwd_content);
  ResolvedUser r;
  const PasswdEntry* entry = nullptr;
  if (auto uid = parse_id(user)) {
    r.uid = *uid;
    for (const auto& e : passwd)
      if (e.uid == *uid) {
        entry = &e;
        break;
      }
  } else {
    for (const auto& e : passwd)
      if (e.name == user) {
        entry = &e;
        break;
      }
    if (!entry)
      throw Error("user \"" + std::string(user) +
                  "\": no such user in the rootfs's /etc/passwd (give a numeric UID instead)");
    r.uid = entry->uid;
  }
  r.gid = entry ? entry->gid : 0;
  if (entry && !entry->home.empty()) r.home = entry->home;

  auto groups = parse_group(group_content);
  if (group) {
    if (auto gid = parse_id(*group)) {
      r.gid = *gid;
    } else {
      const GroupEntry* g = nullptr;
      for (const auto& e : groups)
        if (e.name == *group) {
          g = &e;
          break;
        }
      if (!g)
        throw Error("group \"" + std::string(*group) +
                    "\": no such group in the rootfs's /etc/group (give a numeric GID instead)");
      r.gid = g->gid;
    }
  }
  // Supplementary groups as initgroups(3) sets them at login: the primary group first, then
  // every group of /etc/group that lists the user's name.
  r.supplementary_gids.push_back(r.gid);
  if (entry) {
    for (const auto& g : groups)
      for (const auto& m : g.members)
        if (m == entry->name && g.gid != r.gid) {
          bool dup = false;
          for (gid_t have : r.supplementary_gids) dup |= have == g.gid;
          if (!dup) r.supplementary_gids.push_back(g.gid);
        }
  }
  return r;
}

ResolvedUser resolve_user_in_rootfs(int rootfs_fd, std::string_view spec) {
  return with_context("resolving user \"" + std::string(spec) + "\"", [&] {
    return resolve_user(spec, read_in_root(rootfs_fd, "etc/passwd"),
                        read_in_root(rootfs_fd, "etc/group"));
  });
}

}  // namespace cgprof::sandbox
