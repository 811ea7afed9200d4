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
#include <random>

#include "tests/vm/cgroup/run_vm_common.hpp"
#include "tests/escape/escape_checks.hpp"

namespace cgprof_vm {
namespace {

class EscapeVm : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    token_ = "cgprofsecret";
    for (int i = 0; i < 16; ++i) token_ += "0123456789abcdef"[rd() % 16];
    std::string cmd = "cp " + env("CGPROF_BUILD_DIR") + "/tests/escape/escape-probe " +
                      test_rootfs() + "/bin/";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    char tmpl[] = "/tmp/cgprof-escape-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    chmod(dir_.c_str(), 0777);
    std::ofstream(dir_ + "/marker") << token_ << "\n";
    // An empty env file whose name is the secret: it puts the secret into cgprof's argv.
    std::ofstream(dir_ + "/" + token_ + ".env") << "";
    int f = open((dir_ + "/marker").c_str(), O_RDWR);
    int d = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(dup2(f, 7), 7);  // inherited by cgprof, as from a careless caller
    ASSERT_EQ(dup2(d, 8), 8);
    close(f);
    close(d);
    setenv("CGPROF_ESCAPE_SECRET", token_.c_str(), 1);
  }
  void TearDown() override {
    close(7);
    close(8);
    unsetenv("CGPROF_ESCAPE_SECRET");
    std::system(("rm -rf " + dir_).c_str());
  }

  void probe_holds(std::vector<std::string> extra) {
    std::string reversed = token_;
    std::reverse(reversed.begin(), reversed.end());
    std::string out = fresh_output_dir("escape");
    std::vector<std::string> args = {"run", "--rootfs", test_rootfs(), "--output", out};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--hostname", "escape-probe", "-e",
                             "CGPROF_ESCAPE_PROBE=inside-a-container", "--env-file", dir_ + "/" + token_ + ".env",
                             "--", "/bin/escape-probe", reversed, dir_,
                             std::to_string(escape::kProbeExit)});
    RunOut r = cgprof(args);
    EXPECT_EQ(r.out.find("ESCAPE:"), std::string::npos) << r.out << r.err;
    for (const char* check : escape::kChecks)
      EXPECT_NE(r.out.find(std::string("held: ") + check + "\n"), std::string::npos)
          << check << ":\n" << r.out << r.err;
    EXPECT_EQ(r.code, escape::kProbeExit) << r.out << r.err;
    EXPECT_EQ(access((dir_ + "/pwned").c_str(), F_OK), -1) << "the probe created a host file";
    auto j = read_run_json(out);
    EXPECT_EQ(j["exit"]["exit_code"], escape::kProbeExit) << j.dump();
    EXPECT_TRUE(leftover_cgroups().empty());
  }

  std::string token_, dir_;
};

TEST_F(EscapeVm, EveryAttemptHoldsWithTheRunCgroup) { probe_holds({}); }

TEST_F(EscapeVm, EveryAttemptHoldsRootlessAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "only root runs --rootless as root";
  for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
    std::ifstream in(f);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (all.find("\nroot:") == std::string::npos && all.rfind("root:", 0) != 0)
      std::ofstream(f, std::ios::app) << "root:1000000:65536\n";
  }
  probe_holds({"--rootless"});
}

}  // namespace
}  // namespace cgprof_vm
