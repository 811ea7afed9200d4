#include "cgprof/idmap.hpp"

#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"

extern char** environ;

namespace cgprof {
namespace {

bool covers(const std::vector<std::string>& lines, std::uint32_t id) {
  for (const auto& l : lines) {
    unsigned long long in = 0, out = 0, count = 0;
    if (std::sscanf(l.c_str(), "%llu %llu %llu", &in, &out, &count) == 3 && id >= in &&
        id - in < count)
      return true;
  }
  return false;
}

pid_t spawn_helper(const char* helper, pid_t pid, const std::vector<std::string>& lines) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  for (const auto& l : lines) {
    unsigned long long in = 0, out = 0, count = 0;
    std::sscanf(l.c_str(), "%llu %llu %llu", &in, &out, &count);
    args.push_back(std::to_string(in));
    args.push_back(std::to_string(out));
    args.push_back(std::to_string(count));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child;
  int rc = posix_spawnp(&child, helper, nullptr, nullptr, argv.data(), environ);
  if (rc != 0) throw Error::from_errno("run", helper, rc);
  return child;
}

// True when the helper exited 0.
bool wait_helper(pid_t child) {
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// newuidmap and newgidmap write different files of the same process: run them at the same time
// (each is a setuid exec, a few ms on a busy host, on the critical path of every rootless start).
void run_helpers(pid_t pid, const IdMapPlan& plan) {
  pid_t uid_helper = spawn_helper("newuidmap", pid, plan.uid_lines);
  pid_t gid_helper = -1;
  try {
    gid_helper = spawn_helper("newgidmap", pid, plan.gid_lines);
  } catch (...) {
    wait_helper(uid_helper);
    throw;
  }
  bool uid_ok = wait_helper(uid_helper);
  bool gid_ok = wait_helper(gid_helper);
  if (!uid_ok || !gid_ok)
    throw Error(std::string(uid_ok ? "newgidmap" : "newuidmap") +
                " failed (see its message above); check /etc/subuid and /etc/subgid entries for "
                "this user, or remove them to map only your own id");
}

void write_map(pid_t pid, const char* file, const std::vector<std::string>& lines) {
  std::string content;
  for (const auto& l : lines) content += l + "\n";
  write_file_at(AT_FDCWD, "/proc/" + std::to_string(pid) + "/" + file, content);
}

}  // namespace

std::optional<IdRange> find_subid_range(std::string_view content, std::string_view name,
                                        std::uint32_t id) {
  std::string id_text = std::to_string(id);
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view who = line.substr(0, a);
    if (who != name && who != id_text) continue;
    auto start = parse_u32(line.substr(a + 1, b - a - 1));
    auto count = parse_u32(line.substr(b + 1));
    if (!start || !count || *count == 0) continue;
    return IdRange{*start, *count};
  }
  return std::nullopt;
}

std::string IdMapPlan::describe() const {
  std::string out;
  for (const auto& l : uid_lines) {
    if (!out.empty()) out += ", ";
    out += l;
  }
  return "uid map \"" + out + "\"";
}

bool IdMapPlan::maps_uid(std::uint32_t inside) const {
  return covers(uid_lines, inside);
}
bool IdMapPlan::maps_gid(std::uint32_t inside) const {
  return covers(gid_lines, inside);
}
bool IdMapPlan::maps_host_uid(std::uint32_t outside) const {
  for (const auto& l : uid_lines) {
    unsigned long long in = 0, out = 0, count = 0;
    if (std::sscanf(l.c_str(), "%llu %llu %llu", &in, &out, &count) == 3 && outside >= out &&
        outside - out < count)
      return true;
  }
  return false;
}

IdMapPlan plan_id_maps(std::uint32_t caller_uid, std::uint32_t caller_gid,
                       std::string_view user_name, std::string_view subuid, std::string_view subgid,
                       bool helpers) {
  IdMapPlan p;
  if (caller_uid == 0) {
    // Root asking for a user namespace (--rootless): never container root = host root. Map
    // root's subordinate range, as podman does, so the container's ids are nobody's on the host.
    auto su = find_subid_range(subuid, user_name, 0);
    auto sg = find_subid_range(subgid, user_name, 0);
    if (!su || !sg)
      throw Error(std::string("--rootless as root needs a subordinate id range for root in ") +
                  (su ? "/etc/subgid" : "/etc/subuid") +
                  " (add a line such as root:1000000:65536 to /etc/subuid and /etc/subgid, as for "
                  "podman), or run without --rootless");
    p.uid_lines = {"0 " + std::to_string(su->start) + " " + std::to_string(su->count)};
    p.gid_lines = {"0 " + std::to_string(sg->start) + " " + std::to_string(sg->count)};
    return p;
  }
  auto su = find_subid_range(subuid, user_name, caller_uid);
  auto sg = find_subid_range(subgid, user_name, caller_uid);
  p.uid_lines = {"0 " + std::to_string(caller_uid) + " 1"};
  p.gid_lines = {"0 " + std::to_string(caller_gid) + " 1"};
  if (helpers && su && sg) {
    p.use_helpers = true;
    p.uid_lines.push_back("1 " + std::to_string(su->start) + " " + std::to_string(su->count));
    p.gid_lines.push_back("1 " + std::to_string(sg->start) + " " + std::to_string(sg->count));
  } else {
    p.deny_setgroups = true;
  }
  return p;
}

namespace {

bool on_path(const char* prog) {
  const char* env = std::getenv("PATH");
  std::string_view path = env ? env : "/usr/bin:/bin";
  while (!path.empty()) {
    size_t c = path.find(':');
    std::string dir(path.substr(0, c));
    if (!dir.empty() && ::access((dir + "/" + prog).c_str(), X_OK) == 0) return true;
    path = c == std::string_view::npos ? std::string_view{} : path.substr(c + 1);
  }
  return false;
}

}  // namespace

IdMapPlan caller_id_maps() {
  const uid_t euid = ::geteuid();
  std::string name;
  if (passwd* pw = ::getpwuid(euid)) name = pw->pw_name;
  return plan_id_maps(euid, ::getegid(), name, read_file_or_empty("/etc/subuid"),
                      read_file_or_empty("/etc/subgid"),
                      on_path("newuidmap") && on_path("newgidmap"));
}

void apply_id_maps(const IdMapPlan& plan, pid_t pid) {
  with_context("writing the user namespace's id maps", [&] {
    if (plan.use_helpers) {
      run_helpers(pid, plan);
      return;
    }
    if (plan.deny_setgroups)
      write_file_at(AT_FDCWD, "/proc/" + std::to_string(pid) + "/setgroups", "deny");
    write_map(pid, "uid_map", plan.uid_lines);
    write_map(pid, "gid_map", plan.gid_lines);
  });
}

}  // namespace cgprof
