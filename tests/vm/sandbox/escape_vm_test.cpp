// escape-probe inside `cgprof run` on a cgroup v2 kernel, with the run's cgroup in place: the
// probe must not reach the run cgroup's files or fds, nor the caller's fds, env or argv, nor
// forge the result (run.json's exit code is checked too). Root and rootless use this same file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "tests/vm/cgroup/run_vm_common.hpp"
#include "tests/escape/escape_checks.hpp"

namespace cgprof_vm {
namespace {

class EscapeVm : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string cmd = "cp " + env("CGPROF_BUILD_DIR") + "/tests/escape/escape-probe " +
                      test_rootfs() + "/bin/";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    char tmpl[] = "/tmp/cgprof-escape-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    bait_.emplace(tmpl);
    setenv("CGPROF_ESCAPE_SECRET", bait_->token().c_str(), 1);
  }
  void TearDown() override {
    unsetenv("CGPROF_ESCAPE_SECRET");
    bait_.reset();
  }

  void probe_holds(std::vector<std::string> extra) {
    std::string out = fresh_output_dir("escape");
    std::vector<std::string> args = {"run", "--rootfs", test_rootfs(), "--output", out};
    args.insert(args.end(), extra.begin(), extra.end());
    for (auto& a : bait_->run_args("/bin/escape-probe")) args.push_back(a);
    RunOut r = cgprof(args);
    bait_->expect_all_held(r.out, r.err, r.code);
    auto j = read_run_json(out);
    EXPECT_EQ(j["exit"]["exit_code"], escape::kProbeExit) << j.dump();
    EXPECT_TRUE(leftover_cgroups().empty());
  }

  std::optional<escape::Bait> bait_;
};

TEST_F(EscapeVm, EveryAttemptHoldsWithTheRunCgroup) { probe_holds({}); }

TEST_F(EscapeVm, EveryAttemptHoldsRootlessAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "only root runs --rootless as root";
  escape::ensure_root_subid_range();
  probe_holds({"--rootless"});
}

}  // namespace
}  // namespace cgprof_vm
