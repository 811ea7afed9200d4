// Phases with cgroup samples: a shell workload marks `load` (0.3 s) then `infer` five times
// (0.2 s of CPU work each); run.json has per-phase wall and CPU time, the reports show them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

using nlohmann::json;

const json* phase(const json& run, const std::string& name) {
  for (const json& p : run["phases"]["by_name"])
    if (p["name"] == name) return &p;
  return nullptr;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class PhasesVm : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::geteuid(), 0u); }
  void TearDown() override {
    std::vector<std::string> left = leftover_cgroups();
    EXPECT_TRUE(left.empty()) << "cgroup left behind: " << left.front();
  }
};

TEST_F(PhasesVm, LoadThenFiveInferencesAttributedFromSamples) {
  const std::string out = fresh_output_dir("phases");
  const std::string script =
      "echo load > \"$CGPROF_MARK\"; sleep 0.3; "
      "for i in 1 2 3 4 5; do echo infer > \"$CGPROF_MARK\"; cpu-burn -d 0.2s -q; done; "
      "echo - > \"$CGPROF_MARK\"; echo tail > \"$CGPROF_MARK\"; sleep 0.1";
  RunOut r = cgprof({"run", "--rootfs", test_rootfs(), "--rate", "200", "--output", out, "--",
                     "/bin/sh", "-c", script});
  ASSERT_EQ(r.code, 0) << r.err;
  json run = read_run_json(out);
  ASSERT_TRUE(run.contains("phases")) << run.dump(2);
  EXPECT_EQ(run["phases"]["attribution"], "samples");
  EXPECT_EQ(run["phases"]["marks"], 8);
  EXPECT_EQ(run["phases"]["dropped_marks"], 0);
  const json* load = phase(run, "load");
  const json* infer = phase(run, "infer");
  const json* tail = phase(run, "tail");
  ASSERT_TRUE(load && infer && tail) << run["phases"].dump(2);
  EXPECT_EQ((*load)["count"], 1);
  EXPECT_GT((*load)["wall_seconds"].get<double>(), 0.25);
  EXPECT_LT((*load)["wall_seconds"].get<double>(), 5.0);
  EXPECT_EQ((*infer)["count"], 5);
  EXPECT_GT((*infer)["wall"]["mean"].get<double>(), 0.15);
  EXPECT_LT((*infer)["wall"]["mean"].get<double>(), 5.0);
  EXPECT_LE((*infer)["wall"]["min"].get<double>(), (*infer)["wall"]["p50"].get<double>());
  EXPECT_LE((*infer)["wall"]["p50"].get<double>(), (*infer)["wall"]["max"].get<double>());
  // cpu-burn spins: most of an inference is CPU; sleep is not.
  ASSERT_FALSE((*infer)["cpu_seconds"].is_null());
  EXPECT_GT((*infer)["cpu_seconds"].get<double>(), 0.3 * (*infer)["wall_seconds"].get<double>());
  EXPECT_LT((*load)["cpu_seconds"].get<double>(), (*infer)["cpu"]["mean"].get<double>());
  EXPECT_GT((*infer)["memory_peak_bytes"].get<double>(), 0);
  EXPECT_EQ((*tail)["closed_at_exit"], 1);
  EXPECT_EQ(run["phases"]["occurrences_file"], "phases.csv");
  const std::string occurrences = slurp(out + "/phases.csv");
  EXPECT_EQ(std::count(occurrences.begin(), occurrences.end(), '\n'), 8) << occurrences;
  // The summary's table, then the reports.
  EXPECT_NE(r.err.find("infer"), std::string::npos) << r.err;
  RunOut trace = cgprof({"report", out, "--format", "trace"});
  ASSERT_EQ(trace.code, 0) << trace.err;
  json t = json::parse(trace.out);
  int infer_slices = 0;
  for (const json& e : t["traceEvents"])
    if (e.value("cat", "") == "phase" && e["name"] == "infer") ++infer_slices;
  EXPECT_EQ(infer_slices, 5);
  RunOut html = cgprof({"report", out, "--format", "html"});
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_NE(html.out.find("\"infer\""), std::string::npos);
  RunOut csv = cgprof({"report", out, "--format", "phases-csv"});
  EXPECT_NE(csv.out.find(",infer,5,0,"), std::string::npos) << csv.out;
}

TEST_F(PhasesVm, MarkRegexFromOutputWithSamples) {
  const std::string out = fresh_output_dir("phases-regex");
  RunOut r = cgprof({"run", "--rootfs", test_rootfs(), "--mark-regex", "^PHASE (\\w+)", "--output",
                     out, "--", "/bin/sh", "-c",
                     "echo PHASE warmup; cpu-burn -d 0.1s -q; for i in 1 2 3; do echo PHASE step; "
                     "cpu-burn -d 0.1s -q; done"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Passed through: every line, in order (cpu-burn's own lines in between).
  const size_t warmup_at = r.out.find("PHASE warmup\n"), step_at = r.out.find("PHASE step\n");
  EXPECT_NE(warmup_at, std::string::npos) << r.out;
  EXPECT_LT(warmup_at, step_at) << r.out;
  json run = read_run_json(out);
  const json* step = phase(run, "step");
  ASSERT_TRUE(step) << run["phases"].dump(2);
  EXPECT_EQ((*step)["count"], 3);
  EXPECT_EQ(run["phases"]["mark_regex"], "^PHASE (\\w+)");
  EXPECT_FALSE((*step)["cpu_seconds"].is_null());
}

}  // namespace
}  // namespace cgprof_vm
