// Child side: the container's init (PID 1 inside) and the workload it forks (PID 2).
// Runs after clone, so: no allocation, raw syscalls where glibc would consult state shared with
// the parent's other threads (setresuid broadcasts to "all threads"), fixed buffers.
//
// init: waits for the parent's go, sets hostname / loopback / the file system, forks the
// workload, then only reaps children and forwards signals until the workload exits; its own
// exit then makes the kernel kill whatever else is left in the pid namespace.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "src/sandbox/launch_plan.hpp"
#include "cgprof/clock.hpp"

namespace cgprof::sandbox {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

std::int64_t now_ns() { return static_cast<std::int64_t>(monotonic_ns()); }

void send_msg(int fd, const ChildMsg& m) {
  while (::write(fd, &m, sizeof m) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void die(int fd, ChildMsg& m) {
  send_msg(fd, m);
  ::_exit(m.code ? m.code : 125);
}

void nothing(int) {}

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

// mkdir -p inside the (already pivoted) root, as root, like docker's -w.
int make_dirs(const char* rel) {
  char buf[4096];
  size_t n = std::strlen(rel);
  if (n >= sizeof buf) return -ENAMETOOLONG;
  std::memcpy(buf, rel, n + 1);
  for (char* p = buf;; ++p) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (buf[0] && ::mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
      if (saved == '\0') break;
      *p = saved;
    }
  }
  return 0;
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

[[noreturn]] void run_workload(const LaunchPlan& plan) {
  const ProcessSpec& s = *plan.spec;
  ChildMsg m{};
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);  // EINVAL for glibc-internal signals: fine
  }
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::close(plan.status_fd);

  if (!plan.cwd_rel.empty()) {
    int rc = make_dirs(plan.cwd_rel.c_str());
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
  if (!plan.seccomp_bpf.empty()) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(plan.seccomp_bpf.size() / sizeof(sock_filter));
    prog.filter =
        reinterpret_cast<sock_filter*>(const_cast<std::uint8_t*>(plan.seccomp_bpf.data()));
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
      child_fail_msg(&m, "load seccomp filter", "", errno);
      die(plan.report_fd, m);
    }
  }

  // From here on only the filter's allowed calls: clock_gettime, write, execve.
  const char* file = plan.argv[0];
  m.kind = ChildMsg::kAboutToExec;
  m.ts_ns = now_ns();
  send_msg(plan.report_fd, m);
  int err = ENOENT;
  if (std::strchr(file, '/')) {
    ::execve(file, plan.argv.data(), plan.envp.data());
    err = errno;
  } else {
    // execvp's rules, but with the container's PATH, not cgprof's.
    bool saw_eacces = false;
    const char* p = plan.path_env.c_str();
    char path[4096];
    for (;;) {
      const char* colon = std::strchr(p, ':');
      size_t len = colon ? static_cast<size_t>(colon - p) : std::strlen(p);
      if (len == 0) len = 1, p = ".";  // empty PATH entry means the cwd
      if (len + 1 + std::strlen(file) + 1 < sizeof path) {
        std::memcpy(path, p, len);
        path[len] = '/';
        std::strcpy(path + len + 1, file);
        ::execve(path, plan.argv.data(), plan.envp.data());
        if (errno == EACCES) saw_eacces = true;
        if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
          err = errno;
          break;
        }
      }
      if (!colon) {
        err = saw_eacces ? EACCES : ENOENT;
        break;
      }
      p = colon + 1;
    }
  }
  m = ChildMsg{};
  m.kind = ChildMsg::kExecFailed;
  m.value = err;
  m.code = exit_code_for_exec_errno(err);
  die(plan.report_fd, m);
}

[[noreturn]] void init_loop(const LaunchPlan& plan, pid_t workload, const sigset_t& waitset) {
  ChildMsg m{};
  for (;;) {
    siginfo_t si{};
    int sig = ::sigwaitinfo(&waitset, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      ::kill(workload, sig);
      continue;
    }
    for (;;) {
      siginfo_t ci{};
      if (::waitid(P_ALL, 0, &ci, WEXITED | WNOHANG) < 0 || ci.si_pid == 0) break;
      if (ci.si_pid == workload) {
        m.kind = ChildMsg::kExited;
        m.ts_ns = now_ns();
        m.code = ci.si_code;
        m.value = ci.si_status;
        send_msg(plan.status_fd, m);
        ::_exit(0);
      }
    }
  }
}

}  // namespace

[[noreturn]] void run_container_init(LaunchPlan& plan) {
  // Signals cgprof forwards during setup stay pending here (the inherited handler makes PID 1
  // accept them) until init_loop hands them to the workload.
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

  const ProcessSpec& s = *plan.spec;
  ChildMsg m{};
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

  // Signals for init: blocked (taken with sigwaitinfo) but with a handler, because PID 1 of a
  // namespace only receives signals it handles.
  sigset_t waitset;
  sigemptyset(&waitset);
  sigaddset(&waitset, SIGCHLD);
  struct sigaction sa {};
  sa.sa_handler = nothing;
  for (int sig : kForwarded) {
    sigaddset(&waitset, sig);
    ::sigaction(sig, &sa, nullptr);
  }
  ::sigaction(SIGCHLD, &sa, nullptr);
  ::sigprocmask(SIG_BLOCK, &waitset, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (notice) {
    m = ChildMsg{};
    m.notice = notice;
    send_msg(plan.report_fd, m);
  }
  long pid = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    child_fail_msg(&m, "fork", "workload", errno);
    die(plan.report_fd, m);
  }
  if (pid == 0) run_workload(plan);
  ::close(plan.report_fd);
  // init needs nothing but to signal and reap its children.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = data[0].permitted = 1u << CAP_KILL;
  ::syscall(SYS_capset, &hdr, data);
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  init_loop(plan, static_cast<pid_t>(pid), waitset);
}

}  // namespace cgprof::sandbox
