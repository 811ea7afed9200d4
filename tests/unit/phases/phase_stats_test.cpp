#include <gtest/gtest.h>

#include "cgprof/error.hpp"
#include "cgprof/phases.hpp"
#include "cgprof/result.hpp"

namespace cgprof {
namespace {

TEST(Distribution, PercentilesInterpolateAndStddevIsTheSampleOne) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  Distribution d = distribution_of(v);
  EXPECT_EQ(d.min, 1);
  EXPECT_EQ(d.max, 5);
  EXPECT_EQ(d.mean, 3);
  EXPECT_EQ(d.p50, 3);
  EXPECT_NEAR(d.p90, 4.6, 1e-12);
  EXPECT_NEAR(d.stddev, 1.5811388, 1e-6);
  std::vector<double> one = {2};
  EXPECT_EQ(distribution_of(one).stddev, 0);
}

MarkLog load_and_infer() {
  MarkLog log;
  log.add_line(0, "load");
  for (int i = 0; i < 5; ++i) log.add_line(300 + 200 * static_cast<uint64_t>(i), "infer");
  return log;
}

TEST(SummarizePhases, CountsTotalsAndFlagsThePhaseOpenAtExit) {
  MarkLog log = load_and_infer();
  auto occ = phase_occurrences(log, 1300);
  for (auto& o : occ) o.cpu_seconds = 1e-9 * static_cast<double>(o.end_ns - o.start_ns) / 2;
  PhasesResult p = summarize_phases(log, occ);
  ASSERT_EQ(p.phases.size(), 2u);
  EXPECT_EQ(p.phases[0].name, "load");
  EXPECT_EQ(p.phases[1].count, 5u);
  EXPECT_EQ(p.phases[1].closed_at_exit, 1u);
  EXPECT_NEAR(p.phases[1].wall_seconds, 1000e-9, 1e-15);
  EXPECT_NEAR(p.phases[1].wall.mean, 200e-9, 1e-15);
  ASSERT_TRUE(p.phases[1].cpu);
  EXPECT_NEAR(p.phases[1].cpu->p50, 100e-9, 1e-15);
  EXPECT_EQ(p.marks, 6u);
}

TEST(SummarizePhases, OverflowBucketComesLast) {
  MarkLog log;
  for (size_t i = 0; i <= kMaxPhaseNames; ++i) log.add_line(i, "p" + std::to_string(i));
  PhasesResult p = summarize_phases(log, phase_occurrences(log, kMaxPhaseNames + 10));
  ASSERT_EQ(p.phases.size(), kMaxPhaseNames + 1);
  EXPECT_TRUE(p.phases.back().overflow);
  EXPECT_EQ(p.phases.back().name, kOverflowPhaseName);
}

TEST(PhasesCsv, RoundTripsNamesWithCommasAndQuotes) {
  MarkLog log;
  log.add_line(1000000000, "a,\"b\"");
  log.add_line(1500000000, "c");
  auto occ = phase_occurrences(log, 2000000000);
  occ[0].cpu_seconds = 0.25;
  std::string csv = phase_occurrences_csv(occ, log.names(), 1000000000);
  auto spans = parse_phase_occurrences_csv(csv, "phases.csv");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "a,\"b\"");
  EXPECT_NEAR(spans[0].end_s, 0.5, 1e-9);
  EXPECT_NEAR(*spans[0].cpu_s, 0.25, 1e-9);
  EXPECT_FALSE(spans[1].cpu_s);
  EXPECT_TRUE(spans[1].closed_at_exit);
  EXPECT_THROW(parse_phase_occurrences_csv("h\nx,1,2\n", "f.csv"), Error);
}

TEST(PhasesJson, RoundTripsThroughRunJsonAndOldFilesHaveNone) {
  MarkLog log = load_and_infer();
  auto occ = phase_occurrences(log, 1300);
  RunResult r = new_run_result();
  r.phases = summarize_phases(log, occ);
  r.phases->attribution = "none";
  r.phases->channel = kMarkContainerPath;
  RunResult back = run_result_from_json(run_result_to_json(r), "run.json");
  ASSERT_TRUE(back.phases);
  ASSERT_EQ(back.phases->phases.size(), 2u);
  EXPECT_EQ(back.phases->phases[1].count, 5u);
  EXPECT_FALSE(back.phases->phases[1].cpu_seconds);
  EXPECT_EQ(back.phases->channel, kMarkContainerPath);
  EXPECT_NEAR(back.phases->phases[1].wall.p90, r.phases->phases[1].wall.p90, 1e-15);
  r.phases.reset();
  EXPECT_FALSE(run_result_from_json(run_result_to_json(r), "run.json").phases);
}

TEST(PhaseTable, ListsEachPhaseAndTheMarkCounters) {
  MarkLog log = load_and_infer();
  PhasesResult p = summarize_phases(log, phase_occurrences(log, 1300));
  std::string t = format_phase_table(p);
  EXPECT_NE(t.find("load"), std::string::npos);
  EXPECT_NE(t.find("infer*"), std::string::npos);
  EXPECT_NE(t.find("6 received, 0 dropped"), std::string::npos);
  EXPECT_EQ(format_phase_table(PhasesResult{}), "");
}

}  // namespace
}  // namespace cgprof
