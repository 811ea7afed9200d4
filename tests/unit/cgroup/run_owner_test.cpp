// Run cgroup names and the staleness rule, on a fixture tree: a temp directory stands in for the
// "cgprof" parent cgroup and another for /proc.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"

namespace cgprof {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kOurNs = 4026531836;
// Above the kernel's largest pid_max (2^22): no process can have it, so kill(pid, 0) says ESRCH.
constexpr pid_t kNoSuchPid = 5000000;

// A /proc/PID/stat line whose comm has spaces and parentheses, with `start` as field 22.
std::string stat_line(pid_t pid, uint64_t start) {
  std::string s = std::to_string(pid) + " (a) b (c) S 1";  // fields 1-4
  for (int f = 5; f <= 21; ++f) s += " " + std::to_string(f * 10);
  s += " " + std::to_string(start) + " 4096 300 18446744073709551615\n";
  return s;
}

TEST(RunOwner, NameSaysPidStartTimeAndPidNamespace) {
  RunOwner o{4242, 987654, kOurNs};
  std::string name = run_cgroup_name(o, 0x0a1b2c3d);
  EXPECT_EQ(name, "pid4242-start987654-ns4026531836-0a1b2c3d");
  std::optional<RunOwner> back = parse_run_cgroup_name(name);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->start_time, 987654u);
  EXPECT_EQ(back->pid_ns, kOurNs);
}

TEST(RunOwner, OnlyOurCanonicalNamesAreParsed) {
  for (const char* bad : {
           "",
           "cgprof",
           "4242-0a1b2c3d",                               // the format before owners were named
           "pid4242-start987654-ns4026531836",            // no nonce
           "pid4242-start987654-ns4026531836-0a1b2c3",    // short nonce
           "pid4242-start987654-ns4026531836-0A1B2C3D",   // not our spelling
           "pid4242-start987654-ns4026531836-0a1b2c3d0",  // trailing
           "pid04242-start987654-ns4026531836-0a1b2c3d",  // leading zero
           "pid0-start987654-ns4026531836-0a1b2c3d",      // no process has pid 0
           "pid99999999999-start1-ns1-0a1b2c3d",          // not a pid
           "pid-1-start1-ns1-0a1b2c3d",
           "pid4242-start-ns4026531836-0a1b2c3d",
           "pid4242-start987654-ns4026531836-0a1b2c3d/x",
           "pid4242-start99999999999999999999999-ns1-0a1b2c3d",  // overflows
       }) {
    EXPECT_FALSE(parse_run_cgroup_name(bad)) << bad;
  }
}

TEST(RunOwner, StartTimeIsField22CountedFromTheLastParenthesis) {
  EXPECT_EQ(parse_proc_stat_start_time(stat_line(7, 123456)), 123456u);
  EXPECT_FALSE(parse_proc_stat_start_time("7 (sh) S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat_start_time("no parenthesis at all"));
  std::string bad = stat_line(7, 1);
  bad.replace(bad.find(" 1 4096"), 2, " x");
  EXPECT_FALSE(parse_proc_stat_start_time(bad)) << bad;
}

TEST(RunOwner, StalenessRule) {
  const RunOwner o{4242, 1000, kOurNs};
  using S = ProcessProbe::State;
  EXPECT_EQ(run_owner_state(o, kOurNs, {S::absent, 0}), OwnerState::gone);
  EXPECT_EQ(run_owner_state(o, kOurNs, {S::present, 1000}), OwnerState::alive);
  // The pid was reused by a later process: the owner is gone, whatever runs under its pid.
  EXPECT_EQ(run_owner_state(o, kOurNs, {S::present, 2000}), OwnerState::gone);
  EXPECT_EQ(run_owner_state(o, kOurNs, {S::unknown, 0}), OwnerState::unknown);
  // A pid of another PID namespace proves nothing in ours.
  EXPECT_EQ(run_owner_state(o, kOurNs + 1, {S::absent, 0}), OwnerState::unknown);
  EXPECT_EQ(run_owner_state(o, kOurNs + 1, {S::present, 2000}), OwnerState::unknown);
}

class StaleTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-stale-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/cgprof");
    fs::create_directories(root_ + "/proc/self/ns");
    parent_ = open_at(AT_FDCWD, root_ + "/cgprof", O_PATH | O_DIRECTORY);
    proc_ = open_at(AT_FDCWD, root_ + "/proc", O_PATH | O_DIRECTORY);
  }
  void TearDown() override { fs::remove_all(root_); }

  void process(pid_t pid, uint64_t start) {
    fs::create_directories(root_ + "/proc/" + std::to_string(pid));
    std::ofstream(root_ + "/proc/" + std::to_string(pid) + "/stat") << stat_line(pid, start);
  }
  std::string run_cgroup(const RunOwner& o) {
    std::string name = run_cgroup_name(o, 0x12345678);
    fs::create_directories(root_ + "/cgprof/" + name);
    return name;
  }
  std::vector<std::string> stale_names(int proc_fd) {
    std::vector<std::string> names;
    for (const auto& s : find_stale_run_cgroups(parent_.get(), proc_fd, kOurNs))
      names.push_back(s.name);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string root_;
  UniqueFd parent_, proc_;
};

TEST_F(StaleTree, OnlyCgroupsOfProvablyGoneOwnersAreStale) {
  process(100, 5000);  // a live cgprof
  process(200, 9999);  // pid 200 now belongs to a process started after the owner
  std::string live = run_cgroup({100, 5000, kOurNs});
  std::string reused = run_cgroup({200, 6000, kOurNs});
  std::string exited = run_cgroup({kNoSuchPid, 7000, kOurNs});
  std::string other_ns = run_cgroup({kNoSuchPid, 7000, kOurNs + 1});
  // pid 1 runs on this machine, but the fixture /proc hides it (as hidepid=invisible would).
  std::string hidden = run_cgroup({1, 7000, kOurNs});
  fs::create_directories(root_ + "/cgprof/4242-0a1b2c3d");  // not a name we parse
  fs::create_directories(root_ + "/cgprof/someone-else");
  // A file with a stale-looking name is no cgroup of ours.
  std::ofstream(root_ + "/cgprof/" + run_cgroup_name({kNoSuchPid, 1, kOurNs}, 1)) << "x";

  std::vector<std::string> expected{exited, reused};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(stale_names(proc_.get()), expected);
  std::vector<StaleRunCgroup> stale = find_stale_run_cgroups(parent_.get(), proc_.get(), kOurNs);
  for (const auto& s : stale)
    EXPECT_EQ(s.owner.pid, s.name == reused ? 200 : kNoSuchPid) << s.name;
  (void)live, (void)other_ns, (void)hidden;
}

TEST_F(StaleTree, AnEmptyParentHasNothingStale) {
  EXPECT_TRUE(stale_names(proc_.get()).empty());
}

TEST_F(StaleTree, OurOwnCgroupIsLiveOnTheRealProcAndAnotherStartTimeIsNot) {
  UniqueFd proc = open_at(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY);
  RunOwner self = current_run_owner(proc.get());
  EXPECT_EQ(self.pid, ::getpid());
  ProcessProbe probe = probe_process(proc.get(), self.pid);
  EXPECT_EQ(probe.state, ProcessProbe::State::present);
  EXPECT_EQ(probe.start_time, self.start_time);
  std::string ours = run_cgroup(self);
  RunOwner earlier = self;
  earlier.start_time -= 1;  // same pid, another start time: a previous owner of our pid
  std::string reused = run_cgroup(earlier);
  std::vector<StaleRunCgroup> stale = find_stale_run_cgroups(parent_.get(), proc.get(), self.pid_ns);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].name, reused);
  (void)ours;
}

TEST_F(StaleTree, CurrentOwnerFromAFixtureProc) {
  std::ofstream(root_ + "/proc/self/stat") << stat_line(321, 4444);
  fs::create_symlink("pid:[77]", root_ + "/proc/self/ns/pid");
  RunOwner o = current_run_owner(proc_.get());
  EXPECT_EQ(o.pid, 321);
  EXPECT_EQ(o.start_time, 4444u);
  EXPECT_EQ(o.pid_ns, 77u);
}

TEST_F(StaleTree, CurrentOwnerErrorNamesTheFile) {
  std::ofstream(root_ + "/proc/self/stat") << stat_line(321, 4444);
  fs::create_symlink("net:[77]", root_ + "/proc/self/ns/pid");
  try {
    current_run_owner(proc_.get());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("self/ns/pid"), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find('\n'), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace cgprof
