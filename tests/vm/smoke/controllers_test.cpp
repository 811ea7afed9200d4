// The VM kernel offers everything cgprof's limits need on a fresh, pure cgroup v2 hierarchy, and a
// child cgroup can be created, limited, populated and removed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cgroup_fs.hpp"

namespace cgprof::vmtest {
namespace {

const std::vector<std::string> kNeeded = {"cpu", "memory", "io", "pids", "cpuset"};

TEST(VmCgroupV2, HierarchyIsPureV2) {
  std::string mounts = read_file("/proc/self/mountinfo");
  EXPECT_NE(mounts.find(" /sys/fs/cgroup rw"), std::string::npos) << mounts;
  EXPECT_NE(mounts.find(" - cgroup2 "), std::string::npos) << mounts;
  EXPECT_EQ(mounts.find(" - cgroup "), std::string::npos) << "a cgroup v1 hierarchy is mounted";
}

TEST(VmCgroupV2, RootOffersAndEnablesEveryControllerCgprofNeeds) {
  auto offered = controllers(kCgroupRoot);
  auto enabled = controllers(kCgroupRoot, "cgroup.subtree_control");
  for (const auto& c : kNeeded) {
    EXPECT_TRUE(offered.count(c)) << c << " missing from the root's cgroup.controllers";
    EXPECT_TRUE(enabled.count(c)) << c << " not enabled in the root's cgroup.subtree_control";
  }
}

TEST(VmCgroupV2, ChildGetsControllersAndLimitsAndIsRemoved) {
  std::string path = std::string(kCgroupRoot) + "/vm-smoke-" + std::to_string(::getpid());
  {
    ScopedCgroup child(path);
    auto offered = controllers(child.path());
    for (const auto& c : kNeeded) EXPECT_TRUE(offered.count(c)) << c << " not offered to a child";

    write_file_at(AT_FDCWD, child.file("memory.max"), "64M");
    EXPECT_EQ(read_file(child.file("memory.max")), "67108864\n");
    write_file_at(AT_FDCWD, child.file("pids.max"), "16");
    EXPECT_EQ(read_file(child.file("pids.max")), "16\n");
    write_file_at(AT_FDCWD, child.file("cpu.max"), "50000 100000");
    EXPECT_EQ(read_file(child.file("cpu.max")), "50000 100000\n");

    // A grandchild with its own controllers: enabling them needs an empty child (no internal
    // processes), which is what the cgroup module relies on.
    write_file_at(AT_FDCWD, child.file("cgroup.subtree_control"), "+memory +pids");
    ScopedCgroup grandchild(child.file("leaf"));
    EXPECT_EQ(controllers(grandchild.path()), (std::set<std::string>{"memory", "pids"}));
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << path << " still exists";
}

// memory.max is enforced, not just stored: a process allocating past it is OOM-killed and
// memory.events counts it.
TEST(VmCgroupV2, MemoryMaxIsEnforcedByTheOomKiller) {
  ScopedCgroup cg(std::string(kCgroupRoot) + "/vm-smoke-oom-" + std::to_string(::getpid()));
  write_file_at(AT_FDCWD, cg.file("memory.max"), "32M");
  write_file_at(AT_FDCWD, cg.file("memory.swap.max"), "0");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      write_file_at(AT_FDCWD, cg.file("cgroup.procs"), "0");
    } catch (const Error&) {
      ::_exit(3);
    }
    constexpr size_t kBytes = 128u << 20;
    // volatile: the compiler may not drop stores to memory nobody reads.
    auto* p = static_cast<volatile char*>(std::malloc(kBytes));
    if (p == nullptr) ::_exit(4);
    for (size_t i = 0; i < kBytes; i += 4096) p[i] = 1;
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child was not killed; exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto events = read_file(cg.file("memory.events"));
  EXPECT_NE(events.find("oom_kill 1"), std::string::npos) << events;
}

// The harness's scratch disk is a real block device the io controller accepts limits for, so io
// tests have something 9p and tmpfs cannot give them.
TEST(VmCgroupV2, IoMaxAcceptsTheScratchDisk) {
  const char* dev = std::getenv("CGPROF_VM_SCRATCH_DEV");
  ASSERT_NE(dev, nullptr) << "no scratch disk (VM_SCRATCH_MB=0?)";
  struct stat st {};
  ASSERT_EQ(::stat(dev, &st), 0) << dev;
  ASSERT_TRUE(S_ISBLK(st.st_mode)) << dev;
  std::string majmin = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  ScopedCgroup cg(std::string(kCgroupRoot) + "/vm-smoke-io-" + std::to_string(::getpid()));
  write_file_at(AT_FDCWD, cg.file("io.max"), majmin + " rbps=1048576 wiops=100");
  EXPECT_EQ(read_file(cg.file("io.max")), majmin + " rbps=1048576 wbps=max riops=max wiops=100\n");
}

}  // namespace
}  // namespace cgprof::vmtest
