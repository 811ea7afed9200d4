// `cgprof run` end to end on a real cgroup v2 kernel, as root: limits enforced, results written,
// and no cgroup left behind after any run (normal, OOM, crash, Ctrl-C).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cgprof/sampler.hpp"
#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

using cgprof::read_samples;

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
  // Runs `sh -c script` (which prints "ready" once its traps are set) and sends cgprof `sig`
  // then; with `again_after`, sends it again once that text appeared on stdout or stderr.
  RunOut interrupted_run(const std::string& out, std::vector<std::string> opts,
                         const std::string& script, int sig, const std::string& again_after = "") {
    std::vector<std::string> a = {"run", "--rootfs", rootfs_, "--output", out};
    a.insert(a.end(), opts.begin(), opts.end());
    a.insert(a.end(), {"--", "/bin/sh", "-c", script});
    Background b(a);
    if (!b.wait_for_output("ready")) return RunOut{-1, "", "the workload never started"};
    ::kill(b.pid(), sig);
    if (!again_after.empty()) {
      if (!b.wait_for_output(again_after, true))
        return RunOut{-1, "", "never printed \"" + again_after + "\" after the first signal"};
      ::kill(b.pid(), sig);
    }
    return b.finish();
  }
  std::string rootfs_;
};

using cgprof::testing_util::exists;

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
  // Complete: samples written up to the kill, sampler statistics and totals present.
  EXPECT_GT(j["wall_seconds"].get<double>(), 0.0);
  EXPECT_GE(j["totals"]["memory"]["peak_bytes"].get<uint64_t>(), 60u << 20);
  uint64_t samples = j["sampler"]["samples"];
  EXPECT_GT(samples, 0u);
  ASSERT_TRUE(exists(out + "/samples.bin"));
  EXPECT_EQ(
      read_samples(AT_FDCWD, out + "/samples.bin").size() + j["sampler"]["dropped"].get<uint64_t>(),
      samples);
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

TEST_F(RunVm, TenKilohertzRunRecordsTheExpectedNumberOfSamples) {
  std::string out = fresh_output_dir("10khz");
  RunOut r = run(out, {"--rate", "10000", "--cpus", "0.5"}, {"/bin/cpu-burn", "-d", "3s", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_run_json(out);
  const auto& sm = j["sampler"];
  uint64_t taken = sm["samples"], missed = sm["missed_deadlines"], dropped = sm["dropped"];
  std::vector<cgprof::Sample> samples = read_samples(AT_FDCWD, out + "/samples.bin");
  ASSERT_GE(samples.size(), 2u);
  EXPECT_EQ(samples.size() + dropped, taken);
  EXPECT_EQ(sm["read_errors"], 0u);
  // Every 100 us deadline from the start to the last sample is a sample or a counted miss.
  uint64_t origin =
      cgprof::SamplesReader(AT_FDCWD, out + "/samples.bin").header().start_monotonic_ns;
  double periods = (samples.back().t_ns - origin) * 10000 / 1e9;
  EXPECT_LE(static_cast<double>(taken + missed) - 1, periods + 0.01);
  EXPECT_GT(static_cast<double>(taken + missed), periods);
  std::printf(
      "cgprof run --rate 10000 (3 s): %llu samples, %llu missed, %llu dropped, %.2f%% of a core\n",
      (unsigned long long)taken, (unsigned long long)missed, (unsigned long long)dropped,
      sm["overhead_percent_of_core"].get<double>());
}

TEST_F(RunVm, ACrashingWorkloadStillWritesItsResult) {
  std::string out = fresh_output_dir("crash");
  RunOut r = run(out, {}, {"/bin/sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(r.code, 139) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["status"], 139);
  EXPECT_EQ(j["exit"]["signal"], 11);
}

TEST_F(RunVm, SigintReachesASleepingWorkloadTheResultIsWrittenAndTheCgroupRemoved) {
  std::string out = fresh_output_dir("sigint");
  RunOut r = interrupted_run(out, {}, "echo ready; exec sleep 600", SIGINT);
  EXPECT_EQ(r.code, 130) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["interrupted"], true);
  EXPECT_EQ(j["exit"]["status"], 130);
  EXPECT_EQ(j["exit"]["signal"], SIGINT) << "sleep died of the SIGINT passed on, not a kill";
}

// Workloads for the Ctrl-C tests: print "ready" once the trap is set, then idle.
const char* const kTrapsSigint =
    "trap 'echo trapped-sigint; exit 3' INT; echo ready; while :; do sleep 1; done";
const char* const kIgnoresSigint = "trap '' INT; echo ready; while :; do sleep 1; done";

TEST_F(RunVm, FirstSigintIsPassedToTheWorkloadWhichExitsByItself) {
  std::string out = fresh_output_dir("sigint-trap");
  RunOut r = interrupted_run(out, {"--stop-timeout", "-1"}, kTrapsSigint, SIGINT);
  EXPECT_EQ(r.code, 130) << r.err;
  EXPECT_NE(r.out.find("trapped-sigint"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("passed to the workload"), std::string::npos) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["status"], 130);
  EXPECT_EQ(j["exit"]["interrupted"], true);
  EXPECT_EQ(j["exit"]["exit_code"], 3) << "the workload's own exit, after its trap ran";
  EXPECT_TRUE(j["exit"]["killed_by"].is_null()) << j["exit"];
  EXPECT_GT(j["sampler"]["samples"].get<uint64_t>(), 0u);
}

TEST_F(RunVm, SigtermIsPassedOnAndGives143) {
  std::string out = fresh_output_dir("sigterm");
  RunOut r = interrupted_run(
      out, {}, "trap 'echo trapped-sigterm; exit 0' TERM; echo ready; while :; do sleep 1; done",
      SIGTERM);
  EXPECT_EQ(r.code, 143) << r.err;
  EXPECT_NE(r.out.find("trapped-sigterm"), std::string::npos) << r.out;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["exit_code"], 0);
  EXPECT_EQ(j["exit"]["interrupted"], true);
}

TEST_F(RunVm, AWorkloadIgnoringSigintIsKilledWhenTheStopTimeoutRunsOut) {
  std::string out = fresh_output_dir("sigint-timeout");
  RunOut r = interrupted_run(out, {"--stop-timeout", "1"}, kIgnoresSigint, SIGINT);
  EXPECT_EQ(r.code, 130) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["interrupted"], true);
  EXPECT_EQ(j["exit"]["killed_by"], "stop_timeout");
  EXPECT_EQ(j["exit"]["signal"], 9);
  EXPECT_NE(r.err.find("killed after the stop timeout"), std::string::npos) << r.err;
}

TEST_F(RunVm, ASecondSigintKillsAtOnce) {
  std::string out = fresh_output_dir("sigint-twice");
  // No stop timeout: only the second signal can end this run.
  RunOut r = interrupted_run(out, {"--stop-timeout", "-1"}, kIgnoresSigint, SIGINT,
                             "passed to the workload");
  EXPECT_EQ(r.code, 130) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["killed_by"], "second_signal");
  EXPECT_EQ(j["exit"]["signal"], 9);
}

// docker's sig-proxy passes every signal on; only the stop signals (INT, TERM, HUP) start the
// stop rule. SIGUSR1 twice must reach the workload twice, and must neither kill cgprof (its
// default action) nor count as an interrupt.
TEST_F(RunVm, SigusrIsPassedOnEveryTimeAndIsNotAnInterrupt) {
  std::string out = fresh_output_dir("sigusr1");
  RunOut r = interrupted_run(
      out, {},
      "n=0; trap 'n=$((n+1)); echo usr1-$n; [ $n = 2 ] && exit 0' USR1; echo ready; "
      "while :; do sleep 1; done",
      SIGUSR1, "usr1-1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("usr1-2"), std::string::npos) << r.out;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["exit_code"], 0);
  EXPECT_EQ(j["exit"]["interrupted"], false);
}

TEST_F(RunVm, OnATerminalALiveStatusLineThenTheSummaryTable) {
  std::string out = fresh_output_dir("tty");
  RunOut r = cgprof_on_tty({"run", "--rootfs", rootfs_, "--output", out, "--cpus", "0.5", "--",
                            "/bin/cpu-burn", "-d", "3s", "-q"});
  ASSERT_EQ(r.code, 0) << r.out;
  // The status line is redrawn in place ("\r\033[K") every 500 ms while the workload runs.
  size_t status = r.out.find("\r\033[K");
  ASSERT_NE(status, std::string::npos) << r.out;
  std::string line = r.out.substr(status + 4, r.out.find_first_of("\r\n", status + 4) - status - 4);
  EXPECT_NE(line.find("cores"), std::string::npos) << line;
  EXPECT_NE(line.find("mem "), std::string::npos) << line;
  EXPECT_NE(line.find("pids "), std::string::npos) << line;
  // Then the summary table, after the status line was cleared.
  size_t exit_row = r.out.find("exit", status);
  ASSERT_NE(exit_row, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exited 0", exit_row), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CPU use", exit_row), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sampler", exit_row), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("results in " + out), std::string::npos) << r.out;
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

// A user without a writable cgroup on a pure v2 host (uid 1000 in root's own cgroup: no
// delegation) gets the emulated backend by itself, with one notice line, and its quota holds.
TEST(RunVmNoDelegation, AnUnprivilegedUserFallsBackToTheEmulatedBackend) {
  ASSERT_EQ(::geteuid(), 0u);
  std::string out = fresh_output_dir("no-delegation");
  RunOut r = cgprof_as(1000, {"run", "--rootfs", test_rootfs(), "--output", out, "--cpus", "0.5",
                              "--", "/bin/cpu-burn", "-t", "2", "-d", "2s", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["cgroup"]["backend"], "emulated") << j["cgroup"];
  EXPECT_NE(r.err.find("emulat"), std::string::npos) << r.err;
  double cores = j["totals"]["cpu"]["total_seconds"].get<double>() / j["wall_seconds"].get<double>();
  EXPECT_LE(cores, 0.6) << "a two-thread burner under an emulated --cpus 0.5";
  EXPECT_TRUE(leftover_cgroups().empty());
}

}  // namespace
}  // namespace cgprof_vm
