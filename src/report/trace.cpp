// Chrome trace-event JSON: one process per run, one counter track per derived series, and the
// workload as a complete event so it can be lined up with the user's own traces. The format is
// the "JSON Object Format" of the Trace Event Format document, which both chrome://tracing and
// the Perfetto UI import.
#include <cmath>
#include <nlohmann/json.hpp>

#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

using nlohmann::json;

std::string labels_text(const RunResult& r) {
  std::string s;
  for (const auto& [k, v] : r.labels) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

}  // namespace

std::string to_trace_json(const std::vector<ReportRun>& runs, const TraceOptions& opts) {
  json events = json::array();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const ReportRun& run = runs[i];
    const int pid = static_cast<int>(i) + 1;
    // Sample t_ns is CLOCK_MONOTONIC; map it into the requested clock in µs.
    auto ts_us = [&](double t_s_since_origin) {
      const double origin_us =
          opts.clock == TraceClock::kMonotonic  ? static_cast<double>(run.start_monotonic_ns) / 1e3
          : opts.clock == TraceClock::kRealtime ? static_cast<double>(run.start_realtime_ns) / 1e3
                                                : 0.0;
      return origin_us + t_s_since_origin * 1e6;
    };
    std::string process = "cgprof " + run.name;
    events.push_back({{"name", "process_name"},
                      {"ph", "M"},
                      {"pid", pid},
                      {"tid", 0},
                      {"args", {{"name", process}}}});
    events.push_back({{"name", "process_sort_index"},
                      {"ph", "M"},
                      {"pid", pid},
                      {"tid", 0},
                      {"args", {{"sort_index", pid}}}});
    const std::string labels = labels_text(run.result);
    if (!labels.empty())
      events.push_back({{"name", "process_labels"},
                        {"ph", "M"},
                        {"pid", pid},
                        {"tid", 0},
                        {"args", {{"labels", labels}}}});
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", pid},
                      {"tid", 1},
                      {"args", {{"name", "workload"}}}});

    RunSeries s = derive_series(run.samples, run.start_monotonic_ns, opts.min_interval_ns);
    if (!run.samples.empty()) {
      const double first =
          static_cast<double>(run.samples.front().t_ns -
                              std::min(run.samples.front().t_ns, run.start_monotonic_ns)) /
          1e9;
      const double last =
          static_cast<double>(run.samples.back().t_ns -
                              std::min(run.samples.back().t_ns, run.start_monotonic_ns)) /
          1e9;
      json args = {{"run_id", run.result.run_id},
                   {"device", run.result.device_name},
                   {"exit_status", run.result.exit.status},
                   {"wall_seconds", run.result.wall_seconds}};
      json cmd = json::array();
      for (const auto& a : run.result.command) cmd.push_back(a);
      args["command"] = cmd;
      events.push_back({{"name", "workload"},
                        {"cat", "cgprof"},
                        {"ph", "X"},
                        {"pid", pid},
                        {"tid", 1},
                        {"ts", ts_us(first)},
                        {"dur", (last - first) * 1e6},
                        {"args", args}});
      // The quota is a constant counter, drawn at both ends so the track spans the run.
      if (run.result.quota_cores) {
        for (double t : {first, last})
          events.push_back({{"name", "cpu_quota_cores"},
                            {"ph", "C"},
                            {"pid", pid},
                            {"ts", ts_us(t)},
                            {"args", {{"cores", *run.result.quota_cores}}}});
      }
      if (auto lim = memory_limit_bytes(run.result)) {
        for (double t : {first, last})
          events.push_back({{"name", "memory_max_bytes"},
                            {"ph", "C"},
                            {"pid", pid},
                            {"ts", ts_us(t)},
                            {"args", {{"bytes", *lim}}}});
      }
    }
    // Phases: one slice per occurrence on their own thread, under the workload.
    if (!run.phases.empty())
      events.push_back({{"name", "thread_name"},
                        {"ph", "M"},
                        {"pid", pid},
                        {"tid", 2},
                        {"args", {{"name", "phases"}}}});
    for (const PhaseSpan& p : run.phases) {
      json args = {{"closed_at_exit", p.closed_at_exit}};
      if (p.cpu_s) args["cpu_seconds"] = *p.cpu_s;
      events.push_back({{"name", p.name},
                        {"cat", "phase"},
                        {"ph", "X"},
                        {"pid", pid},
                        {"tid", 2},
                        {"ts", ts_us(p.start_s)},
                        {"dur", (p.end_s - p.start_s) * 1e6},
                        {"args", std::move(args)}});
    }
    for (unsigned k = 0; k < kTrackCount; ++k) {
      const auto& v = s.values[k];
      const char* key = track_key(static_cast<Track>(k));
      const char* unit = track_unit(static_cast<Track>(k));
      bool any = false;
      for (double x : v) any = any || !std::isnan(x);
      if (!any) continue;  // a group that was not sampled gets no empty track
      for (std::size_t j = 0; j < v.size(); ++j) {
        if (std::isnan(v[j])) continue;
        events.push_back({{"name", key},
                          {"ph", "C"},
                          {"pid", pid},
                          {"ts", ts_us(s.t_s[j])},
                          {"args", {{unit, v[j]}}}});
      }
    }
  }
  json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  doc["otherData"] = {{"generator", "cgprof"},
                      {"clock", opts.clock == TraceClock::kMonotonic  ? "monotonic"
                                : opts.clock == TraceClock::kRealtime ? "realtime"
                                                                      : "relative"}};
  return doc.dump() + "\n";
}

}  // namespace cgprof::report
