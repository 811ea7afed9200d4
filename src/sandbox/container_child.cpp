// Child side of a container launch: the cloned child of cgprof (PID 1 of the new namespaces)
// sets the container up and then execs the container init, cgprof-init (src/sandbox/init/).
// Runs after clone, so: no allocation, raw syscalls where glibc would consult state shared with
// the parent's other threads (setresuid broadcasts to "all threads"), fixed buffers.
//
// The order is the security story, each step needing the privileges the next one drops:
//   1. wait for the parent's go (id maps written, cgroup placed); then, when placed through
//      cgroup.procs, the cgroup namespace, rooted at the run's cgroup
//   2. session, hostname, loopback
//   3. the file system: overlay root, /proc, /dev, /sys, masked paths, volumes, pivot_root
//   4. workdir, then capabilities and ids dropped, no_new_privs
//   5. every fd closed but 0-2 and the init's two pipes (the caller's inherited fds too)
//   6. the seccomp filter
//   7. exec cgprof-init from a sealed memfd: from here no code of cgprof, none of its memory,
//      fds, environment or argv is in the container.
#include <arpa/inet.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cgprof/sys.hpp"
#include "src/sandbox/launch_plan.hpp"

namespace cgprof::sandbox {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void send_msg(int fd, const ChildMsg& m) {
  while (::write(fd, &m, sizeof m) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void die(int fd, ChildMsg& m) {
  send_msg(fd, m);
  ::_exit(m.code ? m.code : 125);
}

int loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    rc = ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  int err = rc < 0 ? -errno : 0;
  ::close(s);
  return err;
}


// Drops to the workload's identity and privileges. Order matters: the bounding set needs
// CAP_SETPCAP (so before setuid), the permitted set survives setuid only with KEEPCAPS.
int drop_privileges(const LaunchPlan& plan, ChildMsg* m) {
  const ProcessSpec& s = *plan.spec;
  for (int c = 0; c < 64; ++c)
    if (!((s.capabilities >> c) & 1) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
        errno != EINVAL) {
      child_fail_msg(m, "drop capability from the bounding set:", "", errno);
      return -1;
    }
  if (plan.can_setgroups) {
    if (::syscall(SYS_setgroups, s.supplementary_gids.size(), s.supplementary_gids.data()) < 0) {
      child_fail_msg(m, "setgroups for user", s.user.c_str(), errno);
      return -1;
    }
  }
  if (::syscall(SYS_setresgid, s.gid, s.gid, s.gid) < 0) {
    child_fail_msg(m, "setgid for user", s.user.empty() ? "root" : s.user.c_str(), errno);
    return -1;
  }
  ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (::syscall(SYS_setresuid, s.uid, s.uid, s.uid) < 0) {
    child_fail_msg(m, "setuid for user", s.user.empty() ? "root" : s.user.c_str(), errno);
    return -1;
  }
  // Effective = permitted = the set; inheritable and ambient empty. execve then gives root the
  // bounding set and any other user nothing, exactly as docker.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<std::uint32_t>(s.capabilities >> (32 * i));
    data[i].effective = data[i].permitted = word;
  }
  if (::syscall(SYS_capset, &hdr, data) < 0) {
    child_fail_msg(m, "capset", "", errno);
    return -1;
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    child_fail_msg(m, "prctl", "no_new_privs", errno);
    return -1;
  }
  return 0;
}

// Puts the output pipes of --mark-regex on 1 and 2, moves the two pipes to the fds the init expects
// and the init's image to the next one, and closes every other fd: cgprof's own and whatever its
// caller let it inherit. Returns -errno.
int arrange_fds(const LaunchPlan& plan) {
  const int report = ::fcntl(plan.report_fd, F_DUPFD_CLOEXEC, kInitStatusFd + 2);
  const int status = ::fcntl(plan.status_fd, F_DUPFD_CLOEXEC, kInitStatusFd + 2);
  const int image = ::fcntl(plan.init_image_fd, F_DUPFD_CLOEXEC, kInitStatusFd + 2);
  if (report < 0 || status < 0 || image < 0) return -errno;
  if ((plan.stdout_fd >= 0 && ::dup2(plan.stdout_fd, STDOUT_FILENO) < 0) ||
      (plan.stderr_fd >= 0 && ::dup2(plan.stderr_fd, STDERR_FILENO) < 0))
    return -errno;
  // dup2 leaves the new fds without FD_CLOEXEC: these two survive the exec of the init.
  if (::dup2(report, kInitReportFd) < 0 || ::dup2(status, kInitStatusFd) < 0) return -errno;
  if (::dup3(image, kInitImageFd, O_CLOEXEC) < 0) return -errno;
  if (::syscall(SYS_close_range, kInitImageFd + 1, ~0U, 0) == 0) return 0;
  if (errno != ENOSYS) return -errno;
  struct rlimit rl {};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  for (rlim_t fd = kInitImageFd + 1; fd < rl.rlim_cur; ++fd) ::close(static_cast<int>(fd));
  return 0;
}

// The last step: exec cgprof-init, which forks and execs the workload. Only the seccomp filter's
// allowed calls from here: fcntl/dup/close_range before it, execveat after.
[[noreturn]] void exec_init(const LaunchPlan& plan) {
  const ProcessSpec& s = *plan.spec;
  ChildMsg m{};
  if (!plan.cwd_rel.empty()) {
    // mkdir -p inside the (already pivoted) root, as root, like docker's -w.
    int rc = make_directories_noalloc(plan.cwd_rel.c_str(), 0755);
    if (rc < 0) {
      child_fail_msg(&m, "create workdir", s.cwd.c_str(), -rc);
      die(plan.report_fd, m);
    }
  }
  if (drop_privileges(plan, &m) < 0) die(plan.report_fd, m);
  if (::chdir(s.cwd.c_str()) < 0) {
    child_fail_msg(&m, "chdir to workdir", s.cwd.c_str(), errno);
    m.code = 126;
    die(plan.report_fd, m);
  }
  if (int rc = arrange_fds(plan); rc < 0) {
    child_fail_msg(&m, "close inherited file descriptors", "", -rc);
    die(plan.report_fd, m);
  }
  const int report = kInitReportFd;
  if (!plan.seccomp_bpf.empty()) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(plan.seccomp_bpf.size() / sizeof(sock_filter));
    prog.filter =
        reinterpret_cast<sock_filter*>(const_cast<std::uint8_t*>(plan.seccomp_bpf.data()));
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
      child_fail_msg(&m, "load seccomp filter", "", errno);
      die(report, m);
    }
  }
  ::syscall(SYS_execveat, kInitImageFd, "", plan.init_argv.data(), plan.envp.data(),
            AT_EMPTY_PATH);
  // A seccomp profile without execveat: the same file through the container's /proc.
  int err = errno;
  if (err == EPERM || err == ENOSYS) {
    ::execve("/proc/self/fd/5", plan.init_argv.data(), plan.envp.data());
    err = errno;
  }
  child_fail_msg(&m, "exec the container init", "(cgprof-init from a sealed memfd)", err);
  die(report, m);
}

}  // namespace

[[noreturn]] void run_container_child(LaunchPlan& plan) {
  // Signals cgprof forwards during setup stay pending (blocked signals are queued even for a
  // namespace's init) across the exec until cgprof-init hands them to the workload.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : kForwarded) sigaddset(&forwarded, sig);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The parent may have died before the line above: then nobody would ever release us.
  pollfd pfd{plan.parent_pidfd, POLLIN, 0};
  if (plan.parent_pidfd >= 0 && ::poll(&pfd, 1, 0) > 0) ::_exit(125);
  char go = 0;
  ssize_t n;
  while ((n = ::read(plan.sync_fd, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1 || go != 'G') ::_exit(125);  // the parent gave up (its error is reported there)
  ::close(plan.sync_fd);
  ::close(plan.parent_pidfd);
  // Now inside the run's cgroups: a cgroup namespace made here has them as its root, so the
  // workload sees "/" in /proc/self/cgroup and nothing of the caller's cgroup paths.
  if (plan.unshare_cgroupns && ::unshare(CLONE_NEWCGROUP) < 0) {
    ChildMsg cm{};
    child_fail_msg(&cm, "create the cgroup namespace", "", errno);
    die(plan.report_fd, cm);
  }

  const ProcessSpec& s = *plan.spec;
  ChildMsg m{};
  if (plan.user_namespace) {
    // Become the namespace's root. A rootless caller already is (its id is mapped to 0); root
    // with --rootless is host uid 0, which the subordinate-range map leaves unmapped, so until
    // now it is nobody in here and could not even create files in its own tmpfs.
    if (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0) {
      child_fail_msg(&m, "become root of the user namespace", "", errno);
      die(plan.report_fd, m);
    }
    if (plan.can_setgroups && ::syscall(SYS_setgroups, 0, nullptr) < 0) {
      child_fail_msg(&m, "drop the caller's supplementary groups", "", errno);
      die(plan.report_fd, m);
    }
  }
  ::umask(022);
  ::setsid();  // Ctrl-C reaches cgprof only, which forwards it once; also stops TIOCSTI
  if (::sethostname(s.hostname.data(), s.hostname.size()) < 0) {
    child_fail_msg(&m, "sethostname", s.hostname.c_str(), errno);
    die(plan.report_fd, m);
  }
  if (s.net == NetMode::kLoopback) {
    int rc = loopback_up();
    if (rc < 0) {
      child_fail_msg(&m, "bring up", "lo", -rc);
      die(plan.report_fd, m);
    }
  }
  bool overlay = false;
  if (setup_rootfs(plan, &m, &overlay) < 0) die(plan.report_fd, m);
  std::int32_t notice = m.notice;

  if (notice) {
    m = ChildMsg{};
    m.notice = notice;
    send_msg(plan.report_fd, m);
  }
  exec_init(plan);
}

}  // namespace cgprof::sandbox
