// -e, --env-file, -w, -u and seccomp profiles honoured inside the container.
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

namespace sandbox_test {
namespace {

class Options : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

TEST_P(Options, EnvAndEnvFile) {
  std::string dir = temp_dir();
  {
    std::ofstream f(dir + "/env");
    f << "# comment\n\nFROM_FILE=one\nOVERRIDDEN=file\nPASSED\n";
  }
  chmod((dir + "/env").c_str(), 0644);
  RunResult r =
      run(GetParam(),
          {"--env-file", dir + "/env", "-e", "OVERRIDDEN=flag", "-e", "A=b=c", "-e", "PASSED2",
           "-e", "UNSET_ON_HOST", "sh", "-c",
           "echo $FROM_FILE $OVERRIDDEN $A $PASSED $PASSED2 ${UNSET_ON_HOST-unset} $HOME $PATH"},
          {"PASSED=p1", "PASSED2=p2"});
  EXPECT_EQ(r.out,
            "one flag b=c p1 p2 unset /root "
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
      << r.err;
  // The host's environment does not leak in.
  r = run(GetParam(), {"sh", "-c", "echo ${SECRET_HOST_VAR-clean}"}, {"SECRET_HOST_VAR=leak"});
  EXPECT_EQ(r.out, "clean\n");
  std::system(("rm -rf " + dir).c_str());
}

TEST_P(Options, WorkdirIsCreatedAndUsed) {
  RunResult r = run(GetParam(), {"-w", "/srv/app/work", "pwd"});
  EXPECT_EQ(r.out, "/srv/app/work\n") << r.err;
  EXPECT_EQ(run(GetParam(), {"-w", "relative", "pwd"}).code, 125);
}

TEST_P(Options, UserByNumberAndByNameFromTheRootfs) {
  if (GetParam() == Mode::kRootlessSingle) {
    // Only uid 0 exists in a single-id namespace: a clear 125.
    RunResult r = run(GetParam(), {"-u", "user", "id"});
    EXPECT_EQ(r.code, 125);
    EXPECT_NE(r.err.find("/etc/subuid"), std::string::npos) << r.err;
    return;
  }
  RunResult r = run(GetParam(), {"-u", "user", "sh", "-c", "id; echo $HOME"});
  EXPECT_EQ(r.out,
            "uid=1000(user) gid=1000(user) groups=44(video),100(users),1000(user)\n/home/user\n")
      << r.err;
  r = run(GetParam(), {"-u", "1000:44", "id", "-u"});
  EXPECT_EQ(r.out, "1000\n");
  r = run(GetParam(), {"-u", "daemon:users", "id"});
  EXPECT_EQ(r.out, "uid=1(daemon) gid=100(users) groups=100(users)\n") << r.err;
  r = run(GetParam(), {"-u", "4242", "id"});
  EXPECT_EQ(r.out, "uid=4242 gid=0(root) groups=0(root)\n") << r.err;
  r = run(GetParam(), {"-u", "user", "touch", "/etc/owned-by-root"});
  EXPECT_NE(r.code, 0) << "a non-root user cannot write root's /etc";
}

TEST_P(Options, SeccompProfileFromDockerJson) {
  std::string dir = temp_dir();
  {
    std::ofstream f(dir + "/profile.json");
    f << R"({"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                          {"names": ["getpid"], "action": "SCMP_ACT_ERRNO",
                           "excludes": {"caps": ["CAP_CHOWN"]}}]})";
  }
  chmod((dir + "/profile.json").c_str(), 0644);
  RunResult r = run(GetParam(), {"--security-opt", "seccomp=" + dir + "/profile.json", "sh", "-c",
                                 "mkdir /tmp/x 2>&1; echo done"});
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos) << r.out << r.err;
  {
    std::ofstream f(dir + "/bad.json");
    f << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_NOTIFY"}]})";
  }
  chmod((dir + "/bad.json").c_str(), 0644);
  r = run(GetParam(), {"--security-opt", "seccomp=" + dir + "/bad.json", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("syscalls[0].action"), std::string::npos) << r.err;
  std::system(("rm -rf " + dir).c_str());
}

INSTANTIATE_TEST_SUITE_P(Modes, Options,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
