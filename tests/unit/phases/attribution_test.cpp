#include <gtest/gtest.h>

#include "cgprof/phases.hpp"

namespace cgprof {
namespace {

// A sample at t ms with CPU usage growing 1 ms per ms and memory `mem`.
Sample at_ms(uint64_t t, uint64_t mem, uint64_t valid = kFileCpuStat | kFileMemoryCurrent |
                                                      kFileIoStat) {
  Sample s{};
  s.t_ns = t * 1000000;
  s.valid = valid;
  s.cpu_usage_usec = t * 1000;
  s.cpu_throttled_usec = t * 100;
  s.memory_current = mem;
  s.io_rbytes = t * 10;
  return s;
}

PhaseOccurrence occ_ms(uint64_t a, uint64_t b) {
  PhaseOccurrence o;
  o.start_ns = a * 1000000;
  o.end_ns = b * 1000000;
  return o;
}

TEST(PhaseAttributor, InterpolatesCountersAtBothEnds) {
  std::vector<PhaseOccurrence> occ = {occ_ms(15, 35), occ_ms(35, 38)};
  PhaseAttributor a(occ);
  for (uint64_t t = 0; t <= 50; t += 10) a.add(at_ms(t, t == 20 ? 500 : 100));
  a.finish();
  ASSERT_TRUE(occ[0].cpu_seconds);
  EXPECT_NEAR(*occ[0].cpu_seconds, 0.020, 1e-9);
  EXPECT_NEAR(*occ[0].throttled_seconds, 0.002, 1e-9);
  EXPECT_EQ(*occ[0].io_read_bytes, 200u);
  EXPECT_EQ(*occ[0].memory_peak_bytes, 500u);
  // No sample inside the second one: the memory when it started.
  EXPECT_EQ(*occ[1].memory_peak_bytes, 100u);
  EXPECT_NEAR(*occ[1].cpu_seconds, 0.003, 1e-9);
}

TEST(PhaseAttributor, BoundariesOutsideTheSamplesUseTheNearestSample) {
  std::vector<PhaseOccurrence> occ = {occ_ms(0, 12), occ_ms(45, 90)};
  PhaseAttributor a(occ);
  for (uint64_t t = 10; t <= 50; t += 10) a.add(at_ms(t, 7));
  a.finish();
  EXPECT_NEAR(*occ[0].cpu_seconds, 0.002, 1e-9);  // from 10 ms (first sample) to 12 ms
  EXPECT_NEAR(*occ[1].cpu_seconds, 0.005, 1e-9);  // from 45 ms to the last sample at 50 ms
}

TEST(PhaseAttributor, CountersNobodySampledStayUnset) {
  std::vector<PhaseOccurrence> occ = {occ_ms(5, 25)};
  PhaseAttributor a(occ);
  for (uint64_t t = 0; t <= 30; t += 10) a.add(at_ms(t, 1, kFileMemoryCurrent));
  a.finish();
  EXPECT_FALSE(occ[0].cpu_seconds);
  EXPECT_FALSE(occ[0].io_read_bytes);
  EXPECT_TRUE(occ[0].memory_peak_bytes);
}

TEST(PhaseAttributor, NoSamplesNoCounters) {
  std::vector<PhaseOccurrence> occ = {occ_ms(5, 25)};
  PhaseAttributor a(occ);
  a.finish();
  EXPECT_FALSE(occ[0].cpu_seconds);
  EXPECT_FALSE(occ[0].memory_peak_bytes);
}

}  // namespace
}  // namespace cgprof
