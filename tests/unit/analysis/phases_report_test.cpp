// Phases in the writers and in the metric vocabulary: trace slices, per-phase CSV rows, and
// phase.NAME.STAT metrics for compare/calibrate/predict.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "synthetic_run.hpp"

using namespace cgprof;
using nlohmann::json;

namespace {

report::ReportRun run_with_phases() {
  auto run = fixtures::synthetic_run("resnet18");
  MarkLog log;
  log.add_line(0, "load");
  for (uint64_t i = 0; i < 5; ++i) log.add_line(300 + 200 * i, "infer");
  auto occ = phase_occurrences(log, 1300);
  for (auto& o : occ) o.cpu_seconds = 0.5e-9 * static_cast<double>(o.end_ns - o.start_ns);
  run.result.phases = summarize_phases(log, occ);
  for (const auto& o : occ)
    run.phases.push_back({log.names()[o.name], o.start_ns / 1e9, o.end_ns / 1e9, o.cpu_seconds,
                          o.closed_at_exit});
  return run;
}

}  // namespace

TEST(PhasesReport, TraceHasOneSlicePerOccurrenceOnAPhasesThread) {
  json t = json::parse(report::to_trace_json({run_with_phases()}));
  int infer = 0, load = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e.value("cat", "") != "phase") continue;
    EXPECT_EQ(e["ph"], "X");
    EXPECT_EQ(e["tid"], 2);
    EXPECT_GE(e["dur"].get<double>(), 0);
    infer += e["name"] == "infer";
    load += e["name"] == "load";
  }
  EXPECT_EQ(infer, 5);
  EXPECT_EQ(load, 1);
}

TEST(PhasesReport, CsvHasOneRowPerPhase) {
  std::string csv = report::to_phases_csv({run_with_phases()});
  EXPECT_EQ(csv.rfind("run,phase,count,", 0), 0u);
  EXPECT_NE(csv.find("\nresnet18,infer,5,1,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nresnet18,load,1,0,"), std::string::npos) << csv;
  EXPECT_EQ(report::to_phases_csv({fixtures::synthetic_run("none")}).find('\n') + 1,
            report::to_phases_csv({fixtures::synthetic_run("none")}).size());
}

TEST(PhasesReport, PhaseMetricsByName) {
  const auto m = analysis::run_metrics(run_with_phases().result);
  ASSERT_TRUE(m.count("phase.infer.wall_p50"));
  EXPECT_NEAR(m.at("phase.infer.wall_p50"), 200e-9, 1e-15);
  EXPECT_EQ(m.at("phase.infer.count"), 5);
  EXPECT_NEAR(m.at("phase.infer.cpu_mean"), 100e-9, 1e-15);
  EXPECT_FALSE(m.count("phase.infer.peak_memory"));  // not attributed: absent, not 0
  const auto& info = analysis::find_metric("phase.infer.wall_p50");
  EXPECT_STREQ(info.name, "phase.infer.wall_p50");
  EXPECT_STREQ(info.unit, "s");
  EXPECT_EQ(&analysis::find_metric("phase.infer.wall_p50"), &info);  // interned once
  EXPECT_STREQ(analysis::find_metric("phase.a.b.peak_memory").name, "phase.a.b.peak_memory");
  EXPECT_THROW(analysis::find_metric("phase.infer.wall_p42"), Error);
  EXPECT_THROW(analysis::find_metric("phase..count"), Error);
}
