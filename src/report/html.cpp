// The self-contained HTML report: the data as inline JSON and a small inline script that draws
// SVG charts from it. Nothing is fetched, so the file can be mailed or archived as is.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cgprof/report.hpp"
#include "html_template.hpp"

namespace cgprof::report {
namespace {

using nlohmann::json;

// About two points per pixel of a chart 880 px wide. Longer series are cut into this many time
// buckets, each drawn as its mean with a min/max envelope, so a spike or a peak stays visible.
constexpr size_t kTargetPoints = 1500;
constexpr size_t kMaxPhaseBands = 5000;  // phase occurrences drawn per run (the rest counted)

json nullable(double v) {
  return std::isnan(v) ? json(nullptr) : json(v);
}

// The series at screen resolution: {"t", "tracks" (mean), and for a long run "lo", "hi"}.
json screen_series(const RunSeries& s) {
  json out = {{"t", json::array()}, {"tracks", json::object()}};
  const size_t n = s.t_s.size();
  if (n <= 2 * kTargetPoints) {
    out["t"] = s.t_s;
    for (unsigned k = 0; k < kTrackCount; ++k) {
      json arr = json::array();
      for (double v : s.values[k]) arr.push_back(nullable(v));
      out["tracks"][track_key(static_cast<Track>(k))] = std::move(arr);
    }
    return out;
  }
  const double t0 = s.t_s.front(), width = (s.t_s.back() - t0) / kTargetPoints;
  struct Acc {
    double sum = 0, lo = 0, hi = 0;
    size_t n = 0;
  };
  json mean[kTrackCount], lo[kTrackCount], hi[kTrackCount];
  Acc acc[kTrackCount];
  size_t bucket = 0;
  auto flush = [&](double t) {
    out["t"].push_back(t);
    for (unsigned k = 0; k < kTrackCount; ++k) {
      const Acc& a = acc[k];
      mean[k].push_back(a.n ? json(a.sum / static_cast<double>(a.n)) : json(nullptr));
      lo[k].push_back(a.n ? json(a.lo) : json(nullptr));
      hi[k].push_back(a.n ? json(a.hi) : json(nullptr));
      acc[k] = Acc{};
    }
  };
  for (size_t i = 0; i < n; ++i) {
    const size_t b = std::min(kTargetPoints - 1, static_cast<size_t>((s.t_s[i] - t0) / width));
    if (b != bucket) flush(s.t_s[i - 1]);
    bucket = b;
    for (unsigned k = 0; k < kTrackCount; ++k) {
      const double v = s.values[k][i];
      if (std::isnan(v)) continue;
      Acc& a = acc[k];
      a.lo = a.n ? std::min(a.lo, v) : v;
      a.hi = a.n ? std::max(a.hi, v) : v;
      a.sum += v;
      ++a.n;
    }
  }
  flush(s.t_s.back());
  out["lo"] = json::object();
  out["hi"] = json::object();
  for (unsigned k = 0; k < kTrackCount; ++k) {
    const char* key = track_key(static_cast<Track>(k));
    out["tracks"][key] = std::move(mean[k]);
    out["lo"][key] = std::move(lo[k]);
    out["hi"][key] = std::move(hi[k]);
  }
  return out;
}

// Phase occurrences as bands ([name index, start s, end s]) and the per-phase table.
json phases_json(const ReportRun& run) {
  json names = json::array(), spans = json::array(), table = json::array();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < run.phases.size() && i < kMaxPhaseBands; ++i) {
    const PhaseSpan& p = run.phases[i];
    auto [it, fresh] = index.emplace(p.name, index.size());
    if (fresh) names.push_back(p.name);
    spans.push_back({it->second, p.start_s, p.end_s});
  }
  if (run.result.phases) {
    for (const PhaseStats& p : run.result.phases->phases) {
      table.push_back({p.name, p.count, p.closed_at_exit, p.wall_seconds, p.wall.mean, p.wall.p50,
                       p.wall.p90, p.wall.p99, p.wall.max,
                       p.cpu_seconds ? json(*p.cpu_seconds) : json(nullptr),
                       p.memory_peak_bytes ? json(*p.memory_peak_bytes) : json(nullptr)});
    }
  }
  const size_t hidden = run.phases.size() > kMaxPhaseBands ? run.phases.size() - kMaxPhaseBands : 0;
  return {{"names", names}, {"spans", spans}, {"hidden", hidden}, {"table", table}};
}

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
  row("limits", format_enforcement(r));
  for (const auto& [file, value] : r.limits_written) row(file, value);
  for (const std::string& n : r.notices) row("notice", n);
  row("image", r.image);
  row("image digest", r.image_digest);
  row("rootfs", r.rootfs);
  row("command", join(r.command, " "));
  std::string exit = std::to_string(r.exit.status);
  if (r.exit.signal) exit += " (signal " + std::to_string(*r.exit.signal) + ")";
  if (r.exit.oom_killed) exit += r.cgroup_version == 0 && !r.fidelity.empty() ? " (OOM killed, emulated)" : " (OOM killed)";
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
  // Intervals of at least 1/16 of a bucket: the envelope shows the spread inside each bucket
  // while memory stays bounded for an hour at 10 kHz.
  uint64_t span = 0;
  if (run.samples.size() >= 2) span = run.samples.back().t_ns - run.samples.front().t_ns;
  json j = screen_series(
      derive_series(run.samples, run.start_monotonic_ns, span / (kTargetPoints * 16)));
  j["name"] = run.name;
  j["meta"] = metadata(run);
  j["summary"] = run.summary_text;
  j["phases"] = phases_json(run);
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
