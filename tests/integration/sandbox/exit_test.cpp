// docker's exit codes, signal forwarding, and the init reaping orphans.
#include <signal.h>

#include <algorithm>

#include "harness.hpp"

namespace sandbox_test {
namespace {

class Exit : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

TEST_P(Exit, WorkloadStatusIsPassedThrough) {
  EXPECT_EQ(run(GetParam(), {"true"}).code, 0);
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "exit 3"}).code, 3);
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "exit 255"}).code, 255);
}

TEST_P(Exit, KilledBySignalIs128PlusN) {
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "kill -9 $$"}).code, 137);
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "kill -SEGV $$"}).code, 139);
}

TEST_P(Exit, NotExecutableIs126WithOneLine) {
  RunResult r = run(GetParam(), {"/etc/passwd"});
  EXPECT_EQ(r.code, 126);
  EXPECT_EQ(r.err, "cgprof: exec \"/etc/passwd\" in rootfs " + rootfs(GetParam()) +
                       ": Permission denied\n");
  EXPECT_EQ(run(GetParam(), {"/etc"}).code, 126);
}

TEST_P(Exit, NotFoundIs127WithOneLine) {
  RunResult r = run(GetParam(), {"no-such-command"});
  EXPECT_EQ(r.code, 127);
  EXPECT_NE(r.err.find("executable file not found in $PATH"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_EQ(run(GetParam(), {"/bin/no-such-command"}).code, 127);
  // Not found inside, even though the host has it.
  EXPECT_EQ(run(GetParam(), {"/usr/bin/env"}).code, 127);
}

TEST_P(Exit, CgprofFailuresAre125) {
  RunResult r = run_raw(GetParam(), {"run", "--no-cgroup", "--rootfs", "/nonexistent-rootfs", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("/nonexistent-rootfs"), std::string::npos);
  EXPECT_EQ(run(GetParam(), {"--no-such-option", "true"}).code, 125);
  EXPECT_EQ(run(GetParam(), {"--net", "bogus", "true"}).code, 125);
  r = run(GetParam(), {"-v", "/nonexistent-host-dir:/x", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("/nonexistent-host-dir"), std::string::npos);
  EXPECT_EQ(run(GetParam(), {"-v", "relative-target", "true"}).code, 125);
  EXPECT_EQ(run(GetParam(), {"-u", "nosuchuser", "true"}).code, 125);
  EXPECT_EQ(run_raw(GetParam(), {"run", "--no-cgroup", "--rootfs", rootfs(GetParam())}).code, 125);
}

TEST_P(Exit, ForwardedSignalsReachTheWorkload) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    Running r(GetParam(), {"run", "--no-cgroup", "--rootfs", rootfs(GetParam()), "sigwait"});
    ASSERT_TRUE(r.wait_for_line("ready")) << "signal " << sig;
    kill(r.pid(), sig);
    RunResult res = r.finish();
    EXPECT_EQ(res.code, 0) << res.err;
    EXPECT_EQ(res.out, "ready\ngot " + std::to_string(sig) + "\n");
  }
}

TEST_P(Exit, SigtermToCgprofEndsADefaultWorkloadWith143) {
  Running r(GetParam(),
            {"run", "--no-cgroup", "--rootfs", rootfs(GetParam()), "sh", "-c", "echo up; exec sleep 600"});
  ASSERT_TRUE(r.wait_for_line("up"));
  kill(r.pid(), SIGTERM);
  EXPECT_EQ(r.finish().code, 143);
}

TEST_P(Exit, OrphansAreReapedByInit) {
  RunResult r = run(GetParam(), {"orphan"});
  EXPECT_EQ(r.out, "orphan reaped\n") << r.err;
  EXPECT_EQ(r.code, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, Exit,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
