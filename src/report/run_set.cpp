// Finding and loading result directories: a run directory, a repeat directory (aggregate.json),
// an experiment directory (index.json), or any directory with runs below it.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
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

// The array `key` of a JSON file that lists runs (an experiment index, an aggregate).
nlohmann::json listing(const fs::path& file, const char* key, const char* what) {
  const std::string path = file.string();
  nlohmann::json j = nlohmann::json::parse(read_regular_file(path, kMaxResultJsonBytes), nullptr, false);
  if (j.is_discarded() || !j.contains(key) || !j[key].is_array())
    throw Error(path + ": not a cgprof " + what + " (no \"" + key + "\" array)");
  return j[key];
}

// The measured runs a directory holds. Warm-up runs are left out: they exist to be thrown away
// (name one directly to see it).
void scan(const fs::path& dir, int depth, std::vector<std::string>* out) {
  if (is_file(dir / "run.json")) {
    out->push_back(dir.string());
    return;
  }
  if (is_file(dir / "index.json")) {
    // An experiment: its index lists the runs in matrix order; only finished ones count.
    for (const auto& r : listing(dir / "index.json", "runs", "experiment index")) {
      if (!r.is_object() || !r.contains("dir") || !r["dir"].is_string()) continue;
      if (r.contains("warmup") && r["warmup"] == true) continue;
      const fs::path d = dir / r["dir"].get<std::string>();
      if (is_file(d / "run.json")) out->push_back(d.string());
    }
    return;
  }
  if (is_file(dir / "aggregate.json")) {
    // `cgprof run --repeat`: the runs its aggregate is over.
    for (const auto& r : listing(dir / "aggregate.json", "run_dirs", "aggregate"))
      if (r.is_string() && is_file(dir / r.get<std::string>() / "run.json"))
        out->push_back((dir / r.get<std::string>()).string());
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

// The last `depth` components of a directory: ("/x/exp/rpi4/run-001", 2) -> "rpi4/run-001".
std::string path_tail(const std::string& dir, int depth) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::vector<std::string> parts;
  for (const auto& c : p)
    if (c != "/" && !c.empty()) parts.push_back(c.string());
  std::string out;
  const std::size_t from =
      parts.size() > static_cast<std::size_t>(depth) ? parts.size() - depth : 0;
  for (std::size_t i = from; i < parts.size(); ++i) out += (out.empty() ? "" : "/") + parts[i];
  return out;
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
    scan(p, 3, &out);
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
    // run.json names its samples file; it may only name a file in the result directory itself,
    // and a symbolic link there is not followed (a copied or downloaded result cannot make
    // `report` read a file elsewhere).
    if (samples.find('/') != std::string::npos || samples == "." || samples == "..")
      throw Error("run.json: sampler.samples_file \"" + samples +
                  "\" must name a file in the result directory (like samples.bin)");
    struct stat st {};
    const std::string path = (fs::path(dir) / samples).string();
    if (::lstat(path.c_str(), &st) == 0) {
      SamplesReader reader(AT_FDCWD, path, /*nofollow=*/true);
      run.start_monotonic_ns = reader.header().start_monotonic_ns;
      run.start_realtime_ns = reader.header().start_realtime_ns;
      Sample s;
      while (reader.next(&s)) run.samples.push_back(s);
    }
    if (run.result.phases && !run.result.phases->occurrences_file.empty()) {
      const std::string csv = (fs::path(dir) / run.result.phases->occurrences_file).string();
      run.phases = parse_phase_occurrences_csv(read_regular_file(csv, kMaxResultJsonBytes), csv);
      // phases.csv counts from the workload's exec; the samples from the sampler's start.
      const double shift = (static_cast<double>(run.result.phases->origin_ns) -
                            static_cast<double>(run.start_monotonic_ns)) / 1e9;
      for (PhaseSpan& p : run.phases) {
        p.start_s += shift;
        p.end_s += shift;
      }
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
  // Directory names may still collide (two experiments' run-001, or an experiment's
  // cpu-burn/rpi4/run-001 and mem-alloc/rpi4/run-001): show more of the path of the runs that
  // collide, one parent at a time, until every name is unique.
  for (int depth = 2; depth <= 8; ++depth) {
    std::map<std::string, int> count;
    for (const auto& r : runs) ++count[r.name];
    bool changed = false;
    for (auto& r : runs) {
      if (count[r.name] < 2 || r.dir.empty()) continue;
      std::string longer = path_tail(r.dir, depth);
      changed = changed || longer != r.name;
      r.name = std::move(longer);
    }
    if (!changed) break;
  }
}

}  // namespace cgprof::report
