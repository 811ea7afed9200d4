// RunCgroup as uid 1000 inside a cgroup subtree delegated the way systemd delegates
// user@1000.service (the VM harness runs this in user@1000.service/app.slice/<scope>).
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "tests/common/test_env.hpp"

namespace cgprof {
namespace {

using cgprof::testing_util::exists;

std::string own_cgroup() {
  std::string s = read_file("/proc/self/cgroup");
  return "/sys/fs/cgroup" + s.substr(3, s.find('\n') - 3);
}

TEST(CgroupRootlessVm, LeafGoesNextToOurScopeWithTheLimitsWritten) {
  ASSERT_NE(::geteuid(), 0u) << "run me as uid 1000";
  const char* delegated = std::getenv("CGPROF_VM_USER_CGROUP");
  ASSERT_NE(delegated, nullptr);
  std::string own = own_cgroup();
  std::string parent = own.substr(0, own.rfind('/'));
  RunCgroupOptions o;
  o.limits.cpus = 0.25;
  o.limits.cores = 1;
  o.limits.memory_max = 96ull << 20;
  o.limits.pids_max = 20;
  std::string path;
  {
    RunCgroup cg = RunCgroup::create(o);
    path = cg.path();
    EXPECT_EQ(path.rfind(parent + "/cgprof/", 0), 0u) << path << " should be next to " << own;
    EXPECT_EQ(path.rfind(std::string(delegated) + "/", 0), 0u) << path;
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cpu.max"), "25000 100000\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "memory.max"), std::to_string(96ull << 20) + "\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "pids.max"), "20\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cpuset.cpus"), "0\n");
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::geteuid());

    // An unprivileged clone3 into it works: we own the common ancestor's cgroup.procs.
    struct clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cg.dirfd());
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    ASSERT_GT(pid, 0) << std::strerror(errno);
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cgroup.procs"), std::to_string(pid) + "\n");
    cg.destroy();  // kills the child
    int st_child = 0;
    ::waitpid(static_cast<pid_t>(pid), &st_child, 0);
    EXPECT_TRUE(WIFSIGNALED(st_child));
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(parent + "/cgprof"));
  EXPECT_EQ(own_cgroup(), own) << "we must not have moved";
}

TEST(CgroupRootlessVm, OutsideTheDelegationTheErrorSaysHowToGetOne) {
  // A fake /proc whose self/cgroup points at the root's session-like cgroup we do not own.
  char tmpl[] = "/tmp/cgprof-proc-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_EQ(::mkdir((dir + "/self").c_str(), 0755), 0);
  std::string mi = read_file("/proc/self/mountinfo");
  FILE* f = std::fopen((dir + "/self/mountinfo").c_str(), "w");
  std::fputs(mi.c_str(), f);
  std::fclose(f);
  f = std::fopen((dir + "/self/cgroup").c_str(), "w");
  std::fputs("0::/user.slice\n", f);
  std::fclose(f);
  RunCgroupOptions o;
  o.proc = dir;
  try {
    RunCgroup::create(o);
    ADD_FAILURE() << "created a cgroup outside the delegation";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not delegated to uid 1000"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("systemd-run --user --scope -p Delegate=yes"), std::string::npos);
  }
  ::unlink((dir + "/self/mountinfo").c_str());
  ::unlink((dir + "/self/cgroup").c_str());
  ::rmdir((dir + "/self").c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace cgprof
