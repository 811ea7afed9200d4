#include <gtest/gtest.h>
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

TEST(DefaultPolicy, TableCoversDockersRefusals) {
  std::set<std::string> names;
  for (const auto& g : refused_syscall_groups()) {
    EXPECT_NE(std::string(g.reason), "");
    for (const char* s : g.syscalls) EXPECT_TRUE(names.insert(s).second) << "duplicate " << s;
  }
  for (const char* must :
       {"init_module", "kexec_load",      "keyctl",        "add_key",           "request_key",
        "bpf",         "perf_event_open", "userfaultfd",   "open_by_handle_at", "reboot",
        "swapon",      "swapoff",         "mount",         "umount2",           "pivot_root",
        "unshare",     "setns",           "clock_settime", "settimeofday",      "acct",
        "quotactl"})
    EXPECT_TRUE(names.count(must)) << must;
  SeccompPolicy p = default_seccomp_policy();
  EXPECT_EQ(p.default_action, SeccompAction::kAllow);
  EXPECT_FALSE(p.unconfined);
}

TEST(DefaultPolicy, CompilesToBpf) {
  auto bpf = compile_seccomp(default_seccomp_policy());
  ASSERT_FALSE(bpf.empty());
  EXPECT_EQ(bpf.size() % sizeof(sock_filter), 0u);
  SeccompPolicy un;
  un.unconfined = true;
  EXPECT_TRUE(compile_seccomp(un).empty());
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
