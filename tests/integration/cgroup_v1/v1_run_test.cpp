// `cgprof run` on this host's real cgroup v1 hierarchies (hybrid or legacy layout, as root): the
// limits hold, the totals match the workload's own view, OOM is marked, nothing is left behind.
// The "How it is proven" list (issue 13), one test each. Skipped on a pure v2 host (the
// VM suite covers v2) and when not root.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/sys.hpp"
#include "tests/vm/cgroup/run_vm_common.hpp"

namespace cgprof_vm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using cgprof::testing_util::exists;

// Every run cgroup in any v1 hierarchy whose owner is `pid` (named "pid<PID>-...").
std::vector<std::string> run_cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  const std::string prefix = "pid" + std::to_string(pid) + "-";
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (it->path().filename().string().rfind(prefix, 0) == 0 &&
        it->path().parent_path().filename() == "cgprof")
      out.push_back(it->path());
  }
  return out;
}

std::string procs(const std::string& cgroup) {
  return cgprof::read_file_or_empty(cgroup + "/cgroup.procs");
}

class CgroupV1Run : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroup v1 has no delegation)";
    std::string mi = cgprof::read_file("/proc/self/mountinfo");
    cgprof::CgroupLayout layout = cgprof::detect_cgroup_layout(mi);
    if (layout != cgprof::CgroupLayout::kHybrid && layout != cgprof::CgroupLayout::kLegacy)
      GTEST_SKIP() << "no cgroup v1 controllers here (layout " << cgprof::to_string(layout)
                   << "); the VM suite covers v2";
    rootfs_ = test_rootfs();
  }
  // cgprof run --rootfs R --output OUT ARGS... -- CMD...; the run.json, checked to be v1 and
  // its cgroups gone.
  json run(const std::vector<std::string>& opts, const std::vector<std::string>& cmd,
           RunOut* out = nullptr) {
    std::string dir = fresh_output_dir("v1");
    std::vector<std::string> args = {"run", "--rootfs", rootfs_, "--output", dir};
    args.insert(args.end(), opts.begin(), opts.end());
    args.push_back("--");
    args.insert(args.end(), cmd.begin(), cmd.end());
    RunOut r = cgprof(args);
    if (out) *out = r;
    EXPECT_TRUE(exists(dir + "/run.json")) << r.err;
    if (!exists(dir + "/run.json")) return json();
    json j = read_run_json(dir);
    EXPECT_EQ(j["schema"], "cgprof.run/2");
    EXPECT_EQ(j["cgroup"]["version"], 1) << j["cgroup"];
    EXPECT_EQ(j["cgroup"]["backend"], "v1") << j["cgroup"];
    const json& paths = j["cgroup"]["paths"];
    const char* cpu = paths.contains("cpu,cpuacct") ? "cpu,cpuacct" : "cpu";
    EXPECT_EQ(j["cgroup"]["path"], paths.value(cpu, "")) << j["cgroup"];
    EXPECT_TRUE(j["notices"].is_array()) << j.dump();
    for (const auto& [hierarchy, path] : j["cgroup"]["paths"].items())
      EXPECT_FALSE(exists(path.get<std::string>())) << hierarchy << ": " << path << " left behind";
    return j;
  }
  std::string rootfs_;
};

TEST_F(CgroupV1Run, HalfACpuHoldsABusyLoopAndCountsTheThrottling) {
  json j = run({"--cpus", "0.5"}, {"cpu-burn", "-d", "3"});
  const json& cpu = j["totals"]["cpu"];
  // The quota bounds from above; from below only a quiet host does (at load 9-12 on this
  // 2-core machine the loop got 0.33 cores, throttled in 52% of the periods it ran).
  EXPECT_LE(cpu["avg_cores"].get<double>(), 0.55) << cpu;
  EXPECT_GT(cpu["avg_cores"].get<double>(), 0.2) << cpu;
  EXPECT_GT(cpu["nr_throttled"].get<uint64_t>(), 0u) << cpu;
  EXPECT_GT(cpu["throttled_seconds"].get<double>(), 0.0) << cpu;
  EXPECT_EQ(j["device"]["limits_written"]["cpu.cfs_quota_us"], "50000");
  EXPECT_EQ(j["device"]["limits_written"]["cpu.cfs_period_us"], "100000");
}

TEST_F(CgroupV1Run, CpusetZeroHoldsTwoBusyThreadsToOneCore) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "one CPU: nothing to hold back";
  json j = run({"--cpuset", "0"}, {"cpu-burn", "-t", "2", "-d", "2"});
  double cores = j["totals"]["cpu"]["avg_cores"].get<double>();
  // cpuacct counts nanoseconds and the wall time starts at exec: 1% of slack for the edges.
  EXPECT_LE(cores, 1.01) << j["totals"]["cpu"];
  EXPECT_GT(cores, 0.5) << j["totals"]["cpu"];
  EXPECT_EQ(j["device"]["limits_written"]["cpuset.cpus"], "0");
  for (const auto& [key, value] : j["device"]["limits_written"].items())
    EXPECT_EQ(key.rfind("notice.", 0), std::string::npos) << key << ": " << value;
}

TEST_F(CgroupV1Run, CpuTotalIsWithinFivePercentOfTheWorkloadsOwnRusage) {
  RunOut r;
  // busybox time reports the user and system time of wait4's rusage.
  json j = run({}, {"time", "-f", "rusage %U %S", "cpu-burn", "-t", "2", "-d", "2"}, &r);
  size_t at = r.err.find("rusage ");
  ASSERT_NE(at, std::string::npos) << r.err;
  double user = 0, sys = 0;
  std::istringstream(r.err.substr(at + 7)) >> user >> sys;
  double total = j["totals"]["cpu"]["total_seconds"].get<double>();
  ASSERT_GT(user + sys, 0.5) << r.err;
  EXPECT_NEAR(total, user + sys, 0.05 * (user + sys)) << r.err;
  EXPECT_NEAR(j["totals"]["cpu"]["user_seconds"].get<double>(), user, 0.05 * (user + sys));
}

TEST_F(CgroupV1Run, PeakOfA100MiBAllocationIsBetween100And110MiB) {
  json j = run({}, {"mem-alloc", "-s", "100m", "-H", "0.3", "-q"});
  const json& mem = j["totals"]["memory"];
  EXPECT_EQ(mem["peak_source"], "memory.max_usage_in_bytes");
  uint64_t peak = mem["peak_bytes"].get<uint64_t>();
  EXPECT_GE(peak, 100ull << 20) << mem;
  EXPECT_LE(peak, 110ull << 20) << mem;
}

TEST_F(CgroupV1Run, OverItsMemoryLimitTheWorkloadEndsWith137MarkedOom) {
  RunOut r;
  json j = run({"--memory", "32m"}, {"mem-alloc", "-s", "64m"}, &r);
  EXPECT_EQ(r.code, 137) << r.err;
  EXPECT_EQ(j["exit"]["status"], 137);
  EXPECT_EQ(j["exit"]["oom_killed"], true) << j["exit"];
  EXPECT_GE(j["totals"]["memory"]["events"]["oom_kill"].get<uint64_t>(), 1u);
  EXPECT_EQ(j["device"]["limits_written"]["memory.limit_in_bytes"], std::to_string(32 << 20));
}

TEST_F(CgroupV1Run, APidsLimitOf20HoldsAForkBurst) {
  RunOut r;
  json j = run({"--pids-limit", "20"}, {"fork-heavy", "--bomb", "200", "-q"}, &r);
  // fork-heavy exits 3 when fork() failed: the limit stopped it.
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("errno=EAGAIN"), std::string::npos) << r.out;
  EXPECT_LE(j["totals"]["pids"]["peak"].get<uint64_t>(), 20u) << j["totals"]["pids"];
  EXPECT_GE(j["totals"]["pids"]["peak"].get<uint64_t>(), 15u) << j["totals"]["pids"];
  EXPECT_EQ(j["device"]["limits_written"]["pids.max"], "20");
}

TEST_F(CgroupV1Run, AThousandHertzForTwoSecondsGivesAtLeast1800Samples) {
  json j = run({"--rate", "1000"}, {"sleep", "2"});
  // Every deadline of 2 s at 1 kHz is either a sample or a counted miss; on this shared 2-core
  // host 1800 samples held at load ~7 but not at 12 (1591), so the count itself is bounded
  // loosely and the exact rate is bench/sampler-v1's business (no timing thresholds in tests).
  uint64_t samples = j["sampler"]["samples"].get<uint64_t>();
  EXPECT_GE(samples + j["sampler"]["missed_deadlines"].get<uint64_t>(), 1800u) << j["sampler"];
  EXPECT_GE(samples, 900u) << j["sampler"];
  // PSI does not exist on v1: absent, not zero.
  EXPECT_TRUE(j["totals"]["pressure"].is_null()) << j["totals"]["pressure"];
  std::vector<std::string> files = j["sampler"]["files"];
  EXPECT_NE(std::find(files.begin(), files.end(), "cpuacct.usage"), files.end());
}

TEST_F(CgroupV1Run, EveryHierarchyGetsItsRunCgroupUnderOurOwnCgroup) {
  std::string self = cgprof::read_file("/proc/self/cgroup");
  std::string mi = cgprof::read_file("/proc/self/mountinfo");
  std::vector<cgprof::V1Hierarchy> hs = cgprof::parse_v1_hierarchies(mi, self);
  json j = run({}, {"true"});
  const json& paths = j["cgroup"]["paths"];
  ASSERT_EQ(paths.size(), hs.size()) << paths;
  for (const cgprof::V1Hierarchy& h : hs) {
    ASSERT_TRUE(paths.contains(h.name())) << h.name();
    std::string expect = h.mount_point + (h.self.empty() ? "" : "/" + h.self) + "/cgprof/pid";
    EXPECT_EQ(paths[h.name()].get<std::string>().rfind(expect, 0), 0u) << paths[h.name()];
  }
}

TEST_F(CgroupV1Run, SigkillOfCgprofLeavesNoProcessAndTheNextRunRemovesItsCgroups) {
  std::string out1 = fresh_output_dir("v1-killed");
  Background killed({"run", "--rootfs", rootfs_, "--output", out1, "--", "/bin/sh", "-c",
                     "echo ready; sleep 600 & sleep 600 & exec sleep 600"});
  ASSERT_TRUE(killed.wait_for_output("ready"));
  const pid_t pid = killed.pid();
  std::vector<std::string> cg = run_cgroups_of(pid);
  ASSERT_GE(cg.size(), 5u) << "one run cgroup per hierarchy";
  std::string cpu_cg;
  for (const std::string& c : cg)
    if (c.find("/cpu/") != std::string::npos || c.find("/cpu,") != std::string::npos) cpu_cg = c;
  ASSERT_FALSE(cpu_cg.empty());
  EXPECT_FALSE(procs(cpu_cg).empty()) << "the container is in the run cgroup";
  ::kill(pid, SIGKILL);
  EXPECT_EQ(killed.finish().code, 128 + SIGKILL);
  // No process: the container dies with cgprof (its init's parent-death signal).
  for (int i = 0; i < 300 && !procs(cpu_cg).empty(); ++i) ::usleep(100000);
  EXPECT_EQ(procs(cpu_cg), "") << cpu_cg;
  for (const std::string& c : cg) EXPECT_TRUE(exists(c)) << "SIGKILL runs no cleanup: " << c;

  RunOut r;
  run({}, {"true"}, &r);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("cgprof: removed 1 stale run cgroup left by a killed cgprof (pid " +
                       std::to_string(pid) + ")\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(run_cgroups_of(pid), std::vector<std::string>{});
}

// As docker shows v1: the workload's cgroup namespace is rooted at its run cgroups (it sees "/"
// and none of the caller's cgroup paths), and each hierarchy is mounted read-only under
// /sys/fs/cgroup, so a script can read its own limit (torch sizes its thread pool from it) but
// not write it.
TEST_F(CgroupV1Run, TheWorkloadSeesItsOwnCgroupsAsRootAndItsLimitsReadOnly) {
  RunOut out;
  json j = run({"--cpus", "0.5"},
               {"sh", "-c",
                "cat /proc/self/cgroup; echo quota=$(cat /sys/fs/cgroup/cpu*/cpu.cfs_quota_us | "
                "head -1); echo 1000 > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo WROTE; "
                "echo max > /sys/fs/cgroup/cpu/cpu.cfs_quota_us && echo WROTE; true"},
               &out);
  EXPECT_EQ(j["exit"]["status"], 0) << out.err;
  std::istringstream lines(out.out);
  std::string line;
  int hierarchies = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("quota=", 0) == 0 || line.empty()) continue;
    if (line == "WROTE") ADD_FAILURE() << "a v1 limit file was writable from inside";
    const auto colon = line.rfind(':');
    ASSERT_NE(colon, std::string::npos) << line;
    EXPECT_EQ(line.substr(colon + 1), "/") << "the caller's cgroup path shows: " << line;
    ++hierarchies;
  }
  EXPECT_GE(hierarchies, 3) << out.out;
  EXPECT_NE(out.out.find("quota=50000\n"), std::string::npos) << out.out;
}

TEST_F(CgroupV1Run, ForcingV2OnAHybridHostFailsInOneLine) {
  std::string mi = cgprof::read_file("/proc/self/mountinfo");
  if (cgprof::detect_cgroup_layout(mi) != cgprof::CgroupLayout::kHybrid) GTEST_SKIP();
  RunOut r = cgprof({"run", "--rootfs", rootfs_, "--cgroup-manager", "v2", "--", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("hybrid host"), std::string::npos) << r.err;
}

// A non-root user's plain run falls back to emulated limits (tests/integration/emulated); asking
// for v1 explicitly still fails in one line.
TEST_F(CgroupV1Run, ANonRootUserForcingV1GetsOneLineSayingWhyAndNamingNoCgroup) {
  // setpriv: uid/gid 65534 without groups; the rootfs and the binary are readable by all.
  std::string cmd = "setpriv --reuid 65534 --regid 65534 --clear-groups " + env("CGPROF_BIN") +
                    " run --rootfs " + rootfs_ + " --cgroup-manager v1 -- true 2>&1; echo \"rc=$?\"";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  EXPECT_NE(out.find("rc=125"), std::string::npos) << out;
  std::string first = out.substr(0, out.find('\n'));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // the message and rc=
  EXPECT_EQ(first.rfind("cgprof: ", 0), 0u) << first;
  EXPECT_NE(first.find("needs root"), std::string::npos) << first;
  EXPECT_NE(first.find("--no-cgroup"), std::string::npos) << first;
}

}  // namespace
}  // namespace cgprof_vm
