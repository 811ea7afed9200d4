// cgprof-init: the container's PID 1, a tiny freestanding program (no libc, raw syscalls).
//
// cgprof sets the container up in a fork of itself (namespaces, mounts, pivot_root, user,
// capabilities, no_new_privs, seccomp), closes every fd but 0-2 and the two pipes below, and then
// execs this program from a sealed memfd. So PID 1 is an exec'd image that holds nothing of
// cgprof or its caller: not its memory, fds, environment or argv, and it runs under the same
// seccomp filter and capabilities as the workload (fewer, after the fork below).
//
//   argv: cgprof-init -- COMMAND [ARG...]      envp: the container's environment
//   fd 3: report pipe (cgprof reads kAboutToExec / kExecFailed), closed here right after fork
//   fd 4: status pipe (kExited), written once when the workload exits
//
// It makes itself non-dumpable first, so no process of the container can open /proc/1/fd/*,
// /proc/1/mem or ptrace it without CAP_SYS_PTRACE. It forks the workload (PID 2), forwards the
// signals cgprof passes on to it, reaps every orphan, and exits with the workload's status as
// docker's --init (tini) does: the code, or 128+N for signal N. cgprof takes the exit code from
// its own waitid on this process; the status pipe only adds which of "exited 137" and "killed by
// signal 9" it was, and cgprof ignores it when it disagrees with the exit code.
#include <asm/signal.h>
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/time_types.h>
#include <linux/wait.h>
#include <stddef.h>
#include <stdint.h>

#include "src/sandbox/child_msg.hpp"

using cgprof::sandbox::ChildMsg;
using cgprof::sandbox::kInitReportFd;
using cgprof::sandbox::kInitStatusFd;

extern "C" {
// The compiler may emit calls to these for struct copies and zeroing.
void* memset(void* d, int c, size_t n) {
  auto* p = static_cast<unsigned char*>(d);
  while (n--) *p++ = static_cast<unsigned char>(c);
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  auto* p = static_cast<unsigned char*>(d);
  auto* q = static_cast<const unsigned char*>(s);
  while (n--) *p++ = *q++;
  return d;
}
}

namespace {

// ---- raw system calls ----
#if defined(__x86_64__)
long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
#error "cgprof-init: add the system call convention of this architecture"
#endif

inline long arg(long v) { return v; }
inline long arg(const void* p) { return reinterpret_cast<long>(p); }

template <class... A>
long sys(long n, A... a) {
  long v[6] = {arg(a)...};
  return sys6(n, v[0], v[1], v[2], v[3], v[4], v[5]);
}

constexpr long kEINTR = 4, kENOENT = 2, kENOTDIR = 20, kEACCES = 13;
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

[[noreturn]] void exit_now(int code) {
  for (;;) sys(__NR_exit_group, code);
}

// The kernel's sigset is one 64-bit word on every architecture cgprof supports.
using KSigset = uint64_t;
constexpr KSigset bit(int sig) { return KSigset{1} << (sig - 1); }

// The kernel's struct siginfo, as far as SIGCHLD's fields go (64-bit layout).
struct KSiginfo {
  int32_t signo, err, code, pad;
  int32_t pid, uid, status;
  char rest[128 - 28];
};

// Every architecture cgprof supports has handler, flags, restorer, mask in this order; SIG_DFL
// with no flags is all zeros in any case.
struct KSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  KSigset mask;
};

int64_t now_ns() {
  __kernel_timespec ts{};
  sys(__NR_clock_gettime, 1 /*CLOCK_MONOTONIC*/, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void send(int fd, const ChildMsg& m) {
  while (sys(__NR_write, fd, &m, sizeof m) == -kEINTR) {
  }
}

size_t length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

bool starts_with(const char* s, const char* prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return false;
  return true;
}

bool has_slash(const char* s) {
  for (; *s; ++s)
    if (*s == '/') return true;
  return false;
}

// ---- the workload (PID 2): default signals, then execvp with the container's PATH ----
[[noreturn]] void exec_workload(char** argv, char** envp) {
  KSigaction dfl{};
  for (int sig = 1; sig <= 64; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) sys(__NR_rt_sigaction, sig, &dfl, 0, sizeof(KSigset));
  KSigset none = 0;
  sys(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none);

  const char* path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char** e = envp; *e; ++e)
    if (starts_with(*e, "PATH=")) path_env = *e + 5;

  ChildMsg m{};
  m.kind = ChildMsg::kAboutToExec;
  m.ts_ns = now_ns();
  send(kInitReportFd, m);
  const char* file = argv[0];
  long err = -kENOENT;
  if (has_slash(file)) {
    err = sys(__NR_execve, file, argv, envp);
  } else {
    bool saw_eacces = false;
    const char* p = path_env;
    const size_t flen = length(file);
    char path[4096];
    for (;;) {
      const char* end = p;
      while (*end && *end != ':') ++end;
      size_t len = static_cast<size_t>(end - p);
      const char* dir = p;
      if (len == 0) dir = ".", len = 1;  // an empty PATH entry means the cwd
      if (len + 1 + flen + 1 <= sizeof path) {
        memcpy(path, dir, len);
        path[len] = '/';
        memcpy(path + len + 1, file, flen + 1);
        err = sys(__NR_execve, path, argv, envp);
        if (err == -kEACCES) saw_eacces = true;
        if (err != -kENOENT && err != -kENOTDIR && err != -kEACCES) break;
      }
      if (!*end) {
        err = saw_eacces ? -kEACCES : -kENOENT;
        break;
      }
      p = end + 1;
    }
  }
  m = ChildMsg{};
  m.kind = ChildMsg::kExecFailed;
  m.value = static_cast<int32_t>(-err);
  m.code = err == -kENOENT ? 127 : 126;  // docker's codes
  send(kInitReportFd, m);
  exit_now(m.code);
}

// Keeps only CAP_KILL (to signal a workload that changed its uid), if the container had it.
void drop_own_capabilities() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (sys(__NR_capget, &hdr, data) < 0) return;
  const uint32_t keep = data[0].permitted & (1u << CAP_KILL);
  data[0] = {keep, keep, 0};
  data[1] = {0, 0, 0};
  sys(__NR_capset, &hdr, data);
}

[[noreturn]] void run(int argc, char** argv, char** envp) {
  // Before anything else: nothing in the container may open our /proc entries or trace us.
  sys(__NR_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  sys(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  sys(__NR_fcntl, kInitReportFd, 2 /*F_SETFD*/, 1 /*FD_CLOEXEC*/);
  sys(__NR_fcntl, kInitStatusFd, 2 /*F_SETFD*/, 1 /*FD_CLOEXEC*/);
  if (argc < 3 || !starts_with(argv[1], "--") || argv[1][2]) exit_now(125);
  char** command = argv + 2;

  // Signals stay blocked for good and are taken with rt_sigtimedwait. A blocked signal is
  // queued even for a namespace's init without a handler (the kernel only drops signals an init
  // would ignore), and cgprof's setup blocked the forwarded ones before exec, so none sent
  // during setup is lost.
  KSigset waitset = bit(SIGCHLD);
  for (int sig : kForwarded) waitset |= bit(sig);
  KSigset blocked = waitset | bit(SIGPIPE);
  sys(__NR_rt_sigprocmask, SIG_BLOCK, &blocked, 0, sizeof blocked);

  long workload = sys(__NR_clone, SIGCHLD, 0, 0, 0, 0);
  if (workload == 0) exec_workload(command, envp);
  if (workload < 0) {
    ChildMsg m{};
    m.kind = ChildMsg::kSetupFailed;
    m.code = 125;
    m.value = static_cast<int32_t>(-workload);
    const char text[] = "container init: fork the workload";
    memcpy(m.text, text, sizeof text);
    send(kInitReportFd, m);
    exit_now(125);
  }
  sys(__NR_close, kInitReportFd);
  drop_own_capabilities();

  for (;;) {
    KSiginfo si{};
    long sig = sys(__NR_rt_sigtimedwait, &waitset, &si, 0, sizeof(KSigset));
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      sys(__NR_kill, workload, sig);
      continue;
    }
    for (;;) {
      KSiginfo ci{};
      if (sys(__NR_waitid, P_ALL, 0, &ci, WEXITED | WNOHANG, 0) < 0 || ci.pid == 0) break;
      if (ci.pid != workload) continue;  // an orphan, reaped
      ChildMsg m{};
      m.kind = ChildMsg::kExited;
      m.code = ci.code;
      m.value = ci.status;
      send(kInitStatusFd, m);
      exit_now(ci.code == 1 /*CLD_EXITED*/ ? (ci.status & 0xff) : 128 + (ci.status & 0x7f));
    }
  }
}

}  // namespace

extern "C" [[noreturn]] void cgprof_init_start(long* sp) {
  int argc = static_cast<int>(sp[0]);
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + argc + 1;
  run(argc, argv, envp);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n  call cgprof_init_start\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n"
        "  bl cgprof_init_start\n  brk #0\n");
#endif
