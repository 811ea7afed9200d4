#include <gtest/gtest.h>

#include "cgprof/error.hpp"
#include "cgprof/sampler.hpp"

namespace cgprof {
namespace {

TEST(SampleGroups, ParsesListsAllAndRoundTrips) {
  EXPECT_EQ(parse_sample_groups("cpu"), unsigned{kSampleCpu});
  EXPECT_EQ(parse_sample_groups("cpu,memory, io"),
            unsigned{kSampleCpu | kSampleMemory | kSampleIo});
  EXPECT_EQ(parse_sample_groups("all"), unsigned{kSampleAll});
  EXPECT_EQ(format_sample_groups(kSampleAll), "cpu,memory,io,pids,psi,net");
  EXPECT_EQ(parse_sample_groups(format_sample_groups(kSamplePids | kSampleNet)),
            unsigned{kSamplePids | kSampleNet});
}

TEST(SampleGroups, UnknownOrEmptyNamesTheProblem) {
  try {
    parse_sample_groups("cpu,disk");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("\"disk\""), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("memory"), std::string::npos) << "lists the valid groups";
  }
  EXPECT_THROW(parse_sample_groups(""), Error);
  EXPECT_THROW(parse_sample_groups("cpu,,io"), Error);
}

TEST(SampleLayout, FieldNamesMatchTheStruct) {
  EXPECT_STREQ(kSampleFieldNames[0], "t_ns");
  EXPECT_STREQ(kSampleFieldNames[kSampleFieldCount - 1], "net_tx_packets");
  Sample s{};
  s.pids_current = 77;
  const uint64_t* w = reinterpret_cast<const uint64_t*>(&s);
  unsigned idx = 0;
  for (unsigned i = 0; i < kSampleFieldCount; ++i)
    if (std::string(kSampleFieldNames[i]) == "pids_current") idx = i;
  EXPECT_EQ(w[idx], 77u);
}

TEST(SampleLayout, EveryFieldButTimeAndValidityBelongsToAGroup) {
  for (unsigned i = 0; i < kSampleFieldCount; ++i) {
    std::string name = kSampleFieldNames[i];
    bool always = name == "t_ns" || name == "valid";
    EXPECT_EQ(sample_field_group(i) == 0, always) << name;
    if (name.find("_some_usec") != std::string::npos ||
        name.find("_full_usec") != std::string::npos) {
      EXPECT_EQ(sample_field_group(i), unsigned{kSamplePsi}) << name;
    } else if (name.rfind("memory_", 0) == 0) {
      EXPECT_EQ(sample_field_group(i), unsigned{kSampleMemory}) << name;
    }
  }
  EXPECT_EQ(sample_fields_for(kSampleAll).size(), kSampleFieldCount);
  std::vector<unsigned> pids = sample_fields_for(kSamplePids);
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_STREQ(kSampleFieldNames[pids[2]], "pids_current");
}

TEST(JitterHistogram, PercentilesWithinBucketResolution) {
  JitterHistogram h;
  for (uint64_t i = 1; i <= 1000; ++i) h.add(i * 1000);  // 1 us .. 1 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1000000u);
  uint64_t p50 = h.percentile(0.5), p99 = h.percentile(0.99);
  EXPECT_GE(p50, 500000u);
  EXPECT_LE(p50, 500000u * 107 / 100);
  EXPECT_GE(p99, 990000u);
  EXPECT_LE(p99, 1000000u);  // capped at the true max
  JitterHistogram small;
  small.add(3);
  small.add(3);
  small.add(0);
  EXPECT_EQ(small.percentile(0.5), 3u);
  EXPECT_EQ(small.percentile(0.01), 0u);
  EXPECT_EQ(JitterHistogram().percentile(0.99), 0u);
}

Sample cpu_mem(uint64_t t_ms, uint64_t usage_usec, uint64_t mem) {
  Sample s{};
  s.t_ns = t_ms * 1000000;
  s.valid = kFileCpuStat | kFileMemoryCurrent;
  s.cpu_usage_usec = usage_usec;
  s.memory_current = mem;
  return s;
}

TEST(SampleSummarizer, PeakOver100msWindowFindsTheBurst) {
  SampleSummarizer sum;
  // 10 ms samples over 1 s: idle, then 200 ms at 2 cores, then 0.5 cores.
  uint64_t usage = 0;
  for (uint64_t t = 0; t <= 1000; t += 10) {
    sum.add(cpu_mem(t, usage, 100));
    double cores = (t >= 300 && t < 500) ? 2.0 : (t >= 500 ? 0.5 : 0.0);
    usage += static_cast<uint64_t>(cores * 10000);  // 10 ms worth of usec
  }
  SampleSummary s = sum.summary();
  EXPECT_EQ(s.samples, 101u);
  EXPECT_TRUE(s.peak_window_complete);
  EXPECT_NEAR(s.peak_cores_100ms, 2.0, 1e-9);
}

// A sampler preempted between its timestamp and its cpu.stat read pairs an early time with a
// late usage. The read's end (cpu_read_ns) bounds the span, so the peak stays within what the
// CPUs could do: 2 cores busy throughout, and the sample stamped at 200 ms read cpu.stat only at
// 260 ms (the sampler then skips the deadlines it missed).
TEST(SampleSummarizer, PreemptedReadDoesNotInflateThePeak) {
  SampleSummarizer sum;
  for (uint64_t t = 0; t <= 400; t += (t == 200 ? 70 : 10)) {
    uint64_t read_ms = t == 200 ? 60 : 0;  // usage read at t + read_ms
    Sample s = cpu_mem(t, (t + read_ms) * 2000, 100);
    s.cpu_read_ns = read_ms * 1000000;
    sum.add(s);
  }
  SampleSummary s = sum.summary();
  EXPECT_TRUE(s.peak_window_complete);
  EXPECT_LE(s.peak_cores_100ms, 2.0 + 1e-9);
  EXPECT_NEAR(s.peak_cores_100ms, 2.0, 1e-9);
}

// Without a read span (files written before cpu_read_ns existed) the same stream overshoots: this
// is what the span corrects.
TEST(SampleSummarizer, WithoutReadSpanThePreemptedSampleOvershoots) {
  SampleSummarizer sum;
  for (uint64_t t = 0; t <= 400; t += (t == 200 ? 70 : 10)) {
    uint64_t read_ms = t == 200 ? 60 : 0;
    sum.add(cpu_mem(t, (t + read_ms) * 2000, 100));
  }
  EXPECT_GT(sum.summary().peak_cores_100ms, 2.5);
}

TEST(SampleSummarizer, TimeWeightedMemoryAverageAndMaxima) {
  SampleSummarizer sum;
  sum.add(cpu_mem(0, 0, 100));
  sum.add(cpu_mem(10, 0, 100));
  sum.add(cpu_mem(20, 0, 300));  // ramp 100->300 over 10 ms
  sum.add(cpu_mem(100, 0, 300));
  Sample anon{};
  anon.t_ns = 100'000'000;
  anon.valid = kFileMemoryStat | kFilePidsCurrent;
  anon.memory_anon = 5000;
  anon.memory_file = 70;
  anon.pids_current = 3;
  sum.add(anon);
  SampleSummary s = sum.summary();
  // Trapezoids: 10 ms at 100, 10 ms averaging 200, 80 ms at 300 over 100 ms.
  EXPECT_NEAR(s.memory_avg_bytes, (10 * 100 + 10 * 200 + 80 * 300) / 100.0, 1e-6);
  EXPECT_EQ(s.memory_max_bytes, 300u);
  EXPECT_EQ(s.anon_max_bytes, 5000u);
  EXPECT_EQ(s.file_max_bytes, 70u);
  EXPECT_EQ(s.pids_max, 3u);
}

TEST(SampleSummarizer, ShortRunFallsBackToWholeRunAverage) {
  SampleSummarizer sum;
  sum.add(cpu_mem(0, 0, 1));
  sum.add(cpu_mem(50, 25000, 1));  // 25 ms CPU in 50 ms
  SampleSummary s = sum.summary();
  EXPECT_FALSE(s.peak_window_complete);
  EXPECT_NEAR(s.peak_cores_100ms, 0.5, 1e-9);
}

TEST(SampleSummarizer, SamplesWithoutCpuDoNotCountAsIdle) {
  SampleSummarizer sum;
  Sample nocpu{};
  nocpu.valid = kFileMemoryCurrent;
  for (uint64_t t = 0; t < 300; t += 10) {
    nocpu.t_ns = t * 1000000;
    sum.add(nocpu);
  }
  EXPECT_EQ(sum.summary().peak_cores_100ms, 0.0);
  EXPECT_EQ(sum.summary().samples, 30u);
}

}  // namespace
}  // namespace cgprof
