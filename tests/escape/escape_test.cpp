// The escape suite on the host: escape-probe inside `cgprof run`, as root, as root with
// --rootless, and as an unprivileged user with and without /etc/subuid ranges. Each run gets a
// secret in cgprof's environment and argv, a host directory holding it, and two inherited fds
// (the secret file and its directory): the probe must reach none of it, nor break any rule of
// the container (docs/SECURITY.md lists each check).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/escape/escape_checks.hpp"
#include "tests/integration/sandbox/harness.hpp"

namespace sandbox_test {
namespace {

using escape::kChecks;
using escape::kProbeExit;

std::string random_token() {
  std::random_device rd;
  std::string t = "cgprofsecret";
  for (int i = 0; i < 16; ++i) t += "0123456789abcdef"[rd() % 16];
  return t;
}

bool has_line_for(const char* file, const char* who) {
  std::ifstream f(file);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(std::string(who) + ":", 0) == 0) return true;
  return false;
}

// A host directory with the secret, readable and writable by every test user (so a way out for
// an unprivileged cgprof would show), and the two fds cgprof's caller leaks on purpose.
class Escape : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    token_ = random_token();
    dir_ = temp_dir();
    ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
    std::ofstream(dir_ + "/marker") << token_ << "\n";
    // An empty env file whose name is the secret: it puts the secret into cgprof's argv.
    std::ofstream(dir_ + "/" + token_ + ".env") << "";
    chmod((dir_ + "/marker").c_str(), 0666);
    // Not O_CLOEXEC: cgprof (and setpriv before it) inherit them, as from a careless caller.
    int f = open((dir_ + "/marker").c_str(), O_RDWR);
    int d = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(f, 0);
    ASSERT_GE(d, 0);
    ASSERT_EQ(dup2(f, 7), 7);
    ASSERT_EQ(dup2(d, 8), 8);
    close(f);
    close(d);
  }
  void TearDown() override {
    close(7);
    close(8);
    unlink((dir_ + "/marker").c_str());
    unlink((dir_ + "/pwned").c_str());
    unlink((dir_ + "/" + token_ + ".env").c_str());
    rmdir(dir_.c_str());
  }

  RunResult probe(Mode m, std::vector<std::string> extra) {
    std::string reversed = token_;
    std::reverse(reversed.begin(), reversed.end());
    std::vector<std::string> args = std::move(extra);
    for (const char* a : {"--hostname", "escape-probe", "-e", "CGPROF_ESCAPE_PROBE=inside-a-container"})
      args.emplace_back(a);
    args.insert(args.end(), {"--env-file", dir_ + "/" + token_ + ".env", "--", "/usr/local/bin/escape-probe",
                             reversed, dir_, std::to_string(kProbeExit)});
    return run(m, args, {"CGPROF_ESCAPE_SECRET=" + token_});
  }

  void expect_all_held(const RunResult& r) {
    EXPECT_EQ(r.out.find("ESCAPE:"), std::string::npos) << r.out << r.err;
    for (const char* check : kChecks)
      EXPECT_NE(r.out.find(std::string("held: ") + check + "\n"), std::string::npos)
          << "the probe did not report " << check << ":\n" << r.out << r.err;
    // The exit status is the workload's own: whatever it wrote anywhere, cgprof reports 3.
    EXPECT_EQ(r.code, kProbeExit) << r.out << r.err;
    EXPECT_NE(access((dir_ + "/marker").c_str(), F_OK), -1);
    EXPECT_EQ(access((dir_ + "/pwned").c_str(), F_OK), -1) << "the probe created a host file";
  }

  std::string token_, dir_;
};

TEST_P(Escape, EveryAttemptHolds) {
  REQUIRE_MODE(GetParam());
  expect_all_held(probe(GetParam(), {}));
}

INSTANTIATE_TEST_SUITE_P(Modes, Escape,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

// Root asking for --rootless: container root is root's subordinate range, never host root.
class RootlessAsRoot : public Escape {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    for (const char* f : {"/etc/subuid", "/etc/subgid"})
      if (!has_line_for(f, "root")) std::ofstream(f, std::ios::app) << "root:1000000:65536\n";
    Escape::SetUp();
  }
};

TEST_F(RootlessAsRoot, EveryAttemptHolds) { expect_all_held(probe(Mode::kRoot, {"--rootless"})); }

TEST_F(RootlessAsRoot, ContainerRootIsRootsSubordinateRange) {
  RunResult r = run(Mode::kRoot, {"--rootless", "--", "cat", "/proc/self/uid_map"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream map(r.out);
  long inside = -1, outside = -1, count = -1;
  map >> inside >> outside >> count;
  std::ifstream subuid("/etc/subuid");
  std::string line;
  long start = -2;
  while (std::getline(subuid, line))
    if (line.rfind("root:", 0) == 0) {
      start = std::stol(line.substr(5, line.find(':', 5) - 5));
      break;
    }
  EXPECT_EQ(inside, 0) << r.out;
  EXPECT_NE(outside, 0) << "container root is host root: " << r.out;
  EXPECT_EQ(outside, start) << r.out;
}

// -v onto the kernel's file systems is refused, by name and through an image's symlink.
TEST(EscapeVolumes, OntoProcSysOrDevIsRefused) {
  REQUIRE_MODE(Mode::kRoot);
  std::string dir = temp_dir();
  for (std::string target : {"/proc", "/proc/sys", "/sys", "/sys/fs/cgroup", "/dev", "/dev/shm/x",
                             "//proc", "/tmp/../proc", "/./sys/"}) {
    RunResult r = run(Mode::kRoot, {"-v", dir + ":" + target, "--", "true"});
    EXPECT_EQ(r.code, 125) << target << ": " << r.err;
    EXPECT_NE(r.err.find("cannot mount onto /"), std::string::npos) << target << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Beside them, still fine.
  RunResult ok = run(Mode::kRoot, {"-v", dir + ":/process", "--", "true"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  rmdir(dir.c_str());
}

TEST(EscapeVolumes, ThroughASymlinkInTheRootfsIsRefused) {
  REQUIRE_MODE(Mode::kRoot);
  std::string link = rootfs(Mode::kRoot) + "/escape-proc-link";
  unlink(link.c_str());
  ASSERT_EQ(symlink("/proc/sys", link.c_str()), 0);
  std::string dir = temp_dir();
  RunResult r = run(Mode::kRoot, {"-v", dir + ":/escape-proc-link", "--", "true"});
  unlink(link.c_str());
  rmdir(dir.c_str());
  EXPECT_EQ(r.code, 125) << r.err;
  EXPECT_NE(r.err.find("resolves into /proc, /sys or /dev"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sandbox_test
