// Parent side of a container: prepare the plan, clone into the namespaces (and the cgroup),
// write id maps, release the child, report its exec, wait, forward signals, clean up.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "cgprof/cgroup.hpp"
#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/idmap.hpp"
#include "cgprof/signal_forwarder.hpp"
#include "src/sandbox/launch_plan.hpp"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

namespace cgprof::sandbox {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// struct clone_args of linux/sched.h (v2, with cgroup), declared here to avoid its macro clashes
// with glibc's <sched.h>.
struct CloneArgs {
  std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

std::int64_t now_ns() { return static_cast<std::int64_t>(monotonic_ns()); }

std::string strip_slashes(const std::string& p) {
  size_t i = p.find_first_not_of('/');
  return i == std::string::npos ? std::string() : p.substr(i);
}

// Reads one message; false on EOF.
bool read_msg(int fd, ChildMsg* m) {
  size_t got = 0;
  auto* p = reinterpret_cast<char*>(m);
  while (got < sizeof *m) {
    ssize_t n = ::read(fd, p + got, sizeof *m - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

struct Container::State {
  UniqueFd pidfd;
  pid_t pid = -1;
  UniqueFd status_rd;
  bool started = false;
  bool reaped = false;
  ExitStatus status;
  CgroupPlacement placement = CgroupPlacement::kNone;
  bool userns = false;
  bool overlay = true;
  std::int64_t exec_start_ns = 0;
  std::int64_t exit_ns = 0;
  struct rusage usage {};
  // Signals to cgprof, passed to init (LaunchOptions::forward_signals). Installed before clone
  // so that none is lost while the workload already runs but start() has not returned.
  std::optional<SignalForwarder> forwarder;

  // Reaps init (blocking) and returns how it ended.
  siginfo_t reap() {
    siginfo_t si{};
    // The raw system call also returns init's rusage: its own and every process it reaped.
    while (::syscall(SYS_waitid, P_PIDFD, pidfd.get(), &si, WEXITED, &usage) < 0 &&
           errno == EINTR) {
    }
    reaped = true;
    return si;
  }

  // Step 10 of start(), below.
  void await_exec(int report_rd, const ProcessSpec& spec, const LaunchPlan& plan, bool quiet);
};

Container::Container() : s_(std::make_unique<State>()) {}

Container::~Container() {
  s_->forwarder.reset();
  if (s_->pidfd && !s_->reaped) {
    // Killing init makes the kernel kill the whole pid namespace; the mount namespace (overlay,
    // scratch tmpfs) goes with its last process.
    ::syscall(SYS_pidfd_send_signal, s_->pidfd.get(), SIGKILL, nullptr, 0);
    s_->reap();
  }
}

pid_t Container::pid() const {
  return s_->pid;
}
int Container::pidfd() const {
  return s_->pidfd.get();
}
CgroupPlacement Container::cgroup_placement() const {
  return s_->placement;
}
bool Container::user_namespace() const {
  return s_->userns;
}
bool Container::overlay() const {
  return s_->overlay;
}
std::int64_t Container::exec_start_ns() const {
  return s_->exec_start_ns;
}
std::int64_t Container::exit_ns() const {
  return s_->exit_ns;
}
const struct rusage& Container::resource_usage() const {
  return s_->usage;
}

bool Container::signal(int sig) {
  if (!s_->pidfd || s_->reaped) return false;
  return ::syscall(SYS_pidfd_send_signal, s_->pidfd.get(), sig, nullptr, 0) == 0;
}

// ---- Container::start, step by step ----
//
// The order is the security story: each step runs with what the steps before it left.
//   In the parent (below), before clone, everything that needs allocation or libraries:
//     1. open_rootfs            the rootfs is a directory (the child opens it again, inside)
//     2. plan_user_namespace    root or a user namespace; its id maps; the user exists there
//     3. open_volumes           host paths opened now, so the child binds what the user named
//     4. plan_process           hostname, environment (docker's defaults), init argv, workdir
//     5. plan_confinement       the seccomp filter compiled, generated /etc files
//     6. open_channels          sync, report and status pipes; the init's sealed memfd
//     7. clone_into_namespaces  mount, pid, uts, ipc, net, cgroup (and user) namespaces, into
//                               the run's cgroup with CLONE_INTO_CGROUP where the kernel can
//     8. map_ids_and_place      id maps written, cgroup.procs joined, while the child waits
//     9. release_child          the go: only now does the child set anything up
//    10. await_exec             the child's report: about to exec, or what failed
//   In the child (container_child.cpp), after the go: cgroup namespace; hostname and loopback;
//   mounts (overlay root, /proc, /dev, /sys, masked paths, volumes) and pivot_root; workdir;
//   capabilities and ids dropped, no_new_privs; every other fd closed; the seccomp filter;
//   exec of cgprof-init from its sealed memfd.
namespace {

// Step 1. Only a check: the child opens the rootfs again in its own mount namespace.
UniqueFd open_rootfs(const ProcessSpec& spec) {
  int rfd = ::open(spec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) {
    int err = errno;
    throw Error("rootfs " + spec.rootfs + ": " + std::strerror(err) +
                " (give a directory holding a root file system, e.g. one made by "
                "rootfs-tools/make-busybox-rootfs)");
  }
  return UniqueFd(rfd);
}

// Step 2. Which user namespace, and which ids exist in it. Returns whether there is one; its
// maps go to *idmap.
bool plan_user_namespace(const ProcessSpec& spec, const LaunchOptions& opts, int rootfs_fd,
                         LaunchPlan& plan, IdMapPlan* idmap) {
  const uid_t euid = ::geteuid();
  bool userns = spec.userns == UsernsMode::kPrivate || (spec.userns == UsernsMode::kAuto && euid);
  if (spec.userns == UsernsMode::kHost && euid)
    throw Error("--userns=host needs root; without root cgprof must use a user namespace");
  if (userns) {
    *idmap = caller_id_maps();
    if (!idmap->maps_uid(spec.uid) || !idmap->maps_gid(spec.gid))
      throw Error("user \"" + (spec.user.empty() ? std::to_string(spec.uid) : spec.user) +
                  "\" (uid " + std::to_string(spec.uid) + ", gid " + std::to_string(spec.gid) +
                  ") does not exist in the rootless user namespace (" + idmap->describe() +
                  "): add a range for your user to /etc/subuid and /etc/subgid (uidmap package), "
                  "or run as root");
    plan.can_setgroups = !idmap->deny_setgroups;
    if (!plan.can_setgroups && !spec.supplementary_gids.empty())
      plan.can_setgroups = false;  // the groups cannot be set; the user keeps none visible
  }
  if (userns && !opts.quiet) {
    // Copy-up into the overlay keeps the owner; an owner outside the namespace cannot be kept.
    struct stat st {};
    if (::fstat(rootfs_fd, &st) == 0 && !idmap->maps_host_uid(st.st_uid))
      std::fprintf(stderr,
                   "cgprof: rootfs %s is owned by host uid %u, which is not mapped in the user "
                   "namespace: writes into its existing directories will fail (give the rootfs to "
                   "your user, e.g. make-busybox-rootfs DIR --owner USER, or run as root)\n",
                   spec.rootfs.c_str(), static_cast<unsigned>(st.st_uid));
  }
  if (userns && euid == 0 && !spec.rootfs_layers.empty())
    throw Error("--rootless as root cannot run an image from root's image cache: container root "
                "is root's subordinate range (" + idmap->describe() + "), which cannot read the "
                "cache's layers; run without --rootless, or with --rootfs on a tree that range "
                "can read");
  plan.user_namespace = userns;
  plan.real_root = !userns;
  return userns;
}

// Step 3. Volumes: opened on the host now, so the child binds exactly what the user named.
std::vector<UniqueFd> open_volumes(const ProcessSpec& spec, LaunchPlan& plan) {
  std::vector<UniqueFd> volume_fds;
  for (const auto& v : spec.volumes) {
    int fd = ::open(v.host_path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      throw Error("volume " + v.host_path + ":" + v.container_path + ": host path " + v.host_path +
                  ": " + std::strerror(err));
    }
    volume_fds.emplace_back(fd);
    struct stat st {};
    ::fstat(fd, &st);
    plan.volumes.push_back(
        {v.host_path, -1, S_ISDIR(st.st_mode), v.read_only, strip_slashes(v.container_path)});
  }
  return volume_fds;
}

// Step 4. What the init is started with: environment, argv, working directory.
void plan_process(const ProcessSpec& spec, LaunchPlan& plan) {
  // The host name goes into /etc/hosts and /etc/hostname: a newline there would add a line.
  if (std::string why = hostname_problem(spec.hostname); !why.empty())
    throw Error("host name \"" + spec.hostname + "\": " + why);

  // Environment with docker's defaults.
  plan.env_storage = spec.env;
  if (!find_env(plan.env_storage, "PATH"))
    set_env(plan.env_storage, std::string("PATH=") + kDefaultPath);
  if (!find_env(plan.env_storage, "HOSTNAME"))
    set_env(plan.env_storage, "HOSTNAME=" + spec.hostname);
  if (!find_env(plan.env_storage, "HOME")) set_env(plan.env_storage, "HOME=/");
  plan.path_env = find_env(plan.env_storage, "PATH")->substr(5);
  for (auto& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  static char kInitName[] = "cgprof-init", kDashDash[] = "--";
  plan.init_argv = {kInitName, kDashDash};
  for (const auto& a : spec.argv) plan.init_argv.push_back(const_cast<char*>(a.c_str()));
  plan.init_argv.push_back(nullptr);
  plan.cwd_rel = strip_slashes(spec.cwd);
}

// Step 5. The seccomp filter (compiled here: libseccomp allocates, the child must not) and the
// generated /etc files.
void plan_confinement(const ProcessSpec& spec, LaunchPlan& plan) {
  plan.seccomp_bpf = with_context("seccomp", [&] { return compile_seccomp(spec); });
  if (spec.net == NetMode::kHost) {
    plan.hosts = read_file_or_empty("/etc/hosts");
    plan.resolv_conf = read_file_or_empty("/etc/resolv.conf");
  } else {
    plan.hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" +
                 spec.hostname + "\n";
    plan.resolv_conf = "# cgprof: --net " +
                       std::string(spec.net == NetMode::kNone ? "none" : "loopback") +
                       ": no network, no DNS\n";
  }
  plan.hostname_file = spec.hostname + "\n";
}

// Step 6. The pipes between parent and child; the parent keeps the read ends of report and
// status and the write end of sync, the child the others (closed here after the clone).
struct Channels {
  UniqueFd sync_rd, sync_wr, report_rd, report_wr, status_rd, status_wr, self_pidfd;
  void close_child_ends() {
    sync_rd.reset();
    report_wr.reset();
    status_wr.reset();
    self_pidfd.reset();
  }
};
Channels open_channels(const LaunchOptions& opts, LaunchPlan& plan) {
  Channels c;
  int sync_p[2], report_p[2], status_p[2];
  if (::pipe2(sync_p, O_CLOEXEC) < 0) throw_errno("pipe2");
  c.sync_rd.reset(sync_p[0]);
  c.sync_wr.reset(sync_p[1]);
  if (::pipe2(report_p, O_CLOEXEC) < 0) throw_errno("pipe2");
  c.report_rd.reset(report_p[0]);
  c.report_wr.reset(report_p[1]);
  if (::pipe2(status_p, O_CLOEXEC) < 0) throw_errno("pipe2");
  c.status_rd.reset(status_p[0]);
  c.status_wr.reset(status_p[1]);
  c.self_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  plan.sync_fd = c.sync_rd.get();
  plan.report_fd = c.report_wr.get();
  plan.status_fd = c.status_wr.get();
  plan.parent_pidfd = c.self_pidfd.get();
  plan.stdout_fd = opts.stdout_fd;
  plan.stderr_fd = opts.stderr_fd;
  plan.mark_fifo = opts.mark_fifo;
  plan.init_image_fd = with_context("preparing the container init", [] { return init_image_fd(); });
  plan.cgroup_v1_hierarchies = opts.cgroup_v1_hierarchies;
  return c;
}

// Step 7. clone3 into new namespaces (and, where the kernel can, straight into the run's cgroup);
// the child runs run_container_child and never returns here.
struct Cloned {
  pid_t pid = -1;
  int pidfd = -1;
  CgroupPlacement placement = CgroupPlacement::kNone;
};
Cloned clone_into_namespaces(const ProcessSpec& spec, const LaunchOptions& opts, bool userns,
                             LaunchPlan& plan) {
  Cloned out;
  std::uint64_t flags =
      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_PIDFD;
  if (spec.net != NetMode::kHost) flags |= CLONE_NEWNET;
  if (userns) flags |= CLONE_NEWUSER;
  int child_pidfd = -1;
  CloneArgs args{};
  args.flags = flags;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&child_pidfd);
  args.exit_signal = SIGCHLD;
  long pid = -1;
  if (opts.cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(opts.cgroup_fd);
    pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) run_container_child(plan);
    if (pid > 0) out.placement = CgroupPlacement::kCloneIntoCgroup;
    if (pid < 0 && errno != EINVAL && errno != ENOSYS && errno != EPERM && errno != E2BIG)
      throw_errno("clone3 into cgroup");
    args.flags &= ~CLONE_INTO_CGROUP;
    args.cgroup = 0;
  }
  if (pid < 0) {
    if (opts.cgroup_fd >= 0 || !opts.cgroup_join_fds.empty()) {
      // Placed through cgroup.procs after the clone: a cgroup namespace made now would be
      // rooted at cgprof's cgroup; the child makes it after the go instead (as runc does).
      args.flags &= ~static_cast<std::uint64_t>(CLONE_NEWCGROUP);
      flags &= ~static_cast<std::uint64_t>(CLONE_NEWCGROUP);
      plan.unshare_cgroupns = true;
    }
    pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
      pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, &child_pidfd, 0, 0);
    if (pid == 0) run_container_child(plan);
    if (pid < 0) {
      int err = errno;
      std::string hint = err == EPERM || err == ENOSPC
                             ? " (are unprivileged user namespaces enabled? "
                               "sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)"
                             : "";
      throw Error(std::string("clone into new namespaces: ") + std::strerror(err) + hint);
    }
    if (opts.cgroup_fd >= 0 || !opts.cgroup_join_fds.empty())
      out.placement = CgroupPlacement::kCgroupProcs;
  }
  out.pid = static_cast<pid_t>(pid);
  out.pidfd = child_pidfd;
  return out;
}

// Step 8. While the child waits for the go: its id maps, and its cgroups when it could not be
// cloned into them.
void map_ids_and_place(bool userns, const IdMapPlan& idmap, CgroupPlacement placement,
                       const LaunchOptions& opts, pid_t pid) {
  if (userns) apply_id_maps(idmap, pid);
  if (placement == CgroupPlacement::kCgroupProcs) {
    std::vector<int> cgroups = opts.cgroup_join_fds;
    if (opts.cgroup_fd >= 0) cgroups.insert(cgroups.begin(), opts.cgroup_fd);
    with_context("placing the container into its cgroup", [&] {
      for (int fd : cgroups) move_into_cgroup(fd, pid);
    });
  }
}

// Step 9. The go: from here the child sets the container up.
void release_child(UniqueFd sync_wr) {
  char go = 'G';
  // The child may already be gone (killed during setup): the write must then fail with EPIPE
  // and unwind through the destructors (reap, cgroup removal), not kill cgprof by SIGPIPE
  // with the cgroup and result left behind (seen in the VM: a run interrupted while starting).
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  ssize_t n = ::write(sync_wr.get(), &go, 1);
  int err = errno;
  ::sigaction(SIGPIPE, &old, nullptr);
  if (n != 1 && err == EPIPE)
    throw Error("the container's init exited during setup, before it was released (killed?)");
  if (n != 1) {
    errno = err;
    throw_errno("release container init");
  }
}

}  // namespace

// Step 10. The child's report, until it execs the init (the pipe closes on exec): the exec's
// timestamp, or what failed (the child is then reaped and the error thrown).
void Container::State::await_exec(int report_rd, const ProcessSpec& spec, const LaunchPlan& plan,
                                  bool quiet) {
  ChildMsg m{};
  ChildMsg failure{};
  bool about_to_exec = false;
  while (read_msg(report_rd, &m)) {
    if (m.notice & 1) {
      overlay = false;
      if (!quiet)
        std::fprintf(stderr,
                     "cgprof: overlayfs unavailable here; running with a read-only rootfs "
                     "(tmpfs on /tmp)\n");
    }
    if (m.kind == ChildMsg::kAboutToExec) {
      about_to_exec = true;
      exec_start_ns = m.ts_ns;
    } else if (m.kind == ChildMsg::kExecFailed || m.kind == ChildMsg::kSetupFailed) {
      failure = m;
    }
  }
  if (failure.kind == ChildMsg::kExecFailed) {
    reap();
    const std::string& cmd = spec.argv[0];
    std::string why = failure.value == ENOENT && cmd.find('/') == std::string::npos
                          ? "executable file not found in $PATH (" + plan.path_env + ")"
                          : std::string(std::strerror(failure.value));
    throw Error("exec \"" + cmd + "\" in rootfs " + spec.rootfs + ": " + why, failure.code,
                failure.value);
  }
  if (failure.kind == ChildMsg::kSetupFailed) {
    reap();
    throw Error(std::string("setting up the container: ") + failure.text, failure.code,
                failure.value);
  }
  if (!about_to_exec) {
    siginfo_t si = reap();
    ExitStatus st = exit_status_from_wait(si.si_code, si.si_status);
    throw Error(
        "container init ended before running the command (" +
        (st.signal ? "signal " + std::to_string(st.signal) : "exit " + std::to_string(st.code)) +
        ")");
  }
  if (exec_start_ns == 0) exec_start_ns = now_ns();
}

void Container::start(const ProcessSpec& spec, const LaunchOptions& opts) {
  if (s_->started) throw Error("internal: Container::start called twice");
  if (spec.argv.empty()) throw Error("no command given to run in the container");
  s_->started = true;

  LaunchPlan plan;
  plan.spec = &spec;
  plan.layer_fds.assign(spec.rootfs_layers.size(), -1);
  UniqueFd rootfs_fd = open_rootfs(spec);                                          // 1
  IdMapPlan idmap;
  const bool userns = plan_user_namespace(spec, opts, rootfs_fd.get(), plan, &idmap);  // 2
  s_->userns = userns;
  std::vector<UniqueFd> volume_fds = open_volumes(spec, plan);                     // 3
  plan_process(spec, plan);                                                        // 4
  plan_confinement(spec, plan);                                                    // 5
  Channels ch = open_channels(opts, plan);                                         // 6

  // The child inherits these handlers and blocks the signals first thing (init.cpp), so one
  // that arrives during setup waits in init until the workload exists.
  if (opts.forward_signals) s_->forwarder.emplace(SignalForwarder::Policy::kPassAll);
  Cloned child = clone_into_namespaces(spec, opts, userns, plan);                  // 7
  s_->placement = child.placement;
  s_->pid = child.pid;
  s_->pidfd.reset(child.pidfd);
  if (s_->forwarder) s_->forwarder->set_target(s_->pidfd.get());
  ch.close_child_ends();
  s_->status_rd = std::move(ch.status_rd);

  // From here an exception kills and reaps the child in ~Container.
  map_ids_and_place(userns, idmap, s_->placement, opts, s_->pid);                  // 8
  release_child(std::move(ch.sync_wr));                                            // 9
  s_->await_exec(ch.report_rd.get(), spec, plan, opts.quiet);                      // 10
}

ExitStatus Container::wait() {
  if (!s_->pidfd) throw Error("internal: Container::wait before start");
  if (s_->reaped) return s_->status;
  siginfo_t si = s_->reap();
  // Wall time ends on cgprof's own clock, when the container's init was reaped.
  s_->exit_ns = now_ns();
  s_->forwarder.reset();
  // The exit code is init's own, from our waitid: cgprof-init exits with the workload's code or
  // 128+N. Its status message only tells "killed by signal N" from "exited 128+N", and counts
  // only when it agrees with that code, so nothing written inside the container decides it.
  s_->status = exit_status_from_wait(si.si_code, si.si_status);
  ChildMsg m{};
  int fl = ::fcntl(s_->status_rd.get(), F_GETFL);
  ::fcntl(s_->status_rd.get(), F_SETFL, fl | O_NONBLOCK);
  if (si.si_code == CLD_EXITED && read_msg(s_->status_rd.get(), &m) &&
      m.kind == ChildMsg::kExited) {
    ExitStatus said = exit_status_from_wait(m.code, m.value);
    if (said.exit_code() == s_->status.exit_code()) s_->status = said;
  }
  return s_->status;
}

}  // namespace cgprof::sandbox
