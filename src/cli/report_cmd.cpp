// `cgprof report RUN_DIR...`: a result directory (or several) as the terminal summary again,
// JSON, CSV of samples, a self-contained HTML page, or a Chrome/Perfetto trace.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "commands.hpp"

namespace cgprof::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> paths;
  std::string format = "table";
  std::string output;
  std::string trace_clock = "monotonic";
  double trace_resolution_ms = 0;
};

void emit(const std::string& text, const std::string& output) {
  if (output.empty() || output == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout))
      throw Error::from_errno("write", "standard output", errno);
    return;
  }
  report::write_file_atomic(output, text);
}

std::string render(const ReportArgs& a) {
  const auto dirs = report::collect_run_dirs(a.paths);
  std::vector<report::ReportRun> runs;
  for (const auto& d : dirs) runs.push_back(report::load_report_run(d));
  report::assign_run_names(runs);
  if (a.format == "table") {
    std::string out;
    for (const auto& r : runs) {
      if (runs.size() > 1) out += "== " + r.name + " (" + r.dir + ")\n";
      out += r.summary_text;
      if (runs.size() > 1) out += "\n";
    }
    return out;
  }
  if (a.format == "json") {
    if (runs.size() == 1) return run_result_to_json(runs[0].result);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : runs) {
      auto j = nlohmann::json::parse(run_result_to_json(r.result));
      j["result_dir"] = r.dir;
      arr.push_back(std::move(j));
    }
    return arr.dump(2) + "\n";
  }
  if (a.format == "csv") return report::to_samples_csv(runs);
  if (a.format == "phases-csv") return report::to_phases_csv(runs);
  if (a.format == "html") return report::to_html(runs);
  report::TraceOptions opts;
  opts.clock = a.trace_clock == "realtime"   ? report::TraceClock::kRealtime
               : a.trace_clock == "relative" ? report::TraceClock::kRelative
                                             : report::TraceClock::kMonotonic;
  opts.min_interval_ns = static_cast<uint64_t>(a.trace_resolution_ms * 1e6);
  return report::to_trace_json(runs, opts);
}

}  // namespace

void add_report_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Show result directories again: summary table, JSON, CSV, HTML or trace");
  cmd->add_option("results", args->paths,
                  "Result directories: a run, a --repeat directory, an experiment, or any "
                  "directory with runs below it")
      ->required()
      ->type_name("RUN_DIR");
  cmd->add_option("--format,-f", args->format,
                  "table (terminal summary), json (run.json), csv (samples), phases-csv (one "
                  "row per run and phase), html (self-contained page with charts), trace "
                  "(Chrome/Perfetto JSON)")
      ->check(CLI::IsMember({"table", "json", "csv", "phases-csv", "html", "trace"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Write to FILE instead of standard output")
      ->type_name("FILE");
  cmd->add_option("--trace-clock", args->trace_clock,
                  "Trace timestamps: monotonic (CLOCK_MONOTONIC, lines up with other traces "
                  "of this boot), realtime (wall clock) or relative (0 = start of sampling)")
      ->check(CLI::IsMember({"monotonic", "realtime", "relative"}))
      ->capture_default_str();
  cmd->add_option("--trace-resolution", args->trace_resolution_ms,
                  "Merge samples into intervals of at least MS milliseconds in the trace "
                  "(0 = every sample)")
      ->type_name("MS")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &out] {
    emit(render(*args), args->output);
    out.exit_code = 0;
  });
}

}  // namespace cgprof::cli
