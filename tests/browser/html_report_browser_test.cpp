// Loads generated HTML reports in headless Chromium and checks, from the DOM after the page's
// script ran, that every chart drew every series it had data for and that nothing logged an
// error. Keeps screenshots in the build directory as artefacts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"
#include "synthetic_run.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cgprof;

namespace {

std::string out_dir() {
  const char* d = std::getenv("CGPROF_BROWSER_OUT");
  return d ? d : fs::current_path().string();
}

std::string chromium() {
  const char* c = std::getenv("CGPROF_CHROMIUM");
  return c ? c : "/usr/bin/chromium";
}

struct PageResult {
  int rc = -1;
  std::string dom, log;
};

// One headless Chromium, a fresh profile dir, no network services. `extra` is the action flag
// (--dump-dom or --screenshot=...).
PageResult load(const std::string& html_path, const std::string& extra) {
  char tmpl[] = "/tmp/cgprof-chromium-XXXXXX";
  const char* profile = mkdtemp(tmpl);
  EXPECT_NE(profile, nullptr);
  const std::string dom_path = html_path + ".dom", log_path = html_path + ".log";
  const std::string cmd =
      "timeout 300 " + chromium() +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --enable-logging=stderr --v=0 --window-size=1100,2400 --user-data-dir=" +
      std::string(profile) + " " + extra + " 'file://" + html_path + "' >'" + dom_path + "' 2>'" +
      log_path + "'";
  PageResult r;
  const int st = std::system(cmd.c_str());
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.dom = cgprof::read_file_or_empty(dom_path);
  r.log = cgprof::read_file_or_empty(log_path);
  fs::remove_all(profile);
  return r;
}

std::string unescape(std::string s) {
  auto rep = [&](const std::string& a, const std::string& b) {
    for (std::size_t p = 0; (p = s.find(a, p)) != std::string::npos; p += b.size())
      s.replace(p, a.size(), b);
  };
  rep("&lt;", "<");
  rep("&gt;", ">");
  rep("&quot;", "\"");
  rep("&amp;", "&");
  return s;
}

json page_status(const std::string& dom) {
  const std::string open = "id=\"cgprof-status\"";
  auto p = dom.find(open);
  if (p == std::string::npos) return nullptr;
  p = dom.find('>', p);
  auto e = dom.find("</pre>", p);
  if (p == std::string::npos || e == std::string::npos) return nullptr;
  return json::parse(unescape(dom.substr(p + 1, e - p - 1)), nullptr, false);
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = hay.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
  return n;
}

// Console errors Chromium logged while loading the page.
std::string console_errors(const std::string& log) {
  std::string out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      out += line + "\n";
  return out;
}

std::string write_report(const std::string& name, const std::vector<report::ReportRun>& runs) {
  const std::string path = out_dir() + "/" + name + ".html";
  std::ofstream(path) << report::to_html(runs);
  return path;
}

// Series per chart in the synthetic run, in the page's chart order.
const std::vector<std::pair<std::string, int>> kChartSeries = {
    {"cpu", 1}, {"memory", 3}, {"io", 2}, {"throttling", 1}, {"pressure", 3}, {"pids", 1}};

void expect_all_drawn(const json& st, int runs) {
  ASSERT_TRUE(st.is_object()) << "no status element in the DOM";
  EXPECT_TRUE(st["ok"].get<bool>()) << st.dump();
  EXPECT_TRUE(st["errors"].empty()) << st["errors"].dump();
  EXPECT_EQ(st["runs"], runs);
  ASSERT_EQ(st["charts"].size(), kChartSeries.size());
  for (std::size_t i = 0; i < kChartSeries.size(); ++i) {
    const json& c = st["charts"][i];
    EXPECT_EQ(c["id"], kChartSeries[i].first);
    EXPECT_EQ(c["expected"], kChartSeries[i].second * runs) << c.dump();
    EXPECT_EQ(c["drawn"], c["expected"]) << c.dump();
    EXPECT_GT(c["points"].get<int>(), 0) << c.dump();
  }
}

}  // namespace

TEST(HtmlReportBrowser, OneRunDrawsEveryChartWithoutErrors) {
  auto path = write_report("report-one-run", {fixtures::synthetic_run("resnet18")});
  auto page = load(path, "--dump-dom");
  ASSERT_EQ(page.rc, 0) << page.log;
  expect_all_drawn(page_status(page.dom), 1);
  EXPECT_EQ(console_errors(page.log), "");
  // Independently of the page's own bookkeeping: the DOM holds one path per series with points.
  EXPECT_EQ(count(page.dom, "class=\"series\""), 11u);
  EXPECT_EQ(count(page.dom, "data-points=\"100\""), 11u);
  EXPECT_EQ(count(page.dom, "class=\"limit\""), 1u);  // the CPU quota
  // memory.max (4 MiB) is over 3x the peak (1.1 MiB): named above the chart, not drawn.
  EXPECT_EQ(count(page.dom, "class=\"limit-offscale\""), 1u);
  EXPECT_NE(page.dom.find("data-cgprof-status=\"ok\""), std::string::npos);
}

TEST(HtmlReportBrowser, TwoRunsOverlayTheirSeries) {
  auto a = fixtures::synthetic_run("resnet18"),
       b = fixtures::synthetic_run("mobilenet", 51, 20'000'000, 0.5);
  auto path = write_report("report-two-runs", {a, b});
  auto page = load(path, "--dump-dom");
  ASSERT_EQ(page.rc, 0) << page.log;
  expect_all_drawn(page_status(page.dom), 2);
  EXPECT_EQ(console_errors(page.log), "");
  EXPECT_EQ(count(page.dom, "class=\"series\" data-run=\"0\""), 11u);
  EXPECT_EQ(count(page.dom, "class=\"series\" data-run=\"1\""), 11u);
  EXPECT_EQ(count(page.dom, "data-points=\"50\""), 11u);  // run b: 51 samples
  // Screenshot artefact of the overlay report.
  const std::string png = out_dir() + "/report-two-runs.png";
  fs::remove(png);
  auto shot = load(path, "--screenshot='" + png + "'");
  ASSERT_EQ(shot.rc, 0) << shot.log;
  ASSERT_TRUE(fs::exists(png)) << shot.log;
  EXPECT_GT(fs::file_size(png), 20000u);  // a blank page compresses to a few KB
}

// A 20 s run at 1 kHz with bursty CPU, a memory.max far above the peak, and phases: bucketed
// with a min/max envelope, phase bands on every chart and a phase table. Kept as
// report-phases.png (the screenshot in docs/formats/html.md).
TEST(HtmlReportBrowser, LongRunWithPhasesDrawsEnvelopesBandsAndTable) {
  auto run = fixtures::synthetic_run("phases", 20001, 1'000'000, 1.0);
  uint64_t usage = 0;
  for (std::size_t i = 0; i < run.samples.size(); ++i) {
    // 1 ms slices of 0 or 2 cores: a band of spikes at full resolution, ~1 core on average.
    usage += (i % 7 < 3) ? 2000 : 0;
    run.samples[i].cpu_usage_usec = usage;
    run.samples[i].memory_current = (100ull << 20) + (i > 3000 ? (20ull << 20) : 0);
  }
  run.result.limits_written["memory.max"] = std::to_string(4ull << 30);
  MarkLog log;
  const uint64_t t0 = run.samples.front().t_ns;
  log.add_line(t0, "load");
  for (int k = 0; k < 5; ++k) log.add_line(t0 + (3 + 3 * k) * 1'000'000'000ull, "infer");
  log.add_line(t0 + 17'500'000'000ull, "-");
  auto occ = phase_occurrences(log, run.samples.back().t_ns);
  run.result.phases = summarize_phases(log, occ);
  for (const auto& o : occ)
    run.phases.push_back({o.name < log.names().size() ? log.names()[o.name] : "?",
                          (o.start_ns - run.start_monotonic_ns) / 1e9,
                          (o.end_ns - run.start_monotonic_ns) / 1e9, std::nullopt, false});
  const std::string path = write_report("report-phases", {run});
  auto page = load(path, "--dump-dom");
  ASSERT_EQ(page.rc, 0) << page.log;
  json st = page_status(page.dom);
  ASSERT_TRUE(st.is_object());
  EXPECT_TRUE(st["ok"].get<bool>()) << st.dump();
  EXPECT_EQ(st["phaseRows"], 2);
  for (const auto& c : st["charts"]) {
    EXPECT_EQ(c["bands"], 6) << c.dump();  // load + 5 infer, on every chart
    if (c["id"] == "cpu") {
      EXPECT_EQ(c["envelopes"], 1) << c.dump();
      EXPECT_LE(c["points"].get<int>(), 1600) << "not downsampled to screen resolution";
    }
    if (c["id"] == "memory") {
      EXPECT_EQ(c["offScale"], 1) << c.dump();
    }
    if (c["id"] == "throttling") {
      EXPECT_EQ(c["drawn"], 1) << c.dump();
    }
  }
  EXPECT_EQ(count(page.dom, "class=\"phase-band\""), 36u);
  EXPECT_EQ(count(page.dom, "class=\"phase-row\""), 2u);
  EXPECT_NE(page.dom.find("memory.max 4 GiB (above the chart)"), std::string::npos);
  const std::string png = out_dir() + "/report-phases.png";
  fs::remove(png);
  auto shot = load(path, "--screenshot='" + png + "'");
  ASSERT_EQ(shot.rc, 0) << shot.log;
  ASSERT_TRUE(fs::exists(png)) << shot.log;
  EXPECT_GT(fs::file_size(png), 20000u);
}

TEST(HtmlReportBrowser, UnsampledGroupShowsEmptyChartOthersStillDraw) {
  auto run = fixtures::synthetic_run("no-psi");
  for (auto& s : run.samples)
    s.valid &= ~static_cast<uint64_t>(kFileCpuPressure | kFileMemoryPressure | kFileIoPressure);
  auto page = load(write_report("report-no-psi", {run}), "--dump-dom");
  ASSERT_EQ(page.rc, 0);
  json st = page_status(page.dom);
  ASSERT_TRUE(st.is_object());
  EXPECT_TRUE(st["ok"].get<bool>()) << st.dump();
  for (const auto& c : st["charts"]) {
    if (c["id"] == "pressure") {
      EXPECT_EQ(c["expected"], 0);
      EXPECT_TRUE(c["empty"].get<bool>());
    } else {
      EXPECT_EQ(c["drawn"], c["expected"]);
      EXPECT_GT(c["drawn"].get<int>(), 0);
    }
  }
  EXPECT_NE(page.dom.find("no data: this group was not sampled"), std::string::npos);
}

TEST(HtmlReportBrowser, HostileNamesAreTextNotMarkup) {
  auto run = fixtures::synthetic_run("</script><script>document.title='pwned'</script>");
  run.result.command = {"sh", "-c", "echo '<b>bold</b>' && x=1"};
  auto page = load(write_report("report-hostile", {run}), "--dump-dom");
  ASSERT_EQ(page.rc, 0);
  expect_all_drawn(page_status(page.dom), 1);
  EXPECT_EQ(page.dom.find("<title>pwned"), std::string::npos);
  EXPECT_EQ(page.dom.find("<b>bold</b>"), std::string::npos);
  EXPECT_NE(page.dom.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
}

// The checks above can fail: a page whose data is broken reports the error through the same
// channels the other tests read.
TEST(HtmlReportBrowser, BrokenPageIsDetected) {
  std::string html = report::to_html({fixtures::synthetic_run("x")});
  const std::string marker = "id=\"cgprof-data\">";
  html.insert(html.find(marker) + marker.size(), "{not json");
  const std::string path = out_dir() + "/report-broken.html";
  std::ofstream(path) << html;
  auto page = load(path, "--dump-dom");
  ASSERT_EQ(page.rc, 0);
  json st = page_status(page.dom);
  ASSERT_TRUE(st.is_object());
  EXPECT_FALSE(st["ok"].get<bool>());
  EXPECT_FALSE(st["errors"].empty());
  EXPECT_NE(page.dom.find("data-cgprof-status=\"error\""), std::string::npos);
}
