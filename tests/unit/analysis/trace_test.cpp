// Chrome trace-event JSON: structure that chrome://tracing and Perfetto require.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cgprof/report.hpp"
#include "synthetic_run.hpp"

using namespace cgprof;
using namespace cgprof::report;
using nlohmann::json;

namespace {

json trace_of(const std::vector<ReportRun>& runs, TraceOptions o = {}) {
  return json::parse(to_trace_json(runs, o));
}

}  // namespace

TEST(Trace, ObjectFormWithCounterEventsInMicroseconds) {
  auto run = fixtures::synthetic_run("resnet18");
  json t = trace_of({run});
  ASSERT_TRUE(t.contains("traceEvents"));
  ASSERT_TRUE(t["traceEvents"].is_array());
  std::size_t cpu = 0;
  for (const auto& e : t["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph"));
    ASSERT_TRUE(e.contains("pid"));
    ASSERT_TRUE(e.contains("name"));
    if (e["ph"] == "C") {
      ASSERT_TRUE(e["ts"].is_number());
      ASSERT_TRUE(e["args"].is_object());
      for (auto& [k, v] : e["args"].items()) {
        EXPECT_TRUE(v.is_number()) << k;
      }
    }
    if (e["ph"] == "C" && e["name"] == "cpu_cores") {
      if (cpu == 0) {
        EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 5'011'000.0);  // monotonic µs
      }
      EXPECT_NEAR(e["args"]["cores"].get<double>(), 1.5, 1e-9);
      ++cpu;
    }
  }
  EXPECT_EQ(cpu, 100u);
}

TEST(Trace, MetadataNamesEachRunProcess) {
  auto a = fixtures::synthetic_run("a"), b = fixtures::synthetic_run("b");
  json t = trace_of({a, b});
  std::set<int> pids;
  std::set<std::string> names;
  for (const auto& e : t["traceEvents"]) {
    pids.insert(e["pid"].get<int>());
    if (e["ph"] == "M" && e["name"] == "process_name") names.insert(e["args"]["name"]);
  }
  EXPECT_EQ(pids, (std::set<int>{1, 2}));
  EXPECT_EQ(names, (std::set<std::string>{"cgprof a", "cgprof b"}));
}

TEST(Trace, EveryTrackAndLimitsPresent) {
  json t = trace_of({fixtures::synthetic_run("a")});
  std::set<std::string> counters;
  bool workload = false;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "C") counters.insert(e["name"]);
    if (e["ph"] == "X") {
      workload = true;
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 1e6);  // 100 intervals of 10 ms
      EXPECT_EQ(e["args"]["command"], json({"python3", "infer.py"}));
    }
  }
  EXPECT_TRUE(workload);
  for (unsigned k = 0; k < kTrackCount; ++k)
    EXPECT_TRUE(counters.count(track_key(static_cast<Track>(k))))
        << track_key(static_cast<Track>(k));
  EXPECT_TRUE(counters.count("cpu_quota_cores"));
  EXPECT_TRUE(counters.count("memory_max_bytes"));
}

TEST(Trace, ClockChoices) {
  auto run = fixtures::synthetic_run("a");
  auto first_ts = [&](TraceClock c) {
    TraceOptions o;
    o.clock = c;
    const json t = trace_of({run}, o);
    for (const auto& e : t["traceEvents"])
      if (e["ph"] == "C" && e["name"] == "cpu_cores") return e["ts"].get<double>();
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(first_ts(TraceClock::kRelative), 11'000.0);
  EXPECT_DOUBLE_EQ(first_ts(TraceClock::kRealtime), 1.7e15 + 11'000.0);
}

TEST(Trace, UnsampledGroupsGetNoTrack) {
  auto run = fixtures::synthetic_run("a");
  for (auto& s : run.samples)
    s.valid &= ~static_cast<uint64_t>(kFileCpuPressure | kFileMemoryPressure | kFileIoPressure);
  const json t = trace_of({run});
  for (const auto& e : t["traceEvents"])
    EXPECT_EQ(std::string(e["name"]).find("some_percent"), std::string::npos);
}
