// A cgprof killed with SIGKILL runs no destructor: its run cgroup stays. The next run that uses
// the same parent removes it (and says so), and never touches the cgroup of a live run. Built
// into the root and the rootless `cgprof run` VM executables: the same tests run as root and as
// uid 1000 in the delegated subtree.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cgprof/cgroup.hpp"
#include "cgprof/sys.hpp"
#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

namespace fs = std::filesystem;

using cgprof::testing_util::exists;

// The run cgroups (children of every "cgprof" cgroup) whose owner is `pid`.
std::vector<std::string> run_cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  const std::string prefix = "pid" + std::to_string(pid) + "-";
  for (const std::string& parent : leftover_cgroups()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(parent, ec))
      if (e.is_directory(ec) && e.path().filename().string().rfind(prefix, 0) == 0)
        out.push_back(e.path());
  }
  return out;
}

bool populated(const std::string& cgroup) {
  return cgprof::read_file_or_empty(cgroup + "/cgroup.events").find("populated 1") !=
         std::string::npos;
}

// Waits (bounded: 30 s) until the cgroup holds no process.
bool wait_empty(const std::string& cgroup) {
  for (int i = 0; i < 600 && populated(cgroup); ++i) ::usleep(50000);
  return !populated(cgroup);
}

class StaleCgroupVm : public ::testing::Test {
 protected:
  void SetUp() override { rootfs_ = test_rootfs(); }
  void TearDown() override {
    // After a failure: kill and remove whatever is left, so the next test starts clean.
    for (const std::string& parent : leftover_cgroups()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(parent, ec)) {
        std::ofstream(e.path() / "cgroup.kill") << "1";
        wait_empty(e.path());
        ::rmdir(e.path().c_str());
      }
      ::rmdir(parent.c_str());
    }
    EXPECT_TRUE(leftover_cgroups().empty());
  }
  std::vector<std::string> run_args(const std::string& out, const std::string& script) {
    return {"run", "--rootfs", rootfs_, "--output", out, "--", "/bin/sh", "-c", script};
  }
  std::string rootfs_;
};

TEST_F(StaleCgroupVm, TheNextRunRemovesTheCgroupOfASigkilledCgprof) {
  std::string mounts_before = cgprof::read_file_or_empty("/proc/self/mountinfo");
  std::string out1 = fresh_output_dir("killed");
  Background killed(run_args(out1, "echo ready; exec sleep 600"));
  ASSERT_TRUE(killed.wait_for_output("ready"));
  const pid_t cgprof_pid = killed.pid();
  std::vector<std::string> cg = run_cgroups_of(cgprof_pid);
  ASSERT_EQ(cg.size(), 1u) << "the run cgroup is named after its cgprof (pid " << cgprof_pid << ")";
  ::kill(cgprof_pid, SIGKILL);
  EXPECT_EQ(killed.finish().code, 128 + SIGKILL);

  // The problem is real: SIGKILL left the run cgroup behind...
  ASSERT_TRUE(exists(cg[0])) << cg[0];
  // ...but nothing else: the container died with cgprof (its init's parent-death signal), and
  // every mount was in the container's own mount namespace.
  EXPECT_TRUE(wait_empty(cg[0])) << cg[0] << ": processes still run 30 s after cgprof died: "
                                 << cgprof::read_file_or_empty(cg[0] + "/cgroup.procs");
  EXPECT_EQ(cgprof::read_file_or_empty("/proc/self/mountinfo"), mounts_before);
  std::printf("after SIGKILL: result directory %s %s run.json\n", out1.c_str(),
              exists(out1 + "/run.json") ? "has" : "has no");

  std::string out2 = fresh_output_dir("after-kill");
  RunOut r = cgprof(run_args(out2, "echo fine"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "fine\n");
  EXPECT_NE(r.err.find("cgprof: removed 1 stale run cgroup left by a killed cgprof (pid " +
                       std::to_string(cgprof_pid) + ")\n"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists(cg[0])) << cg[0];
  auto j = read_run_json(out2);
  EXPECT_EQ(j["exit"]["status"], 0);
  EXPECT_TRUE(leftover_cgroups().empty());
}

TEST_F(StaleCgroupVm, ALiveRunsCgroupIsKeptAndAReusedPidsIsKilledAndRemoved) {
  std::string out1 = fresh_output_dir("live");
  Background live(run_args(out1, "echo ready; exec sleep 600"));
  ASSERT_TRUE(live.wait_for_output("ready"));
  std::vector<std::string> live_cg = run_cgroups_of(live.pid());
  ASSERT_EQ(live_cg.size(), 1u);
  const std::string parent = fs::path(live_cg[0]).parent_path();

  // A run cgroup of a cgprof whose pid now belongs to another process (this test: same pid,
  // another start time), with a process still inside it.
  cgprof::UniqueFd proc = cgprof::open_at(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY);
  cgprof::RunOwner gone = cgprof::current_run_owner(proc.get());
  gone.start_time -= 1;
  const std::string reused = parent + "/" + cgprof::run_cgroup_name(gone, 0xdeadbeef);
  ASSERT_EQ(::mkdir(reused.c_str(), 0755), 0) << reused;
  pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::ofstream(reused + "/cgroup.procs") << sleeper << std::flush;
  ASSERT_TRUE(populated(reused));

  std::string out2 = fresh_output_dir("second");
  RunOut r = cgprof(run_args(out2, "echo second"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "second\n");
  EXPECT_NE(r.err.find("cgprof: removed 1 stale run cgroup left by a killed cgprof (pid " +
                       std::to_string(::getpid()) + ")\n"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists(reused)) << "its process was killed (cgroup.kill) and the cgroup removed";
  int st = 0;
  ASSERT_EQ(::waitpid(sleeper, &st, 0), sleeper);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;

  // The live run was not touched: its cgroup is there with its workload, and it ends normally.
  EXPECT_TRUE(exists(live_cg[0])) << live_cg[0];
  EXPECT_TRUE(populated(live_cg[0]));
  ::kill(live.pid(), SIGTERM);
  RunOut l = live.finish();
  EXPECT_EQ(l.code, 128 + SIGTERM) << l.err;
  EXPECT_EQ(read_run_json(out1)["exit"]["interrupted"], true);
  EXPECT_FALSE(exists(live_cg[0]));
  EXPECT_TRUE(leftover_cgroups().empty());
}

}  // namespace
}  // namespace cgprof_vm
