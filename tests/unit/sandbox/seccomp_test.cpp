#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/filter.h>

#include <cerrno>
#include <set>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

std::string error_of(const std::string& json) {
  try {
    parse_seccomp_profile(json, "p.json", default_capabilities());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DefaultPolicy, OneTableAllowedAndRefusedNeverBoth) {
  std::set<std::string> names;
  for (const auto* table : {&allowed_syscall_groups(), &refused_syscall_groups()})
    for (const auto& g : *table) {
      EXPECT_NE(std::string(g.reason), "");
      for (const char* s : g.syscalls) EXPECT_TRUE(names.insert(s).second) << "twice: " << s;
    }
  for (const auto& g : allowed_syscall_groups()) EXPECT_EQ(g.unlocked_by, 0u) << g.reason;
  // Handled by argument rules, not by name.
  for (const char* special : {"socket", "personality", "clone", "clone3"})
    EXPECT_FALSE(names.count(special)) << special;
}

std::set<std::string> refused_names() {
  std::set<std::string> out;
  for (const auto& g : refused_syscall_groups()) out.insert(g.syscalls.begin(), g.syscalls.end());
  return out;
}

TEST(DefaultPolicy, RefusesWhatCgprofRefusedBefore) {
  auto refused = refused_names();
  for (const char* must : {"init_module",
                           "kexec_load",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "bpf",
                           "perf_event_open",
                           "userfaultfd",
                           "open_by_handle_at",
                           "name_to_handle_at",
                           "reboot",
                           "swapon",
                           "swapoff",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "unshare",
                           "setns",
                           "clock_settime",
                           "clock_adjtime",
                           "settimeofday",
                           "acct",
                           "quotactl",
                           "syslog",
                           "process_vm_readv",
                           "process_vm_writev",
                           "ptrace",
                           "pidfd_getfd",
                           "kcmp",
                           "mbind",
                           "move_pages",
                           "iopl",
                           "ioperm",
                           "io_uring_setup",
                           "io_uring_enter",
                           "fsopen",
                           "open_tree",
                           "move_mount"})
    EXPECT_TRUE(refused.count(must)) << must;
}

TEST(DefaultPolicy, DockersCapabilityGates) {
  auto gate = [](const char* name) -> CapSet {
    for (const auto& g : refused_syscall_groups())
      for (const char* s : g.syscalls)
        if (std::string(s) == name) return g.unlocked_by;
    return ~CapSet{0};
  };
  auto bit = [](int c) { return CapSet{1} << c; };
  EXPECT_EQ(gate("ptrace"), bit(CAP_SYS_PTRACE));
  EXPECT_EQ(gate("pidfd_getfd"), bit(CAP_SYS_PTRACE));
  EXPECT_EQ(gate("mount"), bit(CAP_SYS_ADMIN));
  EXPECT_EQ(gate("setns"), bit(CAP_SYS_ADMIN));
  EXPECT_EQ(gate("bpf"), bit(CAP_SYS_ADMIN) | bit(CAP_BPF));
  EXPECT_EQ(gate("perf_event_open"), bit(CAP_SYS_ADMIN) | bit(CAP_PERFMON));
  EXPECT_EQ(gate("init_module"), bit(CAP_SYS_MODULE));
  EXPECT_EQ(gate("reboot"), bit(CAP_SYS_BOOT));
  EXPECT_EQ(gate("clock_settime"), bit(CAP_SYS_TIME));
  EXPECT_EQ(gate("set_mempolicy"), bit(CAP_SYS_NICE));
  EXPECT_EQ(gate("syslog"), bit(CAP_SYS_ADMIN) | bit(CAP_SYSLOG));
  EXPECT_EQ(gate("iopl"), bit(CAP_SYS_RAWIO));
  EXPECT_EQ(gate("acct"), bit(CAP_SYS_PACCT));
  EXPECT_EQ(gate("chroot"), bit(CAP_SYS_CHROOT));
  for (const char* never : {"keyctl", "kexec_load", "userfaultfd", "io_uring_setup", "swapon"})
    EXPECT_EQ(gate(never), 0u) << never;
}

TEST(DefaultPolicy, AllowlistOnEveryAbiOfTheMachine) {
  SeccompPolicy p = default_seccomp_policy(default_capabilities());
  EXPECT_EQ(p.default_action, SeccompAction::kErrno);
  EXPECT_EQ(p.default_errno, EPERM);
  EXPECT_FALSE(p.unconfined);
#if defined(__x86_64__)
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86_64", "x86", "x32"}));
#elif defined(__aarch64__)
  EXPECT_EQ(p.arches, (std::vector<std::string>{"aarch64", "arm"}));
#endif
  // chroot: docker's default capabilities include CAP_SYS_CHROOT, so it is allowed.
  bool chroot_allowed = false;
  for (const auto& r : p.rules)
    for (const auto& n : r.names)
      chroot_allowed |= n == "chroot" && r.action == SeccompAction::kAllow;
  EXPECT_TRUE(chroot_allowed);
}

TEST(DefaultPolicy, CompilesToBpfWithinTheKernelsLimit) {
  for (CapSet caps : {CapSet{0}, default_capabilities(), ~CapSet{0}}) {
    auto bpf = compile_seccomp(default_seccomp_policy(caps));
    ASSERT_FALSE(bpf.empty());
    EXPECT_EQ(bpf.size() % sizeof(sock_filter), 0u);
    EXPECT_LE(bpf.size() / sizeof(sock_filter), 4096u);  // BPF_MAXINSNS
  }
}

TEST(Profile, ParsesDockerFormat) {
  SeccompPolicy p = parse_seccomp_profile(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "io"},
      {"name": "personality", "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
      {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
      {"names": ["chown"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_CHOWN"]}},
      {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS", "excludes": {"caps": ["CAP_KILL"]}},
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]})",
                                          "p.json", default_capabilities());
  EXPECT_EQ(p.default_action, SeccompAction::kErrno);
  EXPECT_EQ(p.default_errno, 38);
  // ptrace (cap not held) and kill (cap held, excluded) are dropped.
  ASSERT_EQ(p.rules.size(), 4u);
  EXPECT_EQ(p.rules[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(p.rules[1].args.size(), 1u);
  EXPECT_EQ(p.rules[1].args[0].value, 8u);
  EXPECT_EQ(p.rules[2].names[0], "chown");
  EXPECT_EQ(p.rules[3].errno_ret, 13);
  EXPECT_FALSE(compile_seccomp(p).empty());
}

TEST(Profile, IncludesCapsNeedsAllOfThemAsDocker) {
  SeccompPolicy p = parse_seccomp_profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_CHOWN", "CAP_KILL"]}},
      {"names": ["b"], "action": "SCMP_ACT_ALLOW",
       "includes": {"caps": ["CAP_CHOWN", "CAP_SYS_ADMIN"]}}]})",
                                          "p.json", default_capabilities());
  ASSERT_EQ(p.rules.size(), 1u);
  EXPECT_EQ(p.rules[0].names[0], "a");
}

TEST(Profile, ArchitecturesAsDocker) {
  // archMap: the native entry and its subArchitectures; other entries ignored.
  SeccompPolicy p = parse_seccomp_profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
      {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}]})",
                                          "p.json", 0);
  EXPECT_EQ(p.arches, default_seccomp_arches());
  EXPECT_FALSE(compile_seccomp(p).empty());
  p = parse_seccomp_profile(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_ARM"]})",
      "p.json", 0);
  EXPECT_EQ(p.arches, (std::vector<std::string>{"x86", "arm"}));
  EXPECT_NE(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]})")
                .find("architectures[0]: unknown architecture \"SCMP_ARCH_Z80\""),
            std::string::npos);
}

TEST(Profile, UnknownSyscallNamesAreSkippedAsDocker) {
  SeccompPolicy p = parse_seccomp_profile(
      R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_call","getpid"],"action":"SCMP_ACT_ERRNO"}]})",
      "p.json", 0);
  EXPECT_FALSE(compile_seccomp(p).empty());
}

TEST(Profile, ErrorsNameTheField) {
  EXPECT_NE(error_of("{").find("p.json: JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"syscalls": []})").find("defaultAction: missing"), std::string::npos);
  EXPECT_NE(error_of(R"({"defaultAction": "SCMP_ACT_NOTIFY"})").find("unsupported action"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"defaultAction": "SCMP_ACT_ALLOW", "bogus": 1})")
                .find("unknown field \"bogus\""),
            std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"op":"SCMP_CMP_EQ"}]}]})")
          .find("syscalls[0].args[0].index: must be 0..5"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"op":"SCMP_CMP_LIKE"}]}]})")
          .find("unknown op"),
      std::string::npos);
  EXPECT_NE(
      error_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ALLOW"}]})")
          .find("needs \"names\""),
      std::string::npos);
  EXPECT_NE(error_of(R"({"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]})")
                .find("flags"),
            std::string::npos);
}

}  // namespace
}  // namespace cgprof::sandbox
