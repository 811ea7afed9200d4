// The sandbox: run a command inside a root filesystem in Linux namespaces (as root or rootless),
// with docker's defaults for capabilities, seccomp, masked paths and exit codes.
//
// Shape of a run (src/cli/run_cmd.cpp):  ProcessSpec -> Container::start -> wait -> exit code.
// The container's first process is its own init (PID 1 inside: reaps zombies, forwards signals);
// the workload is its child. Everything the container mounts lives in its private mount namespace
// and vanishes with it, so no host mount or temporary directory is ever created.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cgprof/sys.hpp"

namespace cgprof::sandbox {

// ---- Pieces of a process spec, each parsable from docker's spelling ----

struct Volume {
  std::string host_path;       // absolute or relative to cwd on the host
  std::string container_path;  // absolute inside the container
  bool read_only = false;
};
// "HOST:CONTAINER[:ro|rw]" (docker -v). Throws Error naming the argument.
Volume parse_volume(std::string_view arg);

// "-e K=V" -> "K=V"; "-e K" -> "K=<host value>" or nullopt when K is unset on the host (docker
// drops it then). Throws Error for an empty or malformed name.
std::optional<std::string> parse_env_arg(std::string_view arg);
// "" if `name` is a valid container host name, else why not: RFC 1123 labels (letters, digits and
// '-', not at either end of a label; '_' is let through as many hosts use it) joined by '.', at
// most 64 characters (the kernel's limit).
// A newline would add a line to the container's /etc/hosts; other characters break resolvers.
std::string hostname_problem(std::string_view name);
// docker --env-file: one K=V or K per line, '#' comments and blank lines skipped.
// `path` is only used in error messages ("FILE: line N: ...").
std::vector<std::string> parse_env_file(std::string_view content, std::string_view path);
// Sets or replaces K in env (a list of "K=V").
void set_env(std::vector<std::string>& env, std::string_view assignment);
// Value of K in env, or nullptr.
const std::string* find_env(const std::vector<std::string>& env, std::string_view key);

// /etc/passwd and /etc/group of the rootfs (never the host's).
struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};
struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};
std::vector<PasswdEntry> parse_passwd(std::string_view content);
std::vector<GroupEntry> parse_group(std::string_view content);

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> supplementary_gids;  // primary gid + /etc/group memberships (initgroups)
  std::string home = "/";                 // for $HOME when the caller did not set it
};
// docker -u: "UID[:GID]" or "NAME[:GROUP]" (mixes allowed). Names must exist in the given files;
// a numeric uid without an entry gets gid 0 like docker. Throws Error naming the user/group.
ResolvedUser resolve_user(std::string_view spec, std::string_view passwd_content,
                          std::string_view group_content);
// Same, reading etc/passwd and etc/group beneath rootfs_fd (missing files count as empty).
ResolvedUser resolve_user_in_rootfs(int rootfs_fd, std::string_view spec);

// ---- Capabilities ----
// A set of capabilities as a bit mask (bit N = capability number N).
using CapSet = std::uint64_t;
CapSet default_capabilities();  // docker's 14
// docker semantics: "ALL" in add -> all then drop; "ALL" in drop -> none then add.
// Names case-insensitive, with or without "CAP_". Throws Error for unknown names.
CapSet resolve_capabilities(const std::vector<std::string>& add,
                            const std::vector<std::string>& drop);
std::string capability_names(CapSet set);  // "CAP_CHOWN,CAP_KILL,..." for messages/tests

// ---- Seccomp ----
enum class SeccompAction { kAllow, kErrno, kKillThread, kKillProcess, kTrap, kLog };
struct SeccompArg {
  enum class Op { kNotEqual, kLess, kLessEqual, kEqual, kGreaterEqual, kGreater, kMaskedEqual };
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;  // the expected value for kMaskedEqual
  Op op = Op::kEqual;
};
struct SeccompRule {
  std::vector<std::string> names;  // names unknown on this architecture are skipped (as docker)
  SeccompAction action = SeccompAction::kErrno;
  int errno_ret = 1;             // EPERM
  std::vector<SeccompArg> args;  // all must match
};
struct SeccompPolicy {
  bool unconfined = false;
  SeccompAction default_action = SeccompAction::kAllow;
  int default_errno = 1;
  // libseccomp's names ("x86_64", "x86", "x32", "aarch64", "arm"...): the ABIs the filter judges,
  // each by its own syscall numbers. Empty: the native one only (other ABIs are killed).
  std::vector<std::string> arches;
  std::vector<SeccompRule> rules;
};
// cgprof's default: docker's default profile (docker 26; src/sandbox/seccomp_policy.cpp): the
// allowed groups, socket() but AF_VSOCK, personality() with docker's values, clone() without
// namespace flags, clone3 -> ENOSYS; everything else EPERM. A refused group is allowed when
// `caps` (the container's capabilities) holds one of its unlocked_by, as docker's includes.caps.
SeccompPolicy default_seccomp_policy(CapSet caps);
// The native ABI and its compat ones, as docker's archMap ({"x86_64","x86","x32"} on x86_64).
std::vector<std::string> default_seccomp_arches();
// The capabilities the default policy depends on (every unlocked_by, and CAP_SYS_ADMIN for
// clone): capability sets equal on these get the same filter.
CapSet seccomp_policy_caps();
// The default filter for caps as compiled at build time (libseccomp needs ~10 ms of CPU for it),
// for docker's default set, for none, for docker's plus SYS_PTRACE and for all; empty otherwise.
std::span<const std::uint8_t> precompiled_default_seccomp(CapSet caps);
// The default's table, one group per reason, for docs and tests.
struct SyscallGroup {
  const char* reason;
  std::vector<const char*> syscalls;
  CapSet unlocked_by = 0;  // refused groups: allowed when the container holds any of these
};
const std::vector<SyscallGroup>& allowed_syscall_groups();
const std::vector<SyscallGroup>& refused_syscall_groups();
// docker's seccomp JSON (defaultAction, defaultErrnoRet, architectures, syscalls[names|name,
// action, errnoRet, args, includes/excludes {caps, arches}]). `caps` is the container's
// capability set (for includes/excludes.caps). `path` is for messages. Throws Error on unknown
// fields or actions, naming the field.
SeccompPolicy parse_seccomp_profile(std::string_view json, std::string_view path, CapSet caps);
// The compiled BPF program (struct sock_filter array). Unless the default action allows, a
// syscall newer than every name the policy lists (per ABI) fails with ENOSYS instead, as runc
// does, so libc falls back from calls the kernel has and libseccomp does not know yet.
std::vector<std::uint8_t> compile_seccomp(const SeccompPolicy& policy);

// ---- The spec ----
enum class NetMode { kLoopback, kNone, kHost };  // loopback: new netns, only lo up
enum class UsernsMode {
  kAuto,     // rootless when not root; as root: no user namespace
  kHost,     // no user namespace (root only)
  kPrivate,  // always a user namespace (as root: map root's /etc/subuid range, else 0-65535 1:1)
};
enum class RootfsMode {
  kOverlay,   // writes go to a throwaway overlay upper dir in a tmpfs, discarded afterwards
  kReadOnly,  // read-only rootfs (+ tmpfs on /tmp, /run); --read-only
};

struct ProcessSpec {
  std::string rootfs;  // directory on the host
  // An image stored as layers (overlayfs format, user.overlay.* xattrs): their directories, top
  // first, stacked into the root with overlayfs; rootfs is then the top one. Empty: rootfs alone.
  std::vector<std::string> rootfs_layers;
  // Where etc/passwd and etc/group are read to resolve --user (empty: rootfs): for a stacked
  // image, a directory holding copies taken from its merged view.
  std::string user_db_root;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "K=V"; PATH/HOME/HOSTNAME get docker's defaults if absent
  std::string cwd = "/";         // created if missing (as docker's -w)
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> supplementary_gids;
  std::string user;  // the -u text as given, for messages ("" = root)
  std::vector<Volume> volumes;
  std::string hostname = "cgprof";
  NetMode net = NetMode::kLoopback;
  CapSet capabilities = default_capabilities();
  std::optional<SeccompPolicy> seccomp;  // unset: default_seccomp_policy(capabilities)
  UsernsMode userns = UsernsMode::kAuto;
  RootfsMode rootfs_mode = RootfsMode::kOverlay;
};

// The filter for a spec: its own policy, or the default for its capabilities (precompiled when
// there is one).
std::vector<std::uint8_t> compile_seccomp(const ProcessSpec& spec);

// ---- Launch ----
enum class CgroupPlacement {
  kNone,             // no cgroup requested
  kCloneIntoCgroup,  // clone3(CLONE_INTO_CGROUP): in the cgroup from its first instruction
  kCgroupProcs,      // fallback: pid written to cgroup.procs while the child waits on a pipe
};
const char* to_string(CgroupPlacement p);

struct LaunchOptions {
  int cgroup_fd = -1;           // cgroup v2 directory fd; borrowed, must outlive start()
  // cgroup v1: the run's cgroup in each hierarchy (directory fds, borrowed). v1 has no
  // CLONE_INTO_CGROUP: the child's pid goes into each one's cgroup.procs while it waits for
  // its go, before it runs any setup (kCgroupProcs).
  std::vector<int> cgroup_join_fds;
  // cgroup v1: the hierarchies to show read-only under the container's /sys/fs/cgroup, by their
  // mount options ("cpu,cpuacct", "memory"), rooted at the run's cgroups (docker's v1 view).
  std::vector<std::string> cgroup_v1_hierarchies;
  bool forward_signals = true;  // SIGINT/TERM/HUP/QUIT/USR1/USR2 to cgprof reach the workload
  bool quiet = false;           // suppress one-line notices (overlay fallback, ...) on stderr
  // The workload's stdout and stderr instead of cgprof's (borrowed, must outlive start(); -1:
  // cgprof's own). --mark-regex reads the workload's output through these pipes.
  int stdout_fd = -1, stderr_fd = -1;
  // Host path of a FIFO bind-mounted read-only at kMarkDevPath for phase marks ("" = none). In
  // cgprof's own /dev, so it needs no mount point in the image (which may be read-only or not
  // writable by a rootless user).
  std::string mark_fifo;
};
inline constexpr const char* kMarkDevPath = "/dev/cgprof-mark";

struct ExitStatus {
  int code = 0;    // exit code when signal == 0
  int signal = 0;  // terminating signal, 0 if exited
  bool exec_failed = false;
  int exit_code() const { return signal ? 128 + signal : code; }  // docker's value
};
// waitid()-style (si_code CLD_EXITED/CLD_KILLED/CLD_DUMPED, si_status) -> ExitStatus.
ExitStatus exit_status_from_wait(int cld_code, int status_or_signal);
// The docker exit code for a failed execve errno: ENOENT -> 127, others -> 126.
int exit_code_for_exec_errno(int err);

class Container {
 public:
  Container();
  ~Container();  // kills what is left, reaps; mounts and scratch space die with the namespaces
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  // Returns once the workload is about to execve (its execve has succeeded by then).
  // Throws Error with exit_code() 125 (setup failed), 126 (cannot execute) or 127 (not found).
  void start(const ProcessSpec& spec, const LaunchOptions& opts = {});

  pid_t pid() const;  // host pid of the container's init (PID 1 inside)
  int pidfd() const;  // pidfd of that init
  // Blocks until the workload exits; EINTR-safe; callable while other threads run. Idempotent.
  ExitStatus wait();
  // Sends sig to the workload (via init). Returns false if the container is gone.
  bool signal(int sig);

  CgroupPlacement cgroup_placement() const;
  bool user_namespace() const;
  bool overlay() const;  // false when the read-only fallback was used
  // CLOCK_MONOTONIC nanoseconds: just before the workload's execve / when init saw it exit.
  std::int64_t exec_start_ns() const;
  std::int64_t exit_ns() const;
  // After wait(): init's wait4 rusage (its own and every process of its namespace it reaped).
  const struct rusage& resource_usage() const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace cgprof::sandbox
