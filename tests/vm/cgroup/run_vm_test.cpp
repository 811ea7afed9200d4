// `cgprof run` end to end on a real cgroup v2 kernel, as root: limits enforced, results written,
// and no cgroup left behind after any run (normal, OOM, crash, Ctrl-C).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

class RunVm : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u);
    rootfs_ = test_rootfs();
  }
  void TearDown() override {
    std::vector<std::string> left = leftover_cgroups();
    EXPECT_TRUE(left.empty()) << "cgroup left behind: " << left.front();
    for (const auto& d : left) std::system(("rmdir " + d + "/* " + d + " 2>/dev/null").c_str());
  }
  RunOut run(const std::string& out, std::vector<std::string> opts, std::vector<std::string> cmd) {
    std::vector<std::string> a = {"run", "--rootfs", rootfs_, "--output", out};
    a.insert(a.end(), opts.begin(), opts.end());
    a.push_back("--");
    a.insert(a.end(), cmd.begin(), cmd.end());
    return cgprof(a);
  }
  std::string rootfs_;
};

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

TEST_F(RunVm, HalfACpuGivesAboutHalfACoreAndThrottles) {
  std::string out = fresh_output_dir("cpus");
  RunOut r = run(out, {"--cpus", "0.5"}, {"/bin/cpu-burn", "-d", "4s", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["device"]["limits_written"]["cpu.max"], "50000 100000");
  double cores = j["totals"]["cpu"]["avg_cores"];
  std::printf("--cpus 0.5: avg %.3f cores, nr_throttled %llu\n", cores,
              static_cast<unsigned long long>(j["totals"]["cpu"]["nr_throttled"]));
  EXPECT_GT(cores, 0.3);
  EXPECT_LT(cores, 0.7);
  EXPECT_GT(j["totals"]["cpu"]["nr_throttled"].get<uint64_t>(), 0u);
}

TEST_F(RunVm, OneCpuCpusetCapsATwoThreadBurnerAtOneCore) {
  std::string out = fresh_output_dir("cpuset");
  RunOut r = run(out, {"--cpuset", "0"}, {"/bin/cpu-burn", "-t", "2", "-d", "4s", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["device"]["limits_written"]["cpuset.cpus"], "0");
  double cores = j["totals"]["cpu"]["avg_cores"];
  std::printf("--cpuset 0, 2 threads: avg %.3f cores\n", cores);
  EXPECT_GT(cores, 0.6);
  EXPECT_LT(cores, 1.15);
}

TEST_F(RunVm, AllocatingPastTheMemoryLimitIsOomKilledWithACompleteResult) {
  std::string out = fresh_output_dir("oom");
  RunOut r = run(out, {"--memory", "64m"}, {"/bin/mem-alloc", "-s", "160m", "-q"});
  EXPECT_EQ(r.code, 137) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["device"]["limits_written"]["memory.max"], "67108864");
  EXPECT_EQ(j["exit"]["status"], 137);
  EXPECT_EQ(j["exit"]["oom_killed"], true);
  EXPECT_GE(j["totals"]["memory"]["events"]["oom_kill"].get<uint64_t>(), 1u);
  EXPECT_TRUE(exists(out + "/samples.bin"));
  EXPECT_NE(r.err.find("OOM"), std::string::npos) << r.err;
}

TEST_F(RunVm, MemoryPeakMatchesAKnownAllocation) {
  std::string out = fresh_output_dir("peak");
  const uint64_t n = 48ull << 20;
  RunOut r = run(out, {}, {"/bin/mem-alloc", "-s", "48m", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["totals"]["memory"]["peak_source"], "memory.peak");
  uint64_t peak = j["totals"]["memory"]["peak_bytes"];
  std::printf("memory.peak %llu for 48 MiB allocated: +%lld bytes (init, binary, page tables)\n",
              static_cast<unsigned long long>(peak), static_cast<long long>(peak - n));
  EXPECT_GE(peak, n);
  EXPECT_LT(peak, n + (3u << 19)) << "more than 1.5 MiB over the allocation";
}

TEST_F(RunVm, PidsLimitStopsAForkBomb) {
  std::string out = fresh_output_dir("pids");
  RunOut r = run(out, {"--pids-limit", "20"}, {"/bin/fork-heavy", "--bomb", "500", "-q"});
  // fork-heavy exits 3 when fork() failed, which is what the limit does.
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("errno=EAGAIN"), std::string::npos) << r.out;
  auto j = read_run_json(out);
  EXPECT_EQ(j["device"]["limits_written"]["pids.max"], "20");
  EXPECT_LE(j["totals"]["pids"]["peak"].get<uint64_t>(), 20u);
}

TEST_F(RunVm, ReadingAFileShowsInIoStatAndReadBpsSlowsIt) {
  std::string dir = env("CGPROF_VM_SCRATCH_DIR"), dev = env("CGPROF_VM_SCRATCH_DEV");
  if (dir.empty()) GTEST_SKIP() << "no scratch disk";
  const uint64_t n = 16ull << 20;
  std::string file = dir + "/io-16m";
  ASSERT_EQ(std::system(
                ("dd if=/dev/urandom of=" + file + " bs=1M count=16 2>/dev/null && sync").c_str()),
            0);
  auto read_run = [&](const std::string& tag, std::vector<std::string> opts) {
    std::system("echo 3 > /proc/sys/vm/drop_caches");
    std::string out = fresh_output_dir(tag);
    opts.insert(opts.end(), {"-v", dir + ":/data:ro"});
    RunOut r = run(out, opts, {"/bin/file-read", "-q", "/data/io-16m"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    return read_run_json(out);
  };
  auto free_run = read_run("io", {});
  uint64_t rbytes = free_run["totals"]["io"]["read_bytes"];
  EXPECT_GE(rbytes, n);
  EXPECT_LT(rbytes, n + (4u << 20));
  const double limit = 4 << 20;  // 4 MiB/s: 16 MiB takes about 4 s
  auto slow = read_run("io-slow", {"--device-read-bps", dev + ":4m"});
  std::string io_max = slow["device"]["limits_written"]["io.max"];
  EXPECT_NE(io_max.find("rbps=4194304"), std::string::npos) << io_max;
  double rate = static_cast<double>(slow["totals"]["io"]["read_bytes"].get<uint64_t>()) /
                slow["wall_seconds"].get<double>();
  double free_rate = static_cast<double>(rbytes) / free_run["wall_seconds"].get<double>();
  std::printf("io: unlimited %.1f MiB/s, --device-read-bps 4m: %.2f MiB/s\n", free_rate / (1 << 20),
              rate / (1 << 20));
  EXPECT_GT(rate, 0.5 * limit);
  EXPECT_LT(rate, 1.25 * limit);
  ::unlink(file.c_str());
}

TEST_F(RunVm, ACrashingWorkloadStillWritesItsResult) {
  std::string out = fresh_output_dir("crash");
  RunOut r = run(out, {}, {"/bin/sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(r.code, 139) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["status"], 139);
  EXPECT_EQ(j["exit"]["signal"], 11);
}

TEST_F(RunVm, SigintToCgprofKillsTheRunWritesTheResultAndRemovesTheCgroup) {
  std::string out = fresh_output_dir("sigint");
  Background b({"run", "--rootfs", rootfs_, "--output", out, "--", "/bin/sleep", "600"});
  // Wait (bounded) until the workload is in its cgroup.
  bool running = false;
  for (int i = 0; i < 1200 && !running; ++i) {
    running = !populated_run_cgroups().empty();
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(running) << "the run never started";
  ::kill(b.pid(), SIGINT);
  RunOut r = b.finish();
  EXPECT_EQ(r.code, 130) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["interrupted"], true);
  EXPECT_EQ(j["exit"]["status"], 130);
}

TEST_F(RunVm, CommandNotFoundIs127AndLeavesNoCgroup) {
  std::string out = fresh_output_dir("enoent");
  RunOut r = run(out, {}, {"/bin/no-such-program"});
  EXPECT_EQ(r.code, 127) << r.err;
}

TEST_F(RunVm, BadRateIsOneClearError) {
  RunOut r = cgprof({"run", "--rootfs", rootfs_, "--rate", "0", "--", "/bin/true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cgprof_vm
