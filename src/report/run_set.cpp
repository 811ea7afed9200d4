// Finding and loading result directories: a run directory, a repeat directory (run-001...), an
// experiment directory (index.json), or any directory with runs below it.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::report {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

void scan(const fs::path& dir, int depth, std::vector<std::string>* out) {
  if (is_file(dir / "run.json")) {
    out->push_back(dir.string());
    return;
  }
  if (depth == 0) return;
  std::error_code ec;
  std::vector<fs::path> subdirs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec)) subdirs.push_back(e.path());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& d : subdirs) scan(d, depth - 1, out);
}

std::string base_name(const std::string& dir) {
  fs::path p(dir);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

}  // namespace

std::vector<std::string> collect_run_dirs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& arg : paths) {
    fs::path p(arg);
    std::error_code ec;
    if (is_file(p) && p.filename() == "run.json") {
      out.push_back(p.parent_path().empty() ? "." : p.parent_path().string());
      continue;
    }
    if (!fs::is_directory(p, ec))
      throw Error(arg + ": not a result directory (no such directory)", kExitCgprofFailed, ENOENT);
    const std::size_t before = out.size();
    if (is_file(p / "index.json")) {
      // An experiment: its index lists the runs in matrix order; only finished ones count.
      const std::string idx = (p / "index.json").string();
      nlohmann::json j = nlohmann::json::parse(read_file(idx), nullptr, false);
      if (j.is_discarded() || !j.contains("runs") || !j["runs"].is_array())
        throw Error(idx + ": not a cgprof experiment index (no \"runs\" array)");
      for (const auto& r : j["runs"]) {
        if (!r.contains("dir") || !r["dir"].is_string()) continue;
        const fs::path d = p / r["dir"].get<std::string>();
        if (is_file(d / "run.json")) out.push_back(d.string());
      }
    } else {
      scan(p, 3, &out);
    }
    if (out.size() == before)
      throw Error(arg + ": no run.json in this directory or below; pass a result directory " +
                  "written by cgprof run (--output DIR)");
  }
  // The same run named twice (a run and its parent) is reported once.
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& d : out)
    if (seen.insert(fs::weakly_canonical(d).string()).second) unique.push_back(d);
  return unique;
}

std::vector<LoadedRun> load_runs(const std::vector<std::string>& paths) {
  std::vector<LoadedRun> out;
  for (const auto& d : collect_run_dirs(paths))
    out.push_back({d, with_context("result " + d, [&] { return load_run_result(d); })});
  return out;
}

ReportRun load_report_run(const std::string& dir) {
  return with_context("result " + dir, [&] {
    ReportRun run;
    run.dir = dir;
    run.result = load_run_result(dir);
    run.summary_text = format_summary(run.result);
    const std::string samples = run.result.sampler.samples_file.empty()
                                    ? std::string("samples.bin")
                                    : run.result.sampler.samples_file;
    struct stat st {};
    const std::string path = (fs::path(dir) / samples).string();
    if (::stat(path.c_str(), &st) == 0) {
      SamplesReader reader(AT_FDCWD, path);
      run.start_monotonic_ns = reader.header().start_monotonic_ns;
      run.start_realtime_ns = reader.header().start_realtime_ns;
      Sample s;
      while (reader.next(&s)) run.samples.push_back(s);
    }
    run.name = base_name(dir);
    return run;
  });
}

void assign_run_names(std::vector<ReportRun>& runs) {
  // Labels and device name tell runs apart best; fall back to the directory, then the id.
  auto describe = [](const ReportRun& r) {
    std::string s;
    for (const auto& [k, v] : r.result.labels) s += (s.empty() ? "" : " ") + k + "=" + v;
    if (!r.result.device_name.empty()) s += (s.empty() ? "" : " ") + r.result.device_name;
    return s;
  };
  std::set<std::string> names;
  bool unique = true;
  for (const auto& r : runs)
    unique = unique && !describe(r).empty() && names.insert(describe(r)).second;
  for (auto& r : runs) {
    if (unique && runs.size() > 1) {
      r.name = describe(r);
    } else if (r.name.empty()) {
      r.name = r.dir.empty() ? r.result.run_id : base_name(r.dir);
    }
  }
  // Directory names may still collide (two experiments' run-001): prefix the parent.
  std::set<std::string> seen;
  bool collide = false;
  for (const auto& r : runs) collide = collide || !seen.insert(r.name).second;
  if (collide)
    for (auto& r : runs)
      if (!r.dir.empty()) r.name = base_name(fs::path(r.dir).parent_path().string()) + "/" + r.name;
}

}  // namespace cgprof::report
