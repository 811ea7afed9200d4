// Nothing survives a run: no process, no mount, no temporary directory, even after SIGKILL.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "harness.hpp"

namespace sandbox_test {
namespace {

class Cleanup : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

std::set<std::string> list_dir(const char* path) {
  std::set<std::string> out;
  if (DIR* d = opendir(path)) {
    while (dirent* e = readdir(d)) out.insert(e->d_name);
    closedir(d);
  }
  return out;
}

std::string mount_table() {
  std::ifstream f("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool all_gone(const std::vector<pid_t>& pids) {
  for (int i = 0; i < 1000; ++i) {
    bool any = false;
    for (pid_t p : pids) any |= process_exists(p);
    if (!any) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_P(Cleanup, BackgroundProcessesDieWithTheWorkload) {
  Running r(GetParam(), {"run", "--rootfs", rootfs(GetParam()), "sh", "-c",
                         "sleep 600 & sleep 600 & echo started; exec sleep 600"});
  ASSERT_TRUE(r.wait_for_line("started"));
  std::vector<pid_t> inside = descendants(r.pid());
  ASSERT_GE(inside.size(), 4u) << "init + 3 sleeps (+ setpriv-less)";
  // Kill only the main workload (the exec'd sleep, a child of init): the rest must follow.
  pid_t init = inside.front();
  std::vector<pid_t> init_children = descendants(init);
  for (pid_t p : init_children) {
    std::ifstream st("/proc/" + std::to_string(p) + "/status");
    std::string line;
    while (std::getline(st, line))
      if (line.rfind("NSpid:", 0) == 0 && line.substr(line.find_last_of('\t') + 1) == "2")
        kill(p, SIGKILL);
  }
  RunResult res = r.finish();
  EXPECT_EQ(res.code, 137);
  EXPECT_TRUE(all_gone(inside));
}

TEST_P(Cleanup, SigkillOfCgprofLeavesNothingBehind) {
  const std::set<std::string> tmp_before = list_dir("/tmp");
  const std::string mounts_before = mount_table();
  Running r(GetParam(), {"run", "--rootfs", rootfs(GetParam()), "-v", "/tmp:/hosttmp:ro", "sh",
                         "-c", "sleep 600 & echo started; exec sleep 600"});
  ASSERT_TRUE(r.wait_for_line("started"));
  std::vector<pid_t> inside = descendants(r.pid());
  ASSERT_GE(inside.size(), 3u);
  kill(r.pid(), SIGKILL);
  r.finish();
  EXPECT_TRUE(all_gone(inside)) << "container processes survived SIGKILL of cgprof";
  EXPECT_EQ(mount_table(), mounts_before);
  std::set<std::string> tmp_after = list_dir("/tmp");
  for (const auto& name : tmp_after)
    EXPECT_TRUE(tmp_before.count(name) || name.rfind("cgprof", 0) != 0) << "left in /tmp: " << name;
}

TEST_P(Cleanup, NormalExitLeavesNoMountOrTempDir) {
  const std::set<std::string> tmp_before = list_dir("/tmp");
  const std::string mounts_before = mount_table();
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "echo x > /tmp/f; echo y > /etc/f"}).code, 0);
  EXPECT_EQ(mount_table(), mounts_before);
  EXPECT_EQ(list_dir("/tmp"), tmp_before);
}

INSTANTIATE_TEST_SUITE_P(Modes, Cleanup,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
