// Who owns a run cgroup, written into its name, and the rule that decides whether that owner is
// gone. SIGKILL of cgprof runs no destructor, so its cgroup stays; the next run that uses the
// same parent reads the names there and removes the ones whose owner provably no longer runs.
// Nothing here depends on the cgroup version: the names and the rule serve any backend.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

// Reads a small /proc file (stat is < 1 KiB) in one read; -errno on failure.
int read_small(int dirfd, const std::string& path, std::string* out) {
  int fd = ::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -errno;
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return -err;
  out->assign(buf, static_cast<size_t>(n));
  return 0;
}

// "pid:[4026531836]" (the target of /proc/PID/ns/pid) -> 4026531836.
std::optional<uint64_t> parse_ns_link(std::string_view link) {
  const std::string_view prefix = "pid:[";
  if (link.substr(0, prefix.size()) != prefix || link.empty() || link.back() != ']')
    return std::nullopt;
  uint64_t v = 0;
  const char* end = link.data() + link.size() - 1;
  if (parse_u64(link.data() + prefix.size(), end, &v) != end) return std::nullopt;
  return v;
}

}  // namespace

std::string run_cgroup_name(const RunOwner& owner, uint32_t nonce) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "pid%d-start%llu-ns%llu-%08x", static_cast<int>(owner.pid),
                static_cast<unsigned long long>(owner.start_time),
                static_cast<unsigned long long>(owner.pid_ns), nonce);
  return buf;
}

std::optional<RunOwner> parse_run_cgroup_name(std::string_view name) {
  RunOwner o;
  const char* p = name.data();
  const char* end = p + name.size();
  uint64_t v[3] = {};
  int i = 0;
  for (std::string_view key : {"pid", "-start", "-ns"}) {
    if (static_cast<size_t>(end - p) < key.size() || std::string_view(p, key.size()) != key)
      return std::nullopt;
    p = parse_u64(p + key.size(), end, &v[i++]);
    if (!p) return std::nullopt;
  }
  if (end - p != 9 || *p != '-') return std::nullopt;
  uint32_t nonce = 0;
  for (const char* c = p + 1; c < end; ++c) {
    int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    nonce = nonce << 4 | static_cast<uint32_t>(d);
  }
  if (v[0] == 0 || v[0] > 0x7fffffff) return std::nullopt;
  o.pid = static_cast<pid_t>(v[0]);
  o.start_time = v[1];
  o.pid_ns = v[2];
  // Only the canonical spelling (no leading zeros, no "+"): a name we did not write is not ours.
  if (run_cgroup_name(o, nonce) != name) return std::nullopt;
  return o;
}

std::optional<uint64_t> parse_proc_stat_start_time(std::string_view stat) {
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so fields count from the
  // last ')'. STATE is field 3; starttime is field 22.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string> fields = split_words(stat.substr(close + 1));
  if (fields.size() < 20) return std::nullopt;
  const std::string& f = fields[22 - 3];
  uint64_t v = 0;
  if (parse_u64(f.data(), f.data() + f.size(), &v) != f.data() + f.size()) return std::nullopt;
  return v;
}

RunOwner current_run_owner(int proc_dirfd) {
  return with_context("finding cgprof's own process in /proc", [&] {
    std::string stat;
    if (int rc = read_small(proc_dirfd, "self/stat", &stat); rc < 0)
      throw Error::from_errno("read", "self/stat", -rc);
    uint64_t pid = 0;
    std::optional<uint64_t> start = parse_proc_stat_start_time(stat);
    if (!parse_u64(stat.data(), stat.data() + stat.size(), &pid) || pid == 0 || !start)
      throw Error("self/stat: unexpected format \"" + stat.substr(0, 60) + "\"");
    char link[64];
    ssize_t n = ::readlinkat(proc_dirfd, "self/ns/pid", link, sizeof link - 1);
    if (n < 0) throw_errno("readlink", "self/ns/pid");
    std::optional<uint64_t> ns = parse_ns_link(std::string_view(link, static_cast<size_t>(n)));
    if (!ns) throw Error("self/ns/pid: unexpected link \"" + std::string(link, n) + "\"");
    return RunOwner{static_cast<pid_t>(pid), *start, *ns};
  });
}

ProcessProbe probe_process(int proc_dirfd, pid_t pid) {
  std::string stat;
  int rc = read_small(proc_dirfd, std::to_string(pid) + "/stat", &stat);
  if (rc == 0) {
    std::optional<uint64_t> start = parse_proc_stat_start_time(stat);
    if (start) return {ProcessProbe::State::present, *start};
    return {ProcessProbe::State::unknown, 0};
  }
  if (rc != -ENOENT && rc != -ESRCH) return {ProcessProbe::State::unknown, 0};
  // /proc may hide other users' processes (hidepid=invisible): only the kernel's ESRCH proves
  // that no process has this pid.
  if (::kill(pid, 0) != 0 && errno == ESRCH) return {ProcessProbe::State::absent, 0};
  return {ProcessProbe::State::unknown, 0};
}

OwnerState run_owner_state(const RunOwner& owner, uint64_t our_pid_ns, const ProcessProbe& now) {
  // A pid of another PID namespace means nothing in ours: we cannot tell, so we keep it.
  if (owner.pid_ns != our_pid_ns) return OwnerState::unknown;
  switch (now.state) {
    case ProcessProbe::State::absent:
      return OwnerState::gone;
    case ProcessProbe::State::present:
      // The pid was reused by a process that started at another time: the owner is gone.
      return now.start_time == owner.start_time ? OwnerState::alive : OwnerState::gone;
    case ProcessProbe::State::unknown:
      break;
  }
  return OwnerState::unknown;
}

std::vector<StaleRunCgroup> find_stale_run_cgroups(int parent_fd, int proc_dirfd,
                                                   uint64_t our_pid_ns) {
  std::vector<StaleRunCgroup> out;
  int fd = ::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open", ".");
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    throw Error::from_errno("opendir", ".", err);
  }
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    std::optional<RunOwner> owner = parse_run_cgroup_name(e->d_name);
    if (!owner) continue;
    if (run_owner_state(*owner, our_pid_ns, probe_process(proc_dirfd, owner->pid)) ==
        OwnerState::gone)
      out.push_back({e->d_name, *owner});
  }
  ::closedir(d);
  return out;
}

}  // namespace cgprof
