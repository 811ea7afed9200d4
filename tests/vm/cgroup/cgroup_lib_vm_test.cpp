// RunCgroup against a real cgroup v2 kernel (run in the VM as root): placement, limits as the
// kernel sees them, enforcement on forked children placed with clone3(CLONE_INTO_CGROUP), cleanup.
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "tests/common/test_env.hpp"

namespace cgprof {
namespace {

// Forks a child directly into the cgroup; it runs body() and exits with its result.
template <class F>
pid_t spawn_into(int cgroup_fd, F body) {
  struct clone_args args;
  std::memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) ::_exit(body());
  return static_cast<pid_t>(pid);
}

int wait_status(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return st;
}

double now_s() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint64_t stat_field(const std::string& text, const std::string& key) {
  size_t at = text.find(key + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(text.substr(at + key.size() + 1));
}

using cgprof::testing_util::exists;

TEST(CgroupVm, CreatesLeafUnderCgprofWithLimitsAndRemovesIt) {
  RunCgroupOptions o;
  o.limits.cpus = 0.5;
  o.limits.memory_max = 64ull << 20;
  o.limits.pids_max = 32;
  std::string path;
  {
    RunCgroup cg = RunCgroup::create(o);
    path = cg.path();
    EXPECT_NE(path.find("/cgprof/"), std::string::npos) << path;
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cpu.max"), "50000 100000\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "memory.max"), std::to_string(64ull << 20) + "\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "memory.swap.max"), "0\n");
    EXPECT_EQ(read_cgroup_file(cg.dirfd(), "pids.max"), "32\n");
    ASSERT_TRUE(cg.limits_written().cpu_quota_cores);
    EXPECT_DOUBLE_EQ(*cg.limits_written().cpu_quota_cores, 0.5);
    EXPECT_TRUE(exists(path));
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(path.substr(0, path.rfind('/')))) << "empty cgprof parent left behind";
}

TEST(CgroupVm, ChildPlacedWithCloneIntoCgroupIsInTheLeaf) {
  RunCgroupOptions o;
  RunCgroup cg = RunCgroup::create(o);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = spawn_into(cg.dirfd(), [&] {
    char c;
    ::close(pipefd[1]);
    return ::read(pipefd[0], &c, 1) == 0 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ::close(pipefd[0]);
  std::string procs = read_cgroup_file(cg.dirfd(), "cgroup.procs");
  EXPECT_EQ(procs, std::to_string(pid) + "\n");
  ::close(pipefd[1]);
  EXPECT_EQ(wait_status(pid), 0);
}

TEST(CgroupVm, HalfACpuQuotaGivesAboutHalfACoreAndThrottles) {
  RunCgroupOptions o;
  o.limits.cpus = 0.5;
  RunCgroup cg = RunCgroup::create(o);
  double t0 = now_s();
  pid_t pid = spawn_into(cg.dirfd(), [] {
    double end = now_s() + 3.0;
    volatile uint64_t x = 0;
    while (now_s() < end) x = x + 1;
    return 0;
  });
  ASSERT_GT(pid, 0);
  wait_status(pid);
  double wall = now_s() - t0;
  std::string st = read_cgroup_file(cg.dirfd(), "cpu.stat");
  double cores = static_cast<double>(stat_field(st, "usage_usec")) / 1e6 / wall;
  std::printf("cpus=0.5: %.3f cores over %.2f s wall, nr_throttled=%llu\n", cores, wall,
              static_cast<unsigned long long>(stat_field(st, "nr_throttled")));
  EXPECT_GT(cores, 0.3);
  EXPECT_LT(cores, 0.7);
  EXPECT_GT(stat_field(st, "nr_throttled"), 0u);
}

TEST(CgroupVm, AllocationPastMemoryMaxIsOomKilled) {
  RunCgroupOptions o;
  o.limits.memory_max = 32ull << 20;
  RunCgroup cg = RunCgroup::create(o);
  pid_t pid = spawn_into(cg.dirfd(), [] {
    size_t n = 96ull << 20;
    char* p = static_cast<char*>(
        ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return 0;
  });
  int st = wait_status(pid);
  ASSERT_TRUE(WIFSIGNALED(st)) << st;
  EXPECT_EQ(WTERMSIG(st), SIGKILL);
  EXPECT_GE(cg.oom_kills(), 1u);
}

TEST(CgroupVm, MemoryPeakMatchesAKnownAllocation) {
  RunCgroupOptions o;
  RunCgroup cg = RunCgroup::create(o);
  const size_t n = 48ull << 20;
  pid_t pid = spawn_into(cg.dirfd(), [&] {
    char* p = static_cast<char*>(
        ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return 0;
  });
  wait_status(pid);
  std::optional<uint64_t> peak = cg.memory_peak();
  ASSERT_TRUE(peak) << "kernel without memory.peak";
  std::printf("memory.peak %llu for %zu allocated (+%lld)\n",
              static_cast<unsigned long long>(*peak), n,
              static_cast<long long>(*peak) - static_cast<long long>(n));
  EXPECT_GE(*peak, n);
  // A forked child also charges its page tables and copied pages: allow 2 MiB.
  EXPECT_LT(*peak, n + (2u << 20));
}

TEST(CgroupVm, PidsMaxStopsAForkBomb) {
  RunCgroupOptions o;
  o.limits.pids_max = 16;
  RunCgroup cg = RunCgroup::create(o);
  pid_t pid = spawn_into(cg.dirfd(), [] {
    int made = 0;
    for (int i = 0; i < 200; ++i) {
      pid_t c = ::fork();
      if (c == 0) {
        ::pause();
        ::_exit(0);
      }
      if (c < 0) break;
      ++made;
    }
    return made;  // exit status = children it could make
  });
  int st = wait_status(pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 15) << "16 pids: the bomb itself and 15 children";
  std::string ev = read_cgroup_file(cg.dirfd(), "pids.events");
  EXPECT_GT(stat_field(ev, "max"), 0u);
  // The children are still there (orphans in the cgroup); destroy() must kill them.
  std::string path = cg.path();
  cg.destroy();
  EXPECT_FALSE(exists(path));
}

TEST(CgroupVm, DestroyKillsARunningWorkload) {
  RunCgroupOptions o;
  RunCgroup cg = RunCgroup::create(o);
  pid_t pid = spawn_into(cg.dirfd(), [] {
    for (;;) ::pause();
    return 0;
  });
  std::string path = cg.path();
  cg.destroy();
  int st = wait_status(pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(exists(path));
}

TEST(CgroupVm, CpusetFromCoresTakesTheFirstCpus) {
  RunCgroupOptions o;
  o.limits.cores = 1;
  RunCgroup cg = RunCgroup::create(o);
  EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cpuset.cpus"), "0\n");
  EXPECT_EQ(read_cgroup_file(cg.dirfd(), "cpuset.cpus.effective"), "0\n");
}

// The harness gives a scratch ext4 disk (CGPROF_VM_SCRATCH_DIR on CGPROF_VM_SCRATCH_DEV).
TEST(CgroupVm, IoMaxOnTheRootfsDiskIsWritten) {
  const char* dir = std::getenv("CGPROF_VM_SCRATCH_DIR");
  if (!dir) GTEST_SKIP() << "no scratch disk";
  RunCgroupOptions o;
  o.rootfs = dir;
  IoDeviceLimit io;
  io.read_bps = 1u << 20;
  o.limits.io.push_back(io);
  RunCgroup cg = RunCgroup::create(o);
  std::string io_max = read_cgroup_file(cg.dirfd(), "io.max");
  EXPECT_NE(io_max.find("rbps=1048576"), std::string::npos) << io_max;
  struct stat st;
  ASSERT_EQ(::stat(std::getenv("CGPROF_VM_SCRATCH_DEV"), &st), 0);
  EXPECT_EQ(
      io_max.rfind(
          std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)) + " ", 0),
      0u)
      << io_max;
}

TEST(CgroupVm, IoMaxOnANamedDeviceAndANoticeForATmpfsRootfs) {
  const char* dev = std::getenv("CGPROF_VM_SCRATCH_DEV");
  if (!dev) GTEST_SKIP() << "no scratch disk";
  RunCgroupOptions o;
  o.rootfs = "/tmp";  // tmpfs: no block device
  IoDeviceLimit rootfs_io;
  rootfs_io.read_bps = 1000;
  IoDeviceLimit named;
  named.device = dev;
  named.write_bps = 2000000;
  o.limits.io = {rootfs_io, named};
  RunCgroup cg = RunCgroup::create(o);
  std::string io_max = read_cgroup_file(cg.dirfd(), "io.max");
  EXPECT_NE(io_max.find("wbps=2000000"), std::string::npos) << io_max;
  EXPECT_EQ(io_max.find("rbps=1000 "), std::string::npos) << io_max;
  ASSERT_FALSE(cg.limits_written().notices.empty());
  EXPECT_NE(cg.limits_written().notices.back().find("tmpfs"), std::string::npos);
}

}  // namespace
}  // namespace cgprof
