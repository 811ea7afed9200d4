// Derived time series: rates from counter differences, gauge maxima, gaps, decimation.
#include <gtest/gtest.h>

#include <cmath>

#include "cgprof/report.hpp"
#include "synthetic_run.hpp"

using namespace cgprof;
using namespace cgprof::report;

TEST(Series, RatesFromCounterDifferences) {
  auto run = fixtures::synthetic_run("a");
  auto s = derive_series(run.samples, run.start_monotonic_ns);
  ASSERT_EQ(s.t_s.size(), 100u);
  EXPECT_NEAR(s.t_s[0], 0.011, 1e-12);  // end of the first 10 ms interval, 1 ms after origin
  for (std::size_t i = 0; i < s.t_s.size(); ++i) {
    EXPECT_NEAR(s[Track::kCpuCores][i], 1.5, 1e-9);
    EXPECT_NEAR(s[Track::kThrottledRatio][i], 0.25, 1e-9);
    EXPECT_NEAR(s[Track::kIoReadBps][i], 1e6, 1e-3);
    EXPECT_NEAR(s[Track::kIoWriteBps][i], 2e6, 1e-3);
    EXPECT_NEAR(s[Track::kCpuSomePercent][i], 10, 1e-9);
    EXPECT_NEAR(s[Track::kMemorySomePercent][i], 5, 1e-9);
    EXPECT_NEAR(s[Track::kIoSomePercent][i], 1, 1e-9);
    EXPECT_EQ(s[Track::kMemoryCurrent][i], (1u << 20) + 1024.0 * (i + 1));
    EXPECT_EQ(s[Track::kPids][i], 3);
  }
}

TEST(Series, DecimationKeepsGaugePeaksAndExactRates) {
  auto run = fixtures::synthetic_run("a");
  run.samples[37].memory_current = 50u << 20;  // a 10 ms spike must survive
  auto s = derive_series(run.samples, run.start_monotonic_ns, 100'000'000);  // 100 ms buckets
  ASSERT_EQ(s.t_s.size(), 10u);
  EXPECT_NEAR(s.t_s[0], 0.101, 1e-12);
  double peak = 0;
  for (double v : s[Track::kMemoryCurrent]) peak = std::max(peak, v);
  EXPECT_EQ(peak, 50u << 20);
  EXPECT_EQ(s[Track::kMemoryCurrent][3], 50u << 20);  // samples 31..40 -> bucket 3
  for (double v : s[Track::kCpuCores]) EXPECT_NEAR(v, 1.5, 1e-9);
}

TEST(Series, UnreadFilesBecomeGaps) {
  auto run = fixtures::synthetic_run("a", 5);
  run.samples[2].valid &= ~static_cast<uint64_t>(kFileCpuStat);
  auto s = derive_series(run.samples, run.start_monotonic_ns);
  ASSERT_EQ(s.t_s.size(), 4u);
  EXPECT_FALSE(std::isnan(s[Track::kCpuCores][0]));
  EXPECT_TRUE(std::isnan(s[Track::kCpuCores][1]));  // 1 -> 2
  EXPECT_TRUE(std::isnan(s[Track::kCpuCores][2]));  // 2 -> 3
  EXPECT_FALSE(std::isnan(s[Track::kCpuCores][3]));
  EXPECT_FALSE(std::isnan(s[Track::kMemoryCurrent][1]));
}

TEST(Series, CounterResetCountsAsZero) {
  auto run = fixtures::synthetic_run("a", 3);
  run.samples[2].cpu_usage_usec = 0;
  auto s = derive_series(run.samples, run.start_monotonic_ns);
  EXPECT_EQ(s[Track::kCpuCores][1], 0);
}

TEST(Series, FewerThanTwoSamplesGiveNothing) {
  auto run = fixtures::synthetic_run("a", 1);
  EXPECT_TRUE(derive_series(run.samples, 0).t_s.empty());
}

TEST(Series, MemoryLimitOnlyWhenNumeric) {
  RunResult r;
  EXPECT_FALSE(memory_limit_bytes(r));
  r.limits_written["memory.max"] = "max";
  EXPECT_FALSE(memory_limit_bytes(r));
  r.limits_written["memory.max"] = "4194304";
  EXPECT_EQ(memory_limit_bytes(r), 4194304.0);
}
