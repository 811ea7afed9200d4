// The default seccomp policy: everything is allowed except the syscalls below, which fail with
// EPERM as under docker's default profile. One table, grouped by the reason for refusing.
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {

const std::vector<RefusedSyscallGroup>& refused_syscall_groups() {
  static const std::vector<RefusedSyscallGroup> groups = {
      {"kernel modules and kexec replace or extend the running (shared) kernel",
       {"init_module", "finit_module", "delete_module", "create_module", "query_module",
        "get_kernel_syms", "kexec_load", "kexec_file_load"}},
      {"the kernel keyring is not namespaced: keys would be shared with the host",
       {"keyctl", "add_key", "request_key"}},
      {"eBPF, perf and cross-process memory access observe or alter the kernel and other "
       "processes",
       {"bpf", "perf_event_open", "lookup_dcookie", "process_vm_readv", "process_vm_writev",
        "kcmp"}},
      {"userfaultfd is the usual tool to make kernel races exploitable", {"userfaultfd"}},
      {"file handles bypass the mount namespace (the 'shocker' escape)",
       {"open_by_handle_at", "name_to_handle_at"}},
      {"machine-wide state: reboot, swap, process accounting, quotas, legacy interfaces",
       {"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "nfsservctl", "sysfs",
        "_sysctl", "ustat", "uselib", "vhangup", "syslog"}},
      {"mounts and namespaces: the sandbox's own file system view and namespaces stay as set up",
       {"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
        "open_tree", "move_mount", "mount_setattr", "unshare", "setns"}},
      {"the clocks are shared with the host",
       {"settimeofday", "stime", "clock_settime", "clock_adjtime"}},
      {"NUMA memory policy acts on host memory placement",
       {"mbind", "set_mempolicy", "get_mempolicy", "move_pages", "migrate_pages"}},
      {"raw I/O port access and legacy CPU modes", {"iopl", "ioperm", "vm86", "vm86old"}},
      {"io_uring performs its operations outside this filter's reach",
       {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
  };
  return groups;
}

// clone() with a namespace flag is refused like unshare (its flags are in a register we can
// inspect). clone3 passes them in memory a filter cannot read, so it fails with ENOSYS and libc
// falls back to clone(), exactly as under docker.
static constexpr std::uint64_t kNamespaceCloneFlags[] = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
                                                         CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
                                                         CLONE_NEWCGROUP};

SeccompPolicy default_seccomp_policy() {
  SeccompPolicy p;
  p.default_action = SeccompAction::kAllow;
  SeccompRule refused;
  refused.action = SeccompAction::kErrno;
  refused.errno_ret = EPERM;
  for (const auto& g : refused_syscall_groups())
    for (const char* s : g.syscalls) refused.names.emplace_back(s);
  p.rules.push_back(std::move(refused));
  for (std::uint64_t flag : kNamespaceCloneFlags) {
    SeccompRule r;
    r.names = {"clone"};
    r.errno_ret = EPERM;
    r.args.push_back({0, flag, flag, SeccompArg::Op::kMaskedEqual});
    p.rules.push_back(std::move(r));
  }
  SeccompRule clone3;
  clone3.names = {"clone3"};
  clone3.errno_ret = ENOSYS;
  p.rules.push_back(std::move(clone3));
  return p;
}

namespace {

std::uint32_t to_scmp(SeccompAction a, int err) {
  switch (a) {
    case SeccompAction::kAllow:
      return SCMP_ACT_ALLOW;
    case SeccompAction::kErrno:
      return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(err));
    case SeccompAction::kKillThread:
      return SCMP_ACT_KILL_THREAD;
    case SeccompAction::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::kTrap:
      return SCMP_ACT_TRAP;
    case SeccompAction::kLog:
      return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

scmp_compare to_scmp(SeccompArg::Op op) {
  switch (op) {
    case SeccompArg::Op::kNotEqual:
      return SCMP_CMP_NE;
    case SeccompArg::Op::kLess:
      return SCMP_CMP_LT;
    case SeccompArg::Op::kLessEqual:
      return SCMP_CMP_LE;
    case SeccompArg::Op::kEqual:
      return SCMP_CMP_EQ;
    case SeccompArg::Op::kGreaterEqual:
      return SCMP_CMP_GE;
    case SeccompArg::Op::kGreater:
      return SCMP_CMP_GT;
    case SeccompArg::Op::kMaskedEqual:
      return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

struct FilterCtx {
  scmp_filter_ctx ctx;
  explicit FilterCtx(std::uint32_t def) : ctx(seccomp_init(def)) {
    if (!ctx) throw Error("seccomp_init failed");
  }
  ~FilterCtx() { seccomp_release(ctx); }
};

}  // namespace

std::vector<std::uint8_t> compile_seccomp(const SeccompPolicy& policy) {
  if (policy.unconfined) return {};
  FilterCtx f(to_scmp(policy.default_action, policy.default_errno));
  // The filter is installed after no_new_privs by the workload itself; libseccomp must not
  // try to set NNP or sync threads on its own.
  seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_NNP, 0);
  std::uint32_t def = to_scmp(policy.default_action, policy.default_errno);
  for (const auto& rule : policy.rules) {
    std::uint32_t act = to_scmp(rule.action, rule.errno_ret);
    if (act == def && rule.args.empty()) continue;  // libseccomp refuses no-op rules
    std::vector<scmp_arg_cmp> cmps;
    for (const auto& a : rule.args) {
      scmp_arg_cmp c{};
      c.arg = a.index;
      c.op = to_scmp(a.op);
      c.datum_a = a.value;
      c.datum_b = a.value_two;
      cmps.push_back(c);
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture (docker skips too)
      int rc = seccomp_rule_add_array(f.ctx, act, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      if (rc == -EACCES || rc == -EEXIST) continue;  // same action as default / duplicate
      if (rc < 0)
        throw Error("seccomp rule for " + name + ": " + std::string(strerror(-rc)) +
                    " (check its action and args)");
    }
  }
  // libseccomp 2.5 can only export to an fd; a memfd keeps this in memory.
  UniqueFd mem(::memfd_create("cgprof-seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create", "seccomp");
  int rc = seccomp_export_bpf(f.ctx, mem.get());
  if (rc < 0) throw Error(std::string("seccomp_export_bpf: ") + strerror(-rc));
  std::string bytes = pread_all(mem.get());
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace cgprof::sandbox
