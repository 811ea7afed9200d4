// The default seccomp policy (docker's profile) judging calls from inside the container, with
// the default capabilities and with the ones docker ties the refused calls to.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "harness.hpp"

namespace sandbox_test {
namespace {

using Answers = std::map<std::string, std::string>;

Answers answers(const RunResult& r) {
  Answers out;
  std::istringstream in(r.out);
  std::string name, err;
  while (in >> name >> err) out[name] = err;
  return out;
}

// What every mode sees with docker's default capabilities.
const Answers kDefault = {
    {"socket(AF_VSOCK)", "EPERM"},
    {"socket(AF_UNIX)", "OK"},
    {"socket(AF_INET)", "OK"},
    {"personality(PER_LINUX32)", "OK"},
    {"personality(PER_LINUX)", "OK"},
    {"personality(query)", "OK"},
    {"personality(READ_IMPLIES_EXEC)", "EPERM"},
    {"personality(ADDR_NO_RANDOMIZE)", "EPERM"},
    {"ptrace", "EPERM"},
    {"pidfd_getfd", "EPERM"},
    {"process_vm_readv", "EPERM"},
    {"process_vm_writev", "EPERM"},
    {"kcmp", "EPERM"},
    {"keyctl", "EPERM"},
    {"unshare(0)", "EPERM"},
    {"clone3", "ENOSYS"},  // libc falls back to clone, which the filter can judge
    {"execveat(-1)", "EBADF"},
    {"syscall(1000)", "ENOSYS"},  // newer than the table: ENOSYS, as runc
};

class Seccomp : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

TEST_P(Seccomp, DefaultPolicyJudgesByArgumentAndCapability) {
  RunResult r = run(GetParam(), {"seccompprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(answers(r), kDefault) << r.out;
}

TEST_P(Seccomp, CapSysPtraceUnlocksThePtraceFamilyOnly) {
  RunResult r = run(GetParam(), {"--cap-add", "SYS_PTRACE", "seccompprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  Answers want = kDefault;
  want["ptrace"] = "ESRCH";  // the kernel's answers: the filter let them through
  want["pidfd_getfd"] = "EBADF";
  want["process_vm_readv"] = "EINVAL";
  want["process_vm_writev"] = "EINVAL";
  want["kcmp"] = "EINVAL";
  EXPECT_EQ(answers(r), want) << r.out;
}

TEST_P(Seccomp, CapSysAdminUnlocksNamespacesAndClone3) {
  RunResult r = run(GetParam(), {"--cap-add", "SYS_ADMIN", "seccompprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  Answers want = kDefault;
  want["unshare(0)"] = "OK";
  want["clone3"] = "EINVAL";  // the kernel's answer to a NULL clone_args
  EXPECT_EQ(answers(r), want) << r.out;
}

TEST_P(Seccomp, DockerProfileFileGetsTheContainersCapabilities) {
  // A profile in docker's format whose includes.caps entry needs CAP_SYS_PTRACE.
  std::string dir = temp_dir();
  std::string profile = dir + "/p.json";
  {
    std::ofstream f(profile);
    f << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["kcmp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
       "excludes": {"caps": ["CAP_SYS_PTRACE"]}}]})";
  }
  chmod(profile.c_str(), 0644);
  RunResult r = run(GetParam(), {"--security-opt", "seccomp=" + profile, "seccompprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(answers(r)["kcmp"], "EPERM") << r.out;
  EXPECT_EQ(answers(r)["ptrace"], "ESRCH") << r.out;  // the profile allows the rest
  r = run(GetParam(),
          {"--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=" + profile, "seccompprobe"});
  EXPECT_EQ(answers(r)["kcmp"], "EINVAL") << r.out;
  std::system(("rm -rf " + dir).c_str());
}

INSTANTIATE_TEST_SUITE_P(Modes, Seccomp,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
