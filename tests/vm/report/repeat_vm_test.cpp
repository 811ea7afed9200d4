// `cgprof run --repeat N --warmup K --label K=V` on a real cgroup v2 kernel: every run kept in its
// own directory, aggregate.json computed from their run.json files, the series stopping at the
// first failing run, and one-line errors for what cannot work.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

using nlohmann::json;

using cgprof::testing_util::exists;

json read_json_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

class RepeatVm : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u);
    rootfs_ = test_rootfs();
  }
  RunOut run(const std::string& out, std::vector<std::string> opts, std::vector<std::string> cmd) {
    std::vector<std::string> a = {"run", "--rootfs", rootfs_, "--output", out, "--rate", "200"};
    a.insert(a.end(), opts.begin(), opts.end());
    a.push_back("--");
    a.insert(a.end(), cmd.begin(), cmd.end());
    return cgprof(a);
  }
  std::string rootfs_;
};

TEST_F(RepeatVm, KeepsEveryRunAndAggregatesTheMeasuredOnes) {
  const std::string out = fresh_output_dir("repeat");
  RunOut r =
      run(out, {"--repeat", "2", "--warmup", "1", "--label", "model=burn", "--label", "size=s"},
          {"/bin/cpu-burn", "-d", "300ms", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* d : {"warmup-001", "run-001", "run-002"})
    EXPECT_TRUE(exists(out + "/" + d + "/run.json")) << d;
  EXPECT_FALSE(exists(out + "/run-003"));
  EXPECT_FALSE(exists(out + "/warmup-002"));
  EXPECT_FALSE(exists(out + "/run.json")) << "a series has no run of its own in OUTPUT";

  const json labels = {{"model", "burn"}, {"size", "s"}};
  json runs[2] = {read_run_json(out + "/run-001"), read_run_json(out + "/run-002")};
  for (const auto& j : runs) EXPECT_EQ(j["labels"], labels);
  EXPECT_EQ(read_run_json(out + "/warmup-001")["labels"], labels);

  json agg = read_json_file(out + "/aggregate.json");
  ASSERT_FALSE(agg.is_discarded());
  EXPECT_EQ(agg["schema"], "cgprof.aggregate/1");
  EXPECT_EQ(agg["runs"], 2);
  EXPECT_EQ(agg["planned_runs"], 2);
  EXPECT_EQ(agg["warmup"], 1);
  EXPECT_EQ(agg["run_dirs"], json({"run-001", "run-002"}));
  EXPECT_EQ(agg["labels"], labels);
  EXPECT_EQ(agg["command"], json({"/bin/cpu-burn", "-d", "300ms", "-q"}));
  // Statistics of the two measured runs, computed here from their run.json.
  const double a = runs[0]["wall_seconds"], b = runs[1]["wall_seconds"];
  const json& w = agg["metrics"]["wall_time"];
  EXPECT_EQ(w["n"], 2);
  EXPECT_NEAR(w["mean"].get<double>(), (a + b) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(w["min"].get<double>(), std::min(a, b));
  EXPECT_DOUBLE_EQ(w["max"].get<double>(), std::max(a, b));
  const double sd = std::fabs(a - b) / std::sqrt(2.0);
  EXPECT_NEAR(w["stddev"].get<double>(), sd, 1e-12);
  // t(0.975, 1) = 12.7062047: half width t·sd/√2.
  EXPECT_NEAR(w["ci_high"].get<double>() - (a + b) / 2, 12.7062047 * sd / std::sqrt(2.0), 1e-6);
  const double ca = runs[0]["totals"]["cpu"]["total_seconds"];
  const double cb = runs[1]["totals"]["cpu"]["total_seconds"];
  EXPECT_NEAR(agg["metrics"]["cpu_time"]["mean"].get<double>(), (ca + cb) / 2, 1e-12);
  EXPECT_NE(r.err.find("2 of 2 runs aggregated"), std::string::npos) << r.err;

  // The same --output again would mix two series: refused before anything runs.
  RunOut again = run(out, {"--repeat", "2"}, {"/bin/true"});
  EXPECT_EQ(again.code, 125);
  EXPECT_NE(again.err.find("already holds repeated runs"), std::string::npos) << again.err;
  EXPECT_EQ(std::count(again.err.begin(), again.err.end(), '\n'), 1) << again.err;
}

TEST_F(RepeatVm, SeriesStopsAtTheFirstFailingRunWithItsStatus) {
  const std::string out = fresh_output_dir("repeat-fail");
  const std::string state = out + "-state";
  std::filesystem::create_directories(state);
  // Succeeds once, then exits 3: the state lives on the host, outside the throwaway overlay.
  RunOut r = run(out, {"--repeat", "3", "-v", state + ":/state"},
                 {"/bin/sh", "-c", "[ -e /state/ran ] && exit 3; touch /state/ran"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(read_run_json(out + "/run-001")["exit"]["status"], 0);
  EXPECT_EQ(read_run_json(out + "/run-002")["exit"]["status"], 3);
  EXPECT_FALSE(exists(out + "/run-003")) << "the series went on after a failing run";
  json agg = read_json_file(out + "/aggregate.json");
  ASSERT_FALSE(agg.is_discarded());
  EXPECT_EQ(agg["runs"], 1);
  EXPECT_EQ(agg["planned_runs"], 3);
  EXPECT_EQ(agg["run_dirs"], json({"run-001"}));
  EXPECT_NE(r.err.find("run-002 ended with status 3"), std::string::npos) << r.err;
}

TEST_F(RepeatVm, InterruptStopsTheSeriesAndKeepsTheAggregateOfFinishedRuns) {
  const std::string out = fresh_output_dir("repeat-int");
  Background b({"run", "--rootfs", rootfs_, "--output", out, "--rate", "200", "--repeat", "3", "--",
                "/bin/cpu-burn", "-d", "3s", "-q"});
  // run-002 appears once its run has its cgroup and signal handling (a hang guard bounds the
  // wait; nothing here depends on how long a run takes).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!exists(out + "/run-002") && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(b.pid(), SIGINT);
  RunOut r = b.finish();
  EXPECT_EQ(r.code, 128 + SIGINT) << r.err;
  EXPECT_EQ(read_run_json(out + "/run-001")["exit"]["status"], 0);
  const json second = read_run_json(out + "/run-002");
  EXPECT_EQ(second["exit"]["interrupted"], true);
  EXPECT_EQ(second["exit"]["status"], 128 + SIGINT);
  EXPECT_FALSE(exists(out + "/run-003"));
  json agg = read_json_file(out + "/aggregate.json");
  ASSERT_FALSE(agg.is_discarded());
  EXPECT_EQ(agg["runs"], 1);
  EXPECT_EQ(agg["planned_runs"], 3);
}

TEST_F(RepeatVm, BadLabelsAndNoCgroupSeriesAreOneLineErrors) {
  const std::string out = fresh_output_dir("repeat-bad");
  RunOut bad = run(out, {"--label", "resnet18"}, {"/bin/true"});
  EXPECT_EQ(bad.code, 125);
  EXPECT_EQ(bad.err, "cgprof: --label resnet18: expected KEY=VALUE like model=resnet18\n");
  EXPECT_FALSE(exists(out)) << "a refused run made its result directory";

  RunOut twice = run(out, {"--label", "m=a", "--label", "m=b"}, {"/bin/true"});
  EXPECT_EQ(twice.code, 125);
  EXPECT_EQ(twice.err, "cgprof: --label m=b: key \"m\" is given twice; give each key once\n");

  RunOut nocg =
      cgprof({"run", "--no-cgroup", "--repeat", "2", "--rootfs", rootfs_, "--", "/bin/true"});
  EXPECT_EQ(nocg.code, 125);
  EXPECT_EQ(nocg.err,
            "cgprof: --no-cgroup writes no result: leave out --repeat, --warmup and --label, or "
            "drop --no-cgroup\n");
}

}  // namespace
}  // namespace cgprof_vm
