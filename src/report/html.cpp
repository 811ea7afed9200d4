// The self-contained HTML report: the data as inline JSON and a small inline script that draws
// SVG charts from it. Nothing is fetched, so the file can be mailed or archived as is.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cgprof/report.hpp"
#include "html_template.hpp"

namespace cgprof::report {
namespace {

using nlohmann::json;

// Enough points for a chart ~1000 px wide; gauges keep their maxima through decimation.
constexpr uint64_t kTargetPoints = 1500;

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

json metadata(const ReportRun& run) {
  const RunResult& r = run.result;
  json rows = json::array();
  auto row = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) rows.push_back({k, v});
  };
  auto num = [](double v, int prec) {
    std::ostringstream o;
    o.precision(prec);
    o << v;
    return o.str();
  };
  row("run id", r.run_id);
  row("directory", run.dir);
  row("started at", r.started_at);
  std::string labels;
  for (const auto& [k, v] : r.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
  row("labels", labels);
  row("device", r.device_name + (r.device_source.empty() ? "" : " (" + r.device_source + ")"));
  row("CPU quota", r.quota_cores ? num(*r.quota_cores, 4) + " cores" : "none");
  for (const auto& [file, value] : r.limits_written) row(file, value);
  row("image", r.image);
  row("image digest", r.image_digest);
  row("rootfs", r.rootfs);
  row("command", join(r.command, " "));
  std::string exit = std::to_string(r.exit.status);
  if (r.exit.signal) exit += " (signal " + std::to_string(*r.exit.signal) + ")";
  if (r.exit.oom_killed) exit += " (OOM killed)";
  if (r.exit.interrupted) exit += " (interrupted)";
  row("exit status", exit);
  row("cgprof error", r.exit.error);
  row("wall time", num(r.wall_seconds, 6) + " s");
  row("host", r.host.hostname + ", " + r.host.cpu_model + ", " + std::to_string(r.host.cores) +
                  " cores, kernel " + r.host.kernel);
  row("sampler", num(r.sampler.rate_hz, 6) + " Hz configured, " +
                     num(r.sampler.achieved_rate_hz, 6) + " Hz achieved, " +
                     std::to_string(r.sampler.samples) + " samples, " +
                     std::to_string(r.sampler.missed_deadlines) + " missed, " +
                     num(r.sampler.overhead_percent_of_core, 3) + "% of a core");
  row("cgprof version", r.cgprof_version);
  return rows;
}

json run_json(const ReportRun& run) {
  uint64_t span = 0;
  if (run.samples.size() >= 2) span = run.samples.back().t_ns - run.samples.front().t_ns;
  const RunSeries s = derive_series(run.samples, run.start_monotonic_ns, span / kTargetPoints);
  json tracks = json::object();
  for (unsigned k = 0; k < kTrackCount; ++k) {
    json arr = json::array();
    for (double v : s.values[k]) arr.push_back(std::isnan(v) ? json(nullptr) : json(v));
    tracks[track_key(static_cast<Track>(k))] = std::move(arr);
  }
  json j = {{"name", run.name},
            {"meta", metadata(run)},
            {"summary", run.summary_text},
            {"t", s.t_s},
            {"tracks", std::move(tracks)}};
  j["quota_cores"] = run.result.quota_cores ? json(*run.result.quota_cores) : json(nullptr);
  auto lim = memory_limit_bytes(run.result);
  j["memory_max"] = lim ? json(*lim) : json(nullptr);
  return j;
}

// JSON inside <script>: '<' cannot end the element if it is never written literally.
std::string script_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string to_html(const std::vector<ReportRun>& runs) {
  json data = {{"generator", "cgprof"}, {"runs", json::array()}};
  std::vector<std::string> names;
  for (const auto& r : runs) {
    data["runs"].push_back(run_json(r));
    names.push_back(r.name);
  }
  std::string title = "cgprof report: " + join(names, ", ");
  std::string out;
  out += kHtmlHead;
  out += "<title>" + html_escape(title) + "</title>\n";
  out += kHtmlStyleAndBody;
  out += "<script type=\"application/json\" id=\"cgprof-data\">";
  out += script_safe(data.dump(-1, ' ', false, json::error_handler_t::replace));
  out += "</script>\n";
  out += kHtmlScript;
  return out;
}

}  // namespace cgprof::report
