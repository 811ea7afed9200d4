// Calls that the default seccomp policy judges by argument or by capability, with arguments that
// are harmless either way, and prints "NAME ERRNO-NAME" (or "NAME OK") per line. Where the filter
// lets a call through, the kernel's own answer (EBADF, EINVAL, ESRCH, ...) shows it did.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct Probe {
  const char* name;
  long nr;
  long a0, a1, a2, a3, a4, a5;
};

int main() {
  const long self = getpid();
  const long empty = reinterpret_cast<long>("");
  const Probe probes[] = {
      {"socket(AF_VSOCK)", SYS_socket, AF_VSOCK, SOCK_STREAM, 0, 0, 0, 0},
      {"socket(AF_UNIX)", SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0},
      {"socket(AF_INET)", SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0, 0},
      {"personality(PER_LINUX32)", SYS_personality, 0x8, 0, 0, 0, 0, 0},
      {"personality(PER_LINUX)", SYS_personality, 0x0, 0, 0, 0, 0, 0},
      {"personality(query)", SYS_personality, 0xffffffff, 0, 0, 0, 0, 0},
      {"personality(READ_IMPLIES_EXEC)", SYS_personality, 0x400000, 0, 0, 0, 0, 0},
      {"personality(ADDR_NO_RANDOMIZE)", SYS_personality, 0x40000, 0, 0, 0, 0, 0},
      {"ptrace", SYS_ptrace, 0x7fff /* no such request */, 1, 0, 0, 0, 0},
      {"pidfd_getfd", SYS_pidfd_getfd, -1, 0, 0, 0, 0, 0},
      {"process_vm_readv", SYS_process_vm_readv, self, 0, 0, 0, 0, 1 /* bad flags */},
      {"process_vm_writev", SYS_process_vm_writev, self, 0, 0, 0, 0, 1},
      {"kcmp", SYS_kcmp, self, self, 99 /* no such type */, 0, 0, 0},
      {"keyctl", SYS_keyctl, -1, 0, 0, 0, 0, 0},
      {"unshare(0)", SYS_unshare, 0, 0, 0, 0, 0, 0},
      {"clone3", SYS_clone3, 0, 0, 0, 0, 0, 0},
      {"execveat(-1)", SYS_execveat, -1, empty, 0, 0, AT_EMPTY_PATH, 0},
      {"syscall(1000)", 1000, 0, 0, 0, 0, 0, 0},
  };
  for (const Probe& p : probes) {
    errno = 0;
    long rc = syscall(p.nr, p.a0, p.a1, p.a2, p.a3, p.a4, p.a5);
    const char* e = rc >= 0 ? "OK" : strerrorname_np(errno);
    if (p.nr == SYS_socket && rc >= 0) close(static_cast<int>(rc));
    printf("%s %s\n", p.name, e ? e : "?");
  }
  return 0;
}
