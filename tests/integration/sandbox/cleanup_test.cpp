// Nothing survives a run: no process, no mount, no temporary directory, even after SIGKILL.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>
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

// Mounts a run could leave on the host: overlays, anything over the rootfs, our tmpfs "cgprof".
// (Other suites run in parallel and mount their own things; those are not ours to judge.)
std::string our_mounts(const std::string& rootfs) {
  std::ifstream f("/proc/self/mountinfo");
  std::string line, out;
  while (std::getline(f, line))
    if (line.find(" - overlay ") != std::string::npos || line.find(rootfs) != std::string::npos ||
        line.find(" cgprof ") != std::string::npos)
      out += line + "\n";
  return out;
}

// A test fixture's mkdtemp directory ("cgprof-apply-AbC123"): cgprof itself never calls mkdtemp
// in these directories, while other suites (and other checkouts' suites) create such directories
// at any moment.
bool fixture_tempdir(const std::string& name) {
  if (name.size() < 8 || name[name.size() - 7] != '-') return false;
  return std::all_of(name.end() - 6, name.end(), [](unsigned char c) { return std::isalnum(c); });
}

// Temporary entries a run could leave: cgprof never creates any, so any new "cgprof*" entry in
// the temp directories (other than test fixtures) would be a leak.
std::set<std::string> our_temp_entries() {
  std::set<std::string> out;
  for (const char* dir : {"/tmp", "/var/tmp", "/dev/shm", "/run"})
    for (const auto& name : list_dir(dir))
      if (name.rfind("cgprof", 0) == 0 && !fixture_tempdir(name))
        out.insert(std::string(dir) + "/" + name);
  return out;
}

// Entries that appeared since `before` (entries that went away belong to someone else).
std::vector<std::string> new_temp_entries(const std::set<std::string>& before) {
  std::vector<std::string> out;
  for (const auto& name : our_temp_entries())
    if (!before.count(name)) out.push_back(name);
  return out;
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
  Running r(GetParam(), {"run", "--no-cgroup", "--rootfs", rootfs(GetParam()), "sh", "-c",
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
  const std::set<std::string> tmp_before = our_temp_entries();
  const std::string mounts_before = our_mounts(rootfs(GetParam()));
  Running r(GetParam(), {"run", "--no-cgroup", "--rootfs", rootfs(GetParam()), "-v", "/tmp:/hosttmp:ro", "sh",
                         "-c", "sleep 600 & echo started; exec sleep 600"});
  ASSERT_TRUE(r.wait_for_line("started"));
  std::vector<pid_t> inside = descendants(r.pid());
  ASSERT_GE(inside.size(), 3u);
  kill(r.pid(), SIGKILL);
  r.finish();
  EXPECT_TRUE(all_gone(inside)) << "container processes survived SIGKILL of cgprof";
  EXPECT_EQ(our_mounts(rootfs(GetParam())), mounts_before);
  EXPECT_EQ(new_temp_entries(tmp_before), std::vector<std::string>{});
}

TEST_P(Cleanup, NormalExitLeavesNoMountOrTempDir) {
  const std::set<std::string> tmp_before = our_temp_entries();
  const std::string mounts_before = our_mounts(rootfs(GetParam()));
  EXPECT_EQ(run(GetParam(), {"sh", "-c", "echo x > /tmp/f; echo y > /etc/f"}).code, 0);
  EXPECT_EQ(our_mounts(rootfs(GetParam())), mounts_before);
  EXPECT_EQ(new_temp_entries(tmp_before), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Modes, Cleanup,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
