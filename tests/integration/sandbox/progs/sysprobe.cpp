// Tries each syscall the sandbox refuses, with arguments that are harmless either way, and prints
// "NAME ERRNO-NAME" per line. Under the filter every line says EPERM; unconfined, many say
// something else (EINVAL, EFAULT, EBADF, ...) which proves the EPERM came from the filter.
#include <errno.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

struct Probe {
  const char* name;
  long nr;
  long a0, a1, a2, a3, a4;
};

int main() {
  const long bad = -1;
  const Probe probes[] = {
      {"init_module", SYS_init_module, 0, 0, 0, 0, 0},
      {"finit_module", SYS_finit_module, bad, 0, 0, 0, 0},
      {"delete_module", SYS_delete_module, 0, 0, 0, 0, 0},
      {"kexec_load", SYS_kexec_load, 0, 0, 0, bad, 0},
      {"kexec_file_load", SYS_kexec_file_load, bad, bad, 0, 0, bad},
      {"keyctl", SYS_keyctl, bad, 0, 0, 0, 0},
      {"add_key", SYS_add_key, 0, 0, 0, 0, 0},
      {"request_key", SYS_request_key, 0, 0, 0, 0, 0},
      {"bpf", SYS_bpf, bad, 0, 0, 0, 0},
      {"perf_event_open", SYS_perf_event_open, 0, 0, bad, bad, 0},
      {
          "process_vm_readv",
          SYS_process_vm_readv,
          0,
          0,
          0,
          0,
          0,
      },
      {"userfaultfd", SYS_userfaultfd, bad, 0, 0, 0, 0},
      {"open_by_handle_at", SYS_open_by_handle_at, bad, 0, 0, 0, 0},
      {"name_to_handle_at", SYS_name_to_handle_at, bad, 0, 0, 0, 0},
      {"reboot", SYS_reboot, 0, 0, 0, 0, 0},
      {"swapon", SYS_swapon, 0, 0, 0, 0, 0},
      {"swapoff", SYS_swapoff, 0, 0, 0, 0, 0},
      {"acct", SYS_acct, 0, 0, 0, 0, 0},
      {"quotactl", SYS_quotactl, 0, 0, 0, 0, 0},
      {"mount", SYS_mount, 0, 0, 0, 0, 0},
      {"umount2", SYS_umount2, 0, 0, 0, 0, 0},
      {"pivot_root", SYS_pivot_root, 0, 0, 0, 0, 0},
      {"unshare", SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, 0},
      {"setns", SYS_setns, bad, 0, 0, 0, 0},
      {"clone(CLONE_NEWUSER)", SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0},
      {"settimeofday", SYS_settimeofday, 0, 0, 0, 0, 0},
      {"clock_settime", SYS_clock_settime, bad, 0, 0, 0, 0},
      {"clock_adjtime", SYS_clock_adjtime, bad, 0, 0, 0, 0},
      {
          "mbind",
          SYS_mbind,
          0,
          0,
          bad,
          0,
          0,
      },
      {"set_mempolicy", SYS_set_mempolicy, bad, 0, 0, 0, 0},
      {"iopl", SYS_iopl, 99, 0, 0, 0, 0},
      {"ioperm", SYS_ioperm, 0, 0, 0, 0, 0},
      {"syslog", SYS_syslog, bad, 0, 0, 0, 0},
      {"io_uring_setup", SYS_io_uring_setup, 0, 0, 0, 0, 0},
      {"fsopen", SYS_fsopen, 0, 0, 0, 0, 0},
      {"open_tree", SYS_open_tree, bad, 0, 0, 0, 0},
      {"move_mount", SYS_move_mount, bad, 0, bad, 0, 0},
  };
  for (const Probe& p : probes) {
    errno = 0;
    long rc = syscall(p.nr, p.a0, p.a1, p.a2, p.a3, p.a4);
    const char* e = rc >= 0 ? "OK" : strerrorname_np(errno);
    if (rc == 0 && p.nr == SYS_clone) _exit(0);  // unconfined: the new child leaves at once
    if (rc > 0 && p.nr == SYS_clone) waitpid(static_cast<pid_t>(rc), nullptr, 0);
    printf("%s %s\n", p.name, e ? e : "?");
  }
  return 0;
}
