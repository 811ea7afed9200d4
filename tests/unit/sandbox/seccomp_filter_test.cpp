// The default filter, loaded for real in a forked child (no_new_privs lets any user do that),
// answering the syscalls the container init and workloads make.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>

#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

constexpr int kAllowed = 0;  // what under() reports for a call that succeeded

// Runs `call` in a child under `bpf`; returns the errno it failed with, or kAllowed.
int under(const std::vector<std::uint8_t>& bpf, const std::function<long()>& call) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(bpf.size() / sizeof(sock_filter));
    prog.filter = reinterpret_cast<sock_filter*>(const_cast<std::uint8_t*>(bpf.data()));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(200);
    if (!bpf.empty() && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(201);
    errno = 0;
    long rc = call();
    _exit(rc >= 0 ? kAllowed : (errno > 0 && errno < 200 ? errno : 202));
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -2;
  return WEXITSTATUS(status);
}

const std::vector<std::uint8_t>& default_filter() {
  static const auto bpf = compile_seccomp(default_seccomp_policy(default_capabilities()));
  return bpf;
}

std::vector<std::uint8_t> filter_with(int extra_cap) {
  return compile_seccomp(default_seccomp_policy(default_capabilities() | (CapSet{1} << extra_cap)));
}

long sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  return syscall(nr, a, b, c, d, e, f);
}

TEST(DefaultFilter, SyscallsOffTheListGetEperm) {
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_keyctl, -1); }), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_add_key, 0); }), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_userfaultfd, 0); }), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_io_uring_setup, 0, 0); }), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_unshare, CLONE_NEWUSER); }), EPERM);
  EXPECT_NE(under({}, [] { return sys(SYS_keyctl, -1); }), EPERM) << "unfiltered";
#ifdef SYS_tuxcall
  // Never implemented on x86_64: unfiltered ENOSYS, filtered EPERM (below the newest known).
  EXPECT_EQ(under({}, [] { return sys(SYS_tuxcall); }), ENOSYS);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_tuxcall); }), EPERM);
#endif
}

TEST(DefaultFilter, SyscallsNewerThanTheTableGetEnosys) {
  // runc's stub: a libc probing a newer syscall must see ENOSYS and fall back, never EPERM.
  EXPECT_EQ(under(default_filter(), [] { return sys(1000); }), ENOSYS);
  // fchmodat2 (Linux 6.6, 452 on every ABI): allowed if libseccomp knows it, else ENOSYS.
  int fchmodat2 = under(default_filter(), [] { return sys(452, -1, 0, 0, 0); });
  EXPECT_NE(fchmodat2, EPERM);
  EXPECT_NE(fchmodat2, kAllowed);  // fd -1 cannot succeed
}

TEST(DefaultFilter, VsockRefusedOtherSocketFamiliesAllowed) {
  EXPECT_EQ(under(default_filter(), [] { return socket(AF_VSOCK, SOCK_STREAM, 0); }), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return socket(AF_UNIX, SOCK_STREAM, 0); }), kAllowed);
  EXPECT_EQ(under(default_filter(), [] { return socket(AF_INET, SOCK_DGRAM, 0); }), kAllowed);
  EXPECT_EQ(under(default_filter(),
                  [] {
                    int sv[2];
                    return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
                  }),
            kAllowed);
}

TEST(DefaultFilter, PersonalityOnlyWithDockersValues) {
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_personality, 0x8); }), kAllowed);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_personality, 0xffffffff); }), kAllowed);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_personality, 0x400000); }), EPERM)
      << "READ_IMPLIES_EXEC";
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_personality, 0x0040000); }), EPERM)
      << "ADDR_NO_RANDOMIZE";
}

TEST(DefaultFilter, PtraceFamilyOnlyWithCapSysPtrace) {
  auto with_ptrace = filter_with(CAP_SYS_PTRACE);
  // Arguments the kernel rejects on its own: allowed, the answer is the kernel's (not EPERM).
  auto ptrace = [] { return sys(SYS_ptrace, 0x7fff /* no such request */, 0, 0, 0); };
  auto vm_readv = [] { return sys(SYS_process_vm_readv, getpid(), 0, 0, 0, 0, 1 /* flags */); };
  auto vm_writev = [] { return sys(SYS_process_vm_writev, getpid(), 0, 0, 0, 0, 1); };
  auto getfd = [] { return sys(SYS_pidfd_getfd, -1, 0, 0); };
  auto kcmp = [] { return sys(SYS_kcmp, getpid(), getpid(), 99 /* no such type */, 0, 0); };
  for (const std::function<long()>& call :
       std::vector<std::function<long()>>{ptrace, vm_readv, vm_writev, getfd, kcmp}) {
    EXPECT_EQ(under(default_filter(), call), EPERM);
    int with_cap = under(with_ptrace, call);
    EXPECT_NE(with_cap, EPERM);
    EXPECT_GT(with_cap, 0);
  }
  EXPECT_EQ(under(with_ptrace, vm_readv), EINVAL);
  EXPECT_EQ(under(with_ptrace, getfd), EBADF);
}

TEST(DefaultFilter, CapabilitiesUnlockTheirGroupsAsDocker) {
  auto unshare_nothing = [] { return sys(SYS_unshare, 0); };
  auto clone_newuser = [] {
    long rc = sys(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0);
    return rc;
  };
  EXPECT_EQ(under(default_filter(), unshare_nothing), EPERM);
  EXPECT_EQ(under(default_filter(), clone_newuser), EPERM);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_clone3, 0, 0); }), ENOSYS);
  auto admin = filter_with(CAP_SYS_ADMIN);
  EXPECT_EQ(under(admin, unshare_nothing), kAllowed);
  EXPECT_EQ(under(admin, [] { return sys(SYS_clone3, 0, 0); }), EINVAL);
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_bpf, -1, 0, 0); }), EPERM);
  if (geteuid() == 0) {  // an unprivileged caller may get the kernel's own EPERM
    EXPECT_EQ(under(filter_with(CAP_BPF), [] { return sys(SYS_bpf, -1, 0, 0); }), EINVAL);
  }
  EXPECT_EQ(under(default_filter(), [] { return sys(SYS_get_mempolicy, 0, 0, 0, 0, 0); }), EPERM);
  EXPECT_EQ(under(filter_with(CAP_SYS_NICE), [] { return sys(SYS_get_mempolicy, 0, 0, 0, 0, 0); }),
            kAllowed);
}

TEST(DefaultFilter, WhatTheContainerInitNeedsStaysAllowed) {
  const auto& f = default_filter();
  EXPECT_EQ(
      under(f,
            [] { return sys(SYS_execveat, -1, reinterpret_cast<long>(""), 0, 0, AT_EMPTY_PATH); }),
      EBADF);
  EXPECT_EQ(
      under(f, [] { return sys(SYS_execve, reinterpret_cast<long>("/nonexistent/x"), 0, 0); }),
      ENOENT);
  EXPECT_EQ(under(f, [] { return sys(SYS_close_range, 1000, ~0U, 0); }), kAllowed);
  EXPECT_EQ(under(f, [] { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }), kAllowed);
  EXPECT_EQ(under(f,
                  [] {
                    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
                    __user_cap_data_struct d[2]{};
                    if (sys(SYS_capget, reinterpret_cast<long>(&h), reinterpret_cast<long>(d)))
                      return -1L;
                    return sys(SYS_capset, reinterpret_cast<long>(&h), reinterpret_cast<long>(d));
                  }),
            kAllowed);
  EXPECT_EQ(under(f,
                  [] {
                    pid_t c = fork();  // clone without namespace flags
                    if (c == 0) _exit(0);
                    int st;
                    return c < 0 ? -1L : static_cast<long>(waitpid(c, &st, 0));
                  }),
            kAllowed);
  EXPECT_EQ(under(f,
                  [] {
                    pid_t c = vfork();
                    if (c == 0) _exit(0);
                    siginfo_t si;
                    return c < 0 ? -1L : static_cast<long>(waitid(P_PID, c, &si, WEXITED));
                  }),
            kAllowed);
  EXPECT_EQ(under(f,
                  [] {
                    long fd = sys(SYS_pidfd_open, getpid(), 0);
                    if (fd < 0) return fd;
                    return sys(SYS_pidfd_send_signal, fd, 0, 0, 0);
                  }),
            kAllowed);
  EXPECT_EQ(under(f, [] { return sys(SYS_memfd_create, reinterpret_cast<long>("x"), 0); }),
            kAllowed);
  EXPECT_EQ(under(f, [] { return sys(SYS_fcntl, 0, F_GETFD); }), kAllowed);
  EXPECT_EQ(under(f, [] { return sys(SYS_tgkill, getpid(), gettid(), 0); }), kAllowed);
  EXPECT_EQ(under(f, [] { return kill(getpid(), 0); }), kAllowed);
  EXPECT_EQ(under(f,
                  [] {
                    sigset_t s;
                    sigemptyset(&s);
                    sigaddset(&s, SIGUSR1);
                    if (sigprocmask(SIG_BLOCK, &s, nullptr)) return -1L;
                    timespec zero{};
                    return sigtimedwait(&s, nullptr, &zero) < 0 && errno == EAGAIN ? 0L : -1L;
                  }),
            kAllowed);
}

TEST(DefaultFilter, UnconfinedCompilesToNothing) {
  SeccompPolicy un;
  un.unconfined = true;
  EXPECT_TRUE(compile_seccomp(un).empty());
  ProcessSpec spec;
  spec.seccomp = un;
  EXPECT_TRUE(compile_seccomp(spec).empty());
  spec.seccomp.reset();  // the default, for the spec's capabilities
  EXPECT_EQ(compile_seccomp(spec), default_filter());
}

TEST(DefaultFilter, PrecompiledAtBuildTimeAsCompiledNow) {
  const CapSet ptrace = CapSet{1} << CAP_SYS_PTRACE;
  for (CapSet caps :
       {default_capabilities(), CapSet{0}, default_capabilities() | ptrace, ~CapSet{0}}) {
    std::span<const std::uint8_t> pre = precompiled_default_seccomp(caps);
    ASSERT_FALSE(pre.empty()) << std::hex << caps;
    EXPECT_EQ(std::vector<std::uint8_t>(pre.begin(), pre.end()),
              compile_seccomp(default_seccomp_policy(caps)));
  }
  // Capabilities the policy does not look at share a filter; others compile at run time.
  EXPECT_FALSE(precompiled_default_seccomp(CapSet{1} << CAP_NET_ADMIN).empty());
  EXPECT_TRUE(precompiled_default_seccomp(CapSet{1} << CAP_SYS_TIME).empty());
  ProcessSpec spec;
  spec.capabilities = default_capabilities() | (CapSet{1} << CAP_SYS_TIME);
  EXPECT_EQ(compile_seccomp(spec), compile_seccomp(default_seccomp_policy(spec.capabilities)));
}

}  // namespace
}  // namespace cgprof::sandbox
