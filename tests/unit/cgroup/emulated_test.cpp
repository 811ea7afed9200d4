// The emulated backend's pure parts: /proc parsers, the CFS-like quota accounting, and one pass
// of ProcTree over this process's own /proc.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {
namespace {

TEST(ProcPidStat, ReadsFieldsAfterACommWithSpacesAndParentheses) {
  std::string s =
      "4242 (a b) c)) R 1 4242 4242 0 -1 4194560 100 7 2 1 350 25 40 5 20 0 3 0 123456 "
      "10485760 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcPidStat st;
  ASSERT_TRUE(parse_proc_pid_stat(s.data(), s.size(), &st));
  EXPECT_EQ(st.state, 'R');
  EXPECT_EQ(st.minflt, 100u);
  EXPECT_EQ(st.cminflt, 7u);
  EXPECT_EQ(st.majflt, 2u);
  EXPECT_EQ(st.cmajflt, 1u);
  EXPECT_EQ(st.utime, 350u);
  EXPECT_EQ(st.stime, 25u);
  EXPECT_EQ(st.cutime, 40u);
  EXPECT_EQ(st.cstime, 5u);
  EXPECT_EQ(st.num_threads, 3u);
  EXPECT_EQ(st.starttime, 123456u);
  EXPECT_EQ(st.rss_pages, 2560u);
}

TEST(ProcPidStat, RejectsTextCutShort) {
  std::string s = "4242 (x) R 1 4242 4242 0 -1 4194560 100 7 2 1 350";
  ProcPidStat st;
  EXPECT_FALSE(parse_proc_pid_stat(s.data(), s.size(), &st));
  EXPECT_FALSE(parse_proc_pid_stat("", 0, &st));
}

TEST(ProcStatm, ReadsSizeResidentShared) {
  std::string s = "2000 1500 300 10 0 900 0\n";
  ProcStatm m;
  ASSERT_TRUE(parse_proc_statm(s.data(), s.size(), &m));
  EXPECT_EQ(m.size, 2000u);
  EXPECT_EQ(m.resident, 1500u);
  EXPECT_EQ(m.shared, 300u);
}

TEST(ProcIo, ReadsEveryKeyAndRejectsAMissingOne) {
  std::string s =
      "rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 8192\n"
      "cancelled_write_bytes: 0\n";
  ProcIo io;
  ASSERT_TRUE(parse_proc_io(s.data(), s.size(), &io));
  EXPECT_EQ(io.rchar, 10u);
  EXPECT_EQ(io.syscw, 4u);
  EXPECT_EQ(io.read_bytes, 4096u);
  EXPECT_EQ(io.write_bytes, 8192u);
  std::string cut = s.substr(0, s.find("write_bytes"));
  EXPECT_FALSE(parse_proc_io(cut.data(), cut.size(), &io));
}

// A container that is always runnable on `cores` cores, checked when the throttle asks, with its
// CPU counter in 10 ms ticks: the long-run average holds the quota.
double simulate(double quota, unsigned cores, uint64_t seconds, CpuThrottle** out = nullptr) {
  const uint64_t period = 100'000'000, tick = 10'000'000;
  uint64_t now = 0, cpu = 0;
  static CpuThrottle* keep = nullptr;
  delete keep;
  keep = new CpuThrottle(quota, period, cores, now, 0);
  CpuThrottle& t = *keep;
  bool running = true;
  while (now < seconds * 1'000'000'000ull) {
    CpuThrottle::Decision d = t.update(now, cpu / tick * tick);
    // 300 us of reaction time after each check, as a loaded host gives.
    uint64_t next = d.next_ns + 300'000;
    if (running) cpu += (next - now) * cores;
    running = d.run;
    now = next;
  }
  if (out) *out = keep;
  return static_cast<double>(cpu) / static_cast<double>(now);
}

TEST(CpuThrottle, HoldsTheAverageToTheQuotaFromAQuarterToOneAndAHalfCores) {
  for (double quota : {0.25, 0.5, 1.0, 1.5}) {
    double avg = simulate(quota, 2, 20);
    EXPECT_NEAR(avg, quota, 0.02 * quota) << "quota " << quota;
  }
}

TEST(CpuThrottle, CountsThrottledPeriodsAndStoppedTime) {
  CpuThrottle* t = nullptr;
  simulate(0.5, 1, 10, &t);
  // 100 periods of 100 ms, stopped for about half of the time. With 10 ms clock ticks, CPU used
  // late in a period may only be seen in the next one, which repays it: most periods, not all,
  // are throttled.
  EXPECT_NEAR(static_cast<double>(t->nr_periods()), 100.0, 2.0);
  EXPECT_GE(t->nr_throttled(), 50u);
  EXPECT_NEAR(static_cast<double>(t->throttled_ns()) / 1e9, 5.0, 0.5);
}

TEST(CpuThrottle, AnIdleContainerIsNeverThrottledNorCounted) {
  CpuThrottle t(0.5, 100'000'000, 2, 0, 0);
  for (uint64_t now = 0; now < 1'000'000'000; now += 5'000'000) {
    CpuThrottle::Decision d = t.update(now, 0);
    EXPECT_TRUE(d.run);
  }
  EXPECT_EQ(t.nr_periods(), 0u);
  EXPECT_EQ(t.nr_throttled(), 0u);
}

TEST(CpuThrottle, OvershootIsRepaidInTheNextPeriod) {
  // 0.5 cores of 100 ms: 50 ms of budget; 150 ms used in the first period.
  CpuThrottle t(0.5, 100'000'000, 2, 0, 0);
  EXPECT_FALSE(t.update(60'000'000, 150'000'000).run);
  // 100 ms of debt: periods 2 and 3 repay 50 ms each (stopped); period 4 runs again, so the
  // 150 ms took 300 ms of wall time, as 0.5 cores allow.
  EXPECT_FALSE(t.update(100'000'000, 150'000'000).run);
  EXPECT_FALSE(t.update(150'000'000, 150'000'000).run);
  EXPECT_FALSE(t.update(200'000'000, 150'000'000).run);
  EXPECT_TRUE(t.update(300'000'000, 150'000'000).run);
  EXPECT_EQ(t.nr_throttled(), 3u);
}

TEST(ProcTree, OnePassOverTheHostsProcCountsThisProcess) {
  UniqueFd proc = open_at(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY);
  ProcTree tree(proc.get(), kProcStat | kProcStatm);
  ProcTotals t;
  tree.read(&t);
  EXPECT_TRUE(t.has_stat);
  EXPECT_GE(t.processes, 1u);
  EXPECT_GE(t.tasks, t.processes);
  EXPECT_GT(t.rss_pages, 0u);
  EXPECT_GT(t.user_ticks + t.system_ticks, 0u);
  // A second pass reuses the open files and sees the same processes (give or take a few).
  ProcTotals again;
  tree.read(&again);
  EXPECT_NEAR(static_cast<double>(again.processes), static_cast<double>(t.processes),
              0.2 * static_cast<double>(t.processes) + 5);
}

}  // namespace
}  // namespace cgprof
