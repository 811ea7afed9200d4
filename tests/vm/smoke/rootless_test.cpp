// Rootless side of the harness: the test runs as uid 1000 in a leaf of a cgroup subtree delegated
// the way systemd delegates user@1000.service, and can build its own limited cgroups there.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "cgroup_fs.hpp"

namespace cgprof::vmtest {
namespace {

const char* kNeeded[] = {"cpu", "memory", "io", "pids", "cpuset"};

uid_t owner(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno("stat", path);
  return st.st_uid;
}

TEST(VmRootless, RunsAsUid1000InsideTheDelegatedSubtree) {
  EXPECT_EQ(::getuid(), 1000u);
  EXPECT_EQ(::geteuid(), 1000u);
  const char* delegated = std::getenv("CGPROF_VM_USER_CGROUP");
  ASSERT_NE(delegated, nullptr);
  std::string own = own_cgroup();
  EXPECT_EQ(own.rfind(std::string(delegated) + "/app.slice/", 0), 0u) << own;
  EXPECT_EQ(owner(own), 1000u) << own;
  EXPECT_EQ(owner(delegated), 1000u);
  EXPECT_EQ(owner(std::string(delegated) + "/cgroup.procs"), 1000u);
  EXPECT_EQ(owner(std::string(delegated) + "/cgroup.subtree_control"), 1000u);
  EXPECT_EQ(owner(std::string(delegated) + "/cgroup.threads"), 1000u);
}

TEST(VmRootless, CannotWriteOutsideTheDelegation) {
  std::string outside = std::string(kCgroupRoot) + "/vm-rootless-escape";
  EXPECT_NE(::mkdir(outside.c_str(), 0755), 0);
  EXPECT_EQ(errno, EACCES);
  try {
    write_file_at(AT_FDCWD, std::string(kCgroupRoot) + "/cgroup.subtree_control", "-pids");
    ADD_FAILURE() << "uid 1000 changed the root's cgroup.subtree_control";
  } catch (const Error& e) {
    EXPECT_EQ(e.sys_errno(), EACCES) << e.what();
  }
}

// What a rootless cgprof has to do: its own cgroup holds a process, so (no internal processes) it
// moves itself into a leaf before enabling controllers for a sibling workload cgroup.
TEST(VmRootless, CreatesAChildCgroupAndEnablesControllersOnIt) {
  std::string own = own_cgroup();
  // The harness starts the test alone in its scope, like `systemd-run --user --scope TEST`.
  ASSERT_EQ(read_file(own + "/cgroup.procs"), std::to_string(::getpid()) + "\n");
  auto offered = controllers(own);
  for (const char* c : kNeeded) EXPECT_TRUE(offered.count(c)) << c << " not delegated to " << own;

  {
    ScopedCgroup leaf(own + "/leaf");
    write_file_at(AT_FDCWD, leaf.file("cgroup.procs"), "0");
    EXPECT_EQ(own_cgroup(), leaf.path());
    write_file_at(AT_FDCWD, own + "/cgroup.subtree_control", "+cpu +memory +io +pids +cpuset");
    {
      ScopedCgroup work(own + "/work");
      EXPECT_EQ(owner(work.path()), 1000u);
      auto enabled = controllers(work.path());
      for (const char* c : kNeeded)
        EXPECT_TRUE(enabled.count(c)) << c << " not enabled in " << work.path();
      write_file_at(AT_FDCWD, work.file("memory.max"), "64M");
      EXPECT_EQ(read_file(work.file("memory.max")), "67108864\n");
      write_file_at(AT_FDCWD, work.file("pids.max"), "8");
      EXPECT_EQ(read_file(work.file("pids.max")), "8\n");
      write_file_at(AT_FDCWD, work.file("cpu.max"), "25000 100000");
      EXPECT_EQ(read_file(work.file("cpu.max")), "25000 100000\n");
    }
    // Undo, so the harness can remove our scope: controllers off, back into our own cgroup.
    write_file_at(AT_FDCWD, own + "/cgroup.subtree_control", "-cpu -memory -io -pids -cpuset");
    write_file_at(AT_FDCWD, own + "/cgroup.procs", "0");
  }
  EXPECT_EQ(own_cgroup(), own);
}

}  // namespace
}  // namespace cgprof::vmtest
