// cgprof's default seccomp policy: docker's default profile (moby profiles/seccomp/default.json
// as of docker 26.0: io_uring out since 25.0, AF_VSOCK refused since 25.0, the syscalls of
// kernels 5.17-6.7 in). An allowlist: what is not allowed below fails with EPERM. The groups a
// capability unlocks are allowed when the container holds it, as docker's includes.caps.
// Deliberate differences from docker, each stricter: ptrace and process_vm_* need CAP_SYS_PTRACE
// on every kernel (docker allows them from 4.8), clock_adjtime needs CAP_SYS_TIME and
// name_to_handle_at CAP_DAC_READ_SEARCH (docker allows both to everyone).
#include <linux/capability.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>

#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

constexpr CapSet cap(int c) {
  return CapSet{1} << c;
}

}  // namespace

// clang-format off: one group per reason, names packed
const std::vector<SyscallGroup>& allowed_syscall_groups() {
  static const std::vector<SyscallGroup> groups = {
      {"processes and threads: create, run, wait, exit (clone: see the namespace rule)",
       {"execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
        "set_tid_address", "set_robust_list", "get_robust_list", "futex", "futex_time64",
        "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "rseq", "membarrier",
        "restart_syscall", "pidfd_open", "pidfd_send_signal", "getpid", "getppid", "gettid",
        "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "process_mrelease"}},
      {"signals",
       {"kill", "tkill", "tgkill", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "sigaltstack", "sigprocmask", "sigreturn", "pause", "alarm",
        "signalfd", "signalfd4"}},
      {"credentials: act within the user namespace and the capabilities the container holds",
       {"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
        "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
        "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
        "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid",
        "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32", "capget", "capset"}},
      {"the process restricting itself: prctl, seccomp, landlock",
       {"prctl", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
        "landlock_restrict_self"}},
      {"memory of the process itself",
       {"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
        "mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "memfd_create",
        "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack"}},
      {"files and directories (paths resolve inside the container's mount namespace)",
       {"open", "openat", "openat2", "creat", "close", "close_range", "read", "readv", "pread64",
        "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2", "lseek",
        "_llseek", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64",
        "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat",
        "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir",
        "fchdir", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "link", "linkat", "symlink",
        "symlinkat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "chmod", "fchmod",
        "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown",
        "lchown32", "umask", "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
        "fadvise64", "fadvise64_64", "readahead", "fsync", "fdatasync", "sync", "syncfs",
        "sync_file_range", "flock", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
        "copy_file_range", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "cachestat",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark"}},
      {"extended attributes",
       {"getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
        "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr"}},
      {"file descriptors, pipes, polling and events",
       {"dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "pipe", "pipe2", "poll", "ppoll",
        "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_create",
        "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2"}},
      {"asynchronous I/O (aio; io_uring is refused, below)",
       {"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64"}},
      {"sockets in the container's network namespace (socket itself: AF_VSOCK refused)",
       {"socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname",
        "getpeername", "getsockopt", "setsockopt", "shutdown", "send", "sendto", "sendmsg",
        "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "socketcall"}},
      {"System V and POSIX IPC, namespaced with the container's IPC namespace",
       {"ipc", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open",
        "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_notify", "mq_getsetattr"}},
      {"clocks and timers, reading (adjtimex sets only with CAP_SYS_TIME, checked by the kernel)",
       {"time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
        "clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "adjtimex",
        "times", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64"}},
      {"scheduling, priorities and resource limits of the container's own processes",
       {"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
        "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
        "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
        "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "getcpu"}},
      {"system information",
       {"uname", "sysinfo", "getrandom"}},
      {"architecture-specific (each resolved only where it exists)",
       {"arch_prctl", "modify_ldt", "get_thread_area", "set_thread_area", "arm_fadvise64_64",
        "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls",
        "riscv_flush_icache"}},
  };
  return groups;
}

const std::vector<SyscallGroup>& refused_syscall_groups() {
  static const std::vector<SyscallGroup> groups = {
      {"the kernel keyring is not namespaced: keys would be shared with the host",
       {"keyctl", "add_key", "request_key"}},
      {"kexec replaces the running (shared) kernel; obsolete module calls",
       {"kexec_load", "kexec_file_load", "create_module", "query_module", "get_kernel_syms"}},
      {"kernel modules extend the running (shared) kernel",
       {"init_module", "finit_module", "delete_module"},
       cap(CAP_SYS_MODULE)},
      {"io_uring performs its operations outside this filter's reach (refused by docker >= 25)",
       {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
      {"userfaultfd is the usual tool to make kernel races exploitable", {"userfaultfd"}},
      {"eBPF observes and alters the kernel", {"bpf"}, cap(CAP_SYS_ADMIN) | cap(CAP_BPF)},
      {"perf events observe the kernel and other processes",
       {"perf_event_open"},
       cap(CAP_SYS_ADMIN) | cap(CAP_PERFMON)},
      {"tracing and reading or writing other processes' memory and file descriptors",
       {"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
        "pidfd_getfd"},
       cap(CAP_SYS_PTRACE)},
      {"file handles bypass the mount namespace (the 'shocker' escape)",
       {"open_by_handle_at", "name_to_handle_at"},
       cap(CAP_DAC_READ_SEARCH)},
      {"mounts, namespaces, host and domain names, quotas: the container's view stays as set up",
       {"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree",
        "move_mount", "mount_setattr", "unshare", "setns", "sethostname", "setdomainname",
        "quotactl", "quotactl_fd", "fanotify_init", "lookup_dcookie"},
       cap(CAP_SYS_ADMIN)},
      {"pivot_root is the runtime's, never the workload's (docker refuses it to everyone)",
       {"pivot_root"}},
      {"the kernel log is the host's", {"syslog"}, cap(CAP_SYS_ADMIN) | cap(CAP_SYSLOG)},
      {"chroot", {"chroot"}, cap(CAP_SYS_CHROOT)},
      {"reboot", {"reboot"}, cap(CAP_SYS_BOOT)},
      {"process accounting is machine-wide", {"acct"}, cap(CAP_SYS_PACCT)},
      {"the clocks are shared with the host",
       {"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
        "clock_adjtime64"},
       cap(CAP_SYS_TIME)},
      {"NUMA memory policy acts on host memory placement",
       {"mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node"},
       cap(CAP_SYS_NICE)},
      {"moving pages between NUMA nodes, of this or another process",
       {"move_pages", "migrate_pages"}},
      {"raw I/O port access", {"iopl", "ioperm"}, cap(CAP_SYS_RAWIO)},
      {"the terminal hangup of the host's session", {"vhangup"}, cap(CAP_SYS_TTY_CONFIG)},
      {"machine-wide or legacy: swap, NFS server, sysctl, legacy CPU modes",
       {"swapon", "swapoff", "nfsservctl", "sysfs", "_sysctl", "ustat", "uselib", "vm86",
        "vm86old"}},
  };
  return groups;
}
// clang-format on

// personality() values docker allows: PER_LINUX, PER_LINUX32 (0x8), UNAME26 (0x20000), both,
// and 0xffffffff (the query). ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC stay out.
static constexpr std::uint64_t kPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

// clone() with a namespace flag is refused like unshare (its flags are in a register the filter
// can read). clone3 passes them in memory a filter cannot read, so it fails with ENOSYS and libc
// falls back to clone(), exactly as under docker. CAP_SYS_ADMIN allows both as they are.
static constexpr std::uint64_t kNamespaceCloneFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                                      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                                      CLONE_NEWCGROUP;

std::vector<std::string> default_seccomp_arches() {
  // docker's archMap: a 64-bit kernel also runs the 32-bit (and x32) ABI of its architecture,
  // and the filter must judge those calls by their own numbers.
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      return {"x86_64", "x86", "x32"};
    case SCMP_ARCH_AARCH64:
      return {"aarch64", "arm"};
    default:
      return {};  // the native one only
  }
}

CapSet seccomp_policy_caps() {
  CapSet out = cap(CAP_SYS_ADMIN);
  for (const auto& g : refused_syscall_groups()) out |= g.unlocked_by;
  return out;
}

SeccompPolicy default_seccomp_policy(CapSet caps) {
  SeccompPolicy p;
  p.default_action = SeccompAction::kErrno;
  p.default_errno = EPERM;
  p.arches = default_seccomp_arches();
  SeccompRule allow;
  allow.action = SeccompAction::kAllow;
  // Refused names stay listed (with the default's own action, which compiles to nothing): they
  // tell compile_seccomp which syscalls the table knows, so only newer ones get ENOSYS.
  SeccompRule refused;
  refused.errno_ret = EPERM;
  for (const auto& g : allowed_syscall_groups())
    for (const char* s : g.syscalls) allow.names.emplace_back(s);
  for (const auto& g : refused_syscall_groups()) {
    auto& to = (caps & g.unlocked_by) ? allow.names : refused.names;
    for (const char* s : g.syscalls) to.emplace_back(s);
  }
  p.rules.push_back(std::move(allow));
  p.rules.push_back(std::move(refused));

  SeccompRule socket;
  socket.names = {"socket"};
  socket.action = SeccompAction::kAllow;
  socket.args.push_back({0, AF_VSOCK, 0, SeccompArg::Op::kNotEqual});
  p.rules.push_back(std::move(socket));

  for (std::uint64_t persona : kPersonalities) {
    SeccompRule r;
    r.names = {"personality"};
    r.action = SeccompAction::kAllow;
    r.args.push_back({0, persona, 0, SeccompArg::Op::kEqual});
    p.rules.push_back(std::move(r));
  }

  if (caps & cap(CAP_SYS_ADMIN)) {
    SeccompRule clone;
    clone.names = {"clone", "clone3"};
    clone.action = SeccompAction::kAllow;
    p.rules.push_back(std::move(clone));
  } else {
    SeccompRule clone;
    clone.names = {"clone"};
    clone.action = SeccompAction::kAllow;
    clone.args.push_back({0, kNamespaceCloneFlags, 0, SeccompArg::Op::kMaskedEqual});
    p.rules.push_back(std::move(clone));
    SeccompRule clone3;
    clone3.names = {"clone3"};
    clone3.errno_ret = ENOSYS;
    p.rules.push_back(std::move(clone3));
  }
  return p;
}

}  // namespace cgprof::sandbox
