// Expanding result-directory arguments and loading them, on a temporary tree of run.json files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "synthetic_run.hpp"

namespace fs = std::filesystem;
using namespace cgprof;

namespace {

class RunSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/cgprof-runset-XXXXXX";
    root_ = mkdtemp(t);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string make_run(const std::string& rel, const std::string& model, double wall) {
    RunResult r = new_run_result();
    r.run_id = fs::path(rel).filename().string();
    r.labels = {{"model", model}};
    r.wall_seconds = wall;
    const std::string dir = root_ + "/" + rel;
    fs::create_directories(fs::path(dir).parent_path());
    write_run_json(r, dir);
    return dir;
  }
  std::string root_;
};

}  // namespace

TEST_F(RunSetTest, RunDirRunJsonAndParentsExpand) {
  auto a = make_run("exp/a/run-001", "a", 1);
  auto b = make_run("exp/a/run-002", "a", 2);
  auto c = make_run("exp/b/run-001", "b", 3);
  EXPECT_EQ(report::collect_run_dirs({a}), (std::vector<std::string>{a}));
  EXPECT_EQ(report::collect_run_dirs({a + "/run.json"}), (std::vector<std::string>{a}));
  auto all = report::collect_run_dirs({root_ + "/exp"});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], a);
  EXPECT_EQ(all[2], c);
  // A run named twice (itself and through its parent) counts once.
  EXPECT_EQ(report::collect_run_dirs({a, root_ + "/exp/a"}).size(), 2u);
  (void)b;
}

TEST_F(RunSetTest, ExperimentIndexListsFinishedRunsInOrder) {
  auto b = make_run("exp/b", "b", 3);
  auto a = make_run("exp/a", "a", 1);
  std::ofstream(root_ + "/exp/index.json")
      << R"({"runs": [{"dir": "b"}, {"dir": "never-ran"}, {"dir": "a"}]})";
  EXPECT_EQ(report::collect_run_dirs({root_ + "/exp"}),
            (std::vector<std::string>{root_ + "/exp/b", root_ + "/exp/a"}));
}

TEST_F(RunSetTest, WarmUpsCountOnlyWhenNamed) {
  auto w = make_run("exp/w/warmup-001", "w", 9);
  auto r = make_run("exp/w/run-001", "w", 1);
  std::ofstream(root_ + "/exp/index.json")
      << R"({"runs": [{"dir": "w/warmup-001", "warmup": true}, {"dir": "w/run-001"}]})";
  EXPECT_EQ(report::collect_run_dirs({root_ + "/exp"}), (std::vector<std::string>{r}));
  auto rw = make_run("rep/warmup-001", "x", 9);
  auto r1 = make_run("rep/run-001", "x", 1);
  auto r2 = make_run("rep/run-002", "x", 2);
  std::ofstream(root_ + "/rep/aggregate.json") << R"({"run_dirs": ["run-001", "run-002"]})";
  EXPECT_EQ(report::collect_run_dirs({root_ + "/rep"}), (std::vector<std::string>{r1, r2}));
  // Below a plain directory too, and a warm-up named itself is a run like any other.
  EXPECT_EQ(report::collect_run_dirs({root_}).size(), 3u);
  EXPECT_EQ(report::collect_run_dirs({rw}), (std::vector<std::string>{rw}));
  (void)w;
}

TEST_F(RunSetTest, NothingThereIsAnErrorNamingTheArgument) {
  fs::create_directories(root_ + "/empty/x");
  try {
    report::collect_run_dirs({root_ + "/empty"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(root_ + "/empty: no run.json"), std::string::npos);
  }
  EXPECT_THROW(report::collect_run_dirs({root_ + "/missing"}), Error);
}

TEST_F(RunSetTest, LoadRunsReadsResults) {
  make_run("r/one", "a", 1.5);
  auto runs = report::load_runs({root_ + "/r"});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].result.wall_seconds, 1.5);
  EXPECT_EQ(runs[0].result.labels.at("model"), "a");
  auto rr = report::load_report_run(runs[0].dir);
  EXPECT_EQ(rr.name, "one");
  EXPECT_TRUE(rr.samples.empty());
  EXPECT_FALSE(rr.summary_text.empty());
}

TEST(RunNames, LabelsThenDirectories) {
  std::vector<report::ReportRun> runs{fixtures::synthetic_run("a"), fixtures::synthetic_run("b")};
  runs[0].name = runs[1].name = "";
  report::assign_run_names(runs);
  EXPECT_EQ(runs[0].name, "model=a rpi4");
  EXPECT_EQ(runs[1].name, "model=b rpi4");
  runs[1].result.labels = runs[0].result.labels;  // same labels: fall back to directories
  runs[0].name = runs[1].name = "";
  runs[0].dir = "/x/exp1/run-001";
  runs[1].dir = "/x/exp2/run-001";
  report::assign_run_names(runs);
  EXPECT_EQ(runs[0].name, "exp1/run-001");
  EXPECT_EQ(runs[1].name, "exp2/run-001");
}

TEST(RunNames, ExperimentRunsGetAsMuchOfTheirPathAsTellsThemApart) {
  std::vector<report::ReportRun> runs(4, fixtures::synthetic_run("a"));
  runs[0].dir = "/r/exp/cpu-burn/rpi4/run-001";
  runs[1].dir = "/r/exp/mem-alloc/rpi4/run-001";
  runs[2].dir = "/r/exp/cpu-burn/rpi4/run-002/";
  runs[3].dir = "/r/exp/mem-alloc/rpi5/run-001";
  for (auto& r : runs) r.name = "";
  report::assign_run_names(runs);
  EXPECT_EQ(runs[0].name, "cpu-burn/rpi4/run-001");
  EXPECT_EQ(runs[1].name, "mem-alloc/rpi4/run-001");
  EXPECT_EQ(runs[2].name, "run-002");  // unique on its own
  EXPECT_EQ(runs[3].name, "rpi5/run-001");
}

TEST(SamplesCsv, OneRunUsesSamplesCsvColumnsSeveralAddRun) {
  auto a = fixtures::synthetic_run("a", 3);
  std::string csv = report::to_samples_csv({a});
  EXPECT_EQ(csv.substr(0, csv.find('\n')).substr(0, 16), "t_s,t_ns,valid,c");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  // Second sample: 1 ms + 10 ms after the origin.
  auto line2 = csv.substr(csv.find('\n') + 1);
  line2 = line2.substr(line2.find('\n') + 1);
  EXPECT_EQ(line2.substr(0, 9), "0.011000,");
  auto b = fixtures::synthetic_run("b,c", 2);
  std::string multi = report::to_samples_csv({a, b});
  EXPECT_EQ(multi.substr(0, 8), "run,t_s,");
  EXPECT_NE(multi.find("\n\"b,c\",0.001000,"), std::string::npos);
}

TEST(SamplesCsv, OnlyTheSampledGroupsAreColumns) {
  auto a = fixtures::synthetic_run("a", 2);
  a.result.sampler.groups = kSampleCpu;
  std::string csv = report::to_samples_csv({a});
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "t_s,t_ns,valid,cpu_usage_usec,cpu_user_usec,cpu_system_usec,cpu_nr_periods,"
            "cpu_nr_throttled,cpu_throttled_usec,cpu_read_ns");
  // Several runs: the union of their groups.
  auto b = fixtures::synthetic_run("b", 2);
  b.result.sampler.groups = kSamplePids;
  std::string both = report::to_samples_csv({a, b});
  EXPECT_EQ(both.substr(0, both.find('\n')),
            "run,t_s,t_ns,valid,cpu_usage_usec,cpu_user_usec,cpu_system_usec,cpu_nr_periods,"
            "cpu_nr_throttled,cpu_throttled_usec,cpu_read_ns,pids_current");
  // Each row has as many fields as the header.
  std::istringstream lines(both);
  std::string line;
  while (std::getline(lines, line)) EXPECT_EQ(std::count(line.begin(), line.end(), ','), 11) << line;
}

TEST(Aggregate, JsonHasEveryStatistic) {
  RunResult r1, r2;
  r1.wall_seconds = 1;
  r2.wall_seconds = 3;
  auto agg = analysis::aggregate({r1, r2});
  report::AggregateInfo info;
  info.run_dirs = {"run-001", "run-002"};
  info.warmup = 1;
  auto j = nlohmann::json::parse(report::aggregate_to_json(agg, info));
  EXPECT_EQ(j["schema"], "cgprof.aggregate/1");
  EXPECT_EQ(j["runs"], 2);
  EXPECT_EQ(j["planned_runs"], 2);  // not given: the runs listed
  EXPECT_EQ(j["warmup"], 1);
  const auto& w = j["metrics"]["wall_time"];
  EXPECT_EQ(w["unit"], "s");
  EXPECT_DOUBLE_EQ(w["mean"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(w["stddev"].get<double>(), std::sqrt(2.0));
  EXPECT_NEAR(w["ci_high"].get<double>(), 2 + 12.7062047, 1e-6);  // t(0.975,1)·√2/√2
  EXPECT_EQ(w["min"], 1);
  EXPECT_EQ(w["max"], 3);
  EXPECT_NE(report::format_aggregate(agg).find("wall_time"), std::string::npos);
}

TEST(Aggregate, PlannedRunsShowsASeriesThatStoppedEarly) {
  RunResult r1;
  r1.wall_seconds = 1;
  report::AggregateInfo info;
  info.run_dirs = {"run-001"};
  info.planned = 5;
  auto j = nlohmann::json::parse(report::aggregate_to_json(analysis::aggregate({r1}), info));
  EXPECT_EQ(j["runs"], 1);
  EXPECT_EQ(j["planned_runs"], 5);
}
