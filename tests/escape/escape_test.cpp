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
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/escape/escape_checks.hpp"
#include "tests/integration/sandbox/harness.hpp"

namespace sandbox_test {
namespace {

// A fresh bait per test (escape_checks.hpp), in a directory readable by every test user.
class Escape : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { bait_.emplace(temp_dir()); }
  void TearDown() override { bait_.reset(); }

  RunResult probe(Mode m, std::vector<std::string> args) {
    for (auto& a : bait_->run_args("/usr/local/bin/escape-probe")) args.push_back(a);
    return run(m, args, {bait_->secret_env()});
  }
  void expect_all_held(const RunResult& r) { bait_->expect_all_held(r.out, r.err, r.code); }

  std::optional<escape::Bait> bait_;
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
    escape::ensure_root_subid_range();
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
