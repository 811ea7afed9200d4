// User-namespace id maps: who we map to what, and how the maps get written. Shared by the
// sandbox (a rootless run's user namespace) and the image store (a rootless unpack shifts owners
// exactly as a run maps them), so it lives in common, below both.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cgprof {

struct IdRange {
  std::uint32_t start = 0;
  std::uint32_t count = 0;
};
// First "NAME:START:COUNT" (or "UID:START:COUNT") entry of /etc/subuid or /etc/subgid content.
std::optional<IdRange> find_subid_range(std::string_view content, std::string_view name,
                                        std::uint32_t id);

struct IdMapPlan {
  // "inside outside count" lines, as written to /proc/PID/{u,g}id_map.
  std::vector<std::string> uid_lines, gid_lines;
  bool use_helpers = false;      // newuidmap/newgidmap (setuid helpers) write the maps
  bool deny_setgroups = false;   // unprivileged single-id map: the kernel requires "deny"
  std::string describe() const;  // "0->1000 (1 id)" for messages
  bool maps_uid(std::uint32_t inside) const;
  bool maps_gid(std::uint32_t inside) const;
  bool maps_host_uid(std::uint32_t outside) const;
};

// caller_uid/gid: our real ids on the host; subuid/subgid: file contents ("" when absent);
// helpers: whether newuidmap and newgidmap are installed.
IdMapPlan plan_id_maps(std::uint32_t caller_uid, std::uint32_t caller_gid,
                       std::string_view user_name, std::string_view subuid, std::string_view subgid,
                       bool helpers);

// The plan for the calling process itself: its effective ids and user name, this host's
// /etc/subuid and /etc/subgid, and whether newuidmap/newgidmap are on $PATH. Used by the launcher
// and by the image store, so a rootless unpack shifts owners exactly as a rootless run maps them.
IdMapPlan caller_id_maps();

// Writes the maps for pid (called by the parent while the child waits). Throws Error.
void apply_id_maps(const IdMapPlan& plan, pid_t pid);

}  // namespace cgprof
