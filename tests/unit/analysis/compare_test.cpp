// Ranking, rank agreement, label matching and run metrics on synthetic results.
#include <gtest/gtest.h>

#include <cmath>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof;
using namespace cgprof::analysis;

TEST(Compare, RankByMeanWithRatioToBest) {
  auto items = rank_items({{"resnet18", {2.0, 2.2}}, {"mobilenet", {1.0, 1.0}}, {"vit", {4.0}}});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].key, "mobilenet");
  EXPECT_EQ(items[1].key, "resnet18");
  EXPECT_EQ(items[2].key, "vit");
  EXPECT_EQ(items[0].rank, 1u);
  EXPECT_EQ(items[2].rank, 3u);
  EXPECT_DOUBLE_EQ(items[1].ratio_to_best, 2.1);
  EXPECT_DOUBLE_EQ(items[2].ratio_to_best, 4.0);
  EXPECT_EQ(items[1].value.n, 2u);
}

TEST(Compare, EqualMeansShareARank) {
  auto items = rank_items({{"a", {1}}, {"b", {2}}, {"c", {2}}, {"d", {3}}});
  EXPECT_EQ(items[1].rank, 2u);
  EXPECT_EQ(items[2].rank, 2u);
  EXPECT_EQ(items[3].rank, 4u);
}

TEST(Compare, AgreementOverCommonKeys) {
  // cgprof says a<b<c<d; the device says a<c<b<d -> one swapped pair of 6: tau = 4/6.
  std::map<std::string, double> cg{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"only-cg", 9}};
  std::map<std::string, double> dev{{"a", 10}, {"b", 30}, {"c", 20}, {"d", 40}, {"x", 1}};
  auto r = rank_agreement(cg, dev);
  EXPECT_EQ(r.keys, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_NEAR(r.kendall_tau, 4.0 / 6, 1e-12);
  EXPECT_NEAR(r.spearman_rho, 0.8, 1e-12);  // Σd² = 2 -> 1 - 12/60
  EXPECT_EQ(r.only_a, (std::vector<std::string>{"only-cg"}));
  EXPECT_EQ(r.only_b, (std::vector<std::string>{"x"}));
}

TEST(Compare, AgreementNeedsTwoCommonItems) {
  EXPECT_THROW(rank_agreement({{"a", 1}, {"b", 2}}, {{"a", 1}, {"c", 2}}), Error);
}

TEST(Labels, KeyIsSortedAndSkipsKeys) {
  std::map<std::string, std::string> l{{"model", "resnet18"}, {"batch", "4"}, {"device", "rpi4"}};
  EXPECT_EQ(label_key(l), "batch=4 device=rpi4 model=resnet18");
  EXPECT_EQ(label_key(l, {"device"}), "batch=4 model=resnet18");
  EXPECT_EQ(label_key({}), "");
}

TEST(Labels, CsvLabelMatching) {
  std::map<std::string, std::string> l{{"model", "resnet18"}, {"batch", "4"}};
  EXPECT_TRUE(label_matches("resnet18", l, "id1", "/r/run-001"));
  EXPECT_TRUE(label_matches("model=resnet18", l, "id1", ""));
  EXPECT_TRUE(label_matches("model=resnet18;batch=4", l, "id1", ""));
  EXPECT_TRUE(label_matches("model=resnet18 batch=4", l, "id1", ""));
  EXPECT_FALSE(label_matches("model=resnet18;batch=8", l, "id1", ""));
  EXPECT_FALSE(label_matches("model=mobilenet", l, "id1", ""));
  EXPECT_FALSE(label_matches("mobilenet", l, "id1", ""));
  EXPECT_TRUE(label_matches("id1", l, "id1", ""));
  EXPECT_TRUE(label_matches("run-001", l, "x", "/r/run-001/"));
}

namespace {
RunResult result_with(double wall, double cpu, uint64_t peak) {
  RunResult r;
  r.wall_seconds = wall;
  r.totals.cpu_total_seconds = cpu;
  r.totals.memory_peak_bytes = peak;
  return r;
}
}  // namespace

TEST(Metrics, NamedMetricsOfARun) {
  RunResult r = result_with(2.5, 1.25, 1000);
  r.totals.throttled_seconds = 0.5;
  auto m = run_metrics(r);
  EXPECT_EQ(m.at("wall_time"), 2.5);
  EXPECT_EQ(m.at("cpu_time"), 1.25);
  EXPECT_EQ(m.at("peak_memory"), 1000);
  EXPECT_FALSE(m.count("throttled_time"));  // no quota: not a measurement
  EXPECT_FALSE(m.count("cpu_pressure"));    // no PSI
  r.quota_cores = 1.0;
  r.totals.psi_measured = true;
  r.totals.cpu_pressure.some_seconds = 0.1;
  m = run_metrics(r);
  EXPECT_EQ(m.at("throttled_time"), 0.5);
  EXPECT_EQ(m.at("cpu_pressure"), 0.1);
  for (const auto& [k, v] : m) EXPECT_NO_THROW(find_metric(k)) << k;
}

TEST(Metrics, UnknownMetricListsValidOnes) {
  try {
    find_metric("walltime");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wall_time"), std::string::npos);
  }
}

TEST(Metrics, AggregateOfRepeats) {
  auto a = aggregate({result_with(1, 1, 10), result_with(2, 1, 20), result_with(3, 1, 30)});
  EXPECT_EQ(a.runs, 3u);
  const Summary& w = a.metrics.at("wall_time");
  EXPECT_DOUBLE_EQ(w.mean, 2);
  EXPECT_DOUBLE_EQ(w.stddev, 1);
  EXPECT_NEAR(w.ci_high - w.mean, 4.30265273 / std::sqrt(3.0), 1e-7);
  EXPECT_DOUBLE_EQ(a.metrics.at("peak_memory").max, 30);
  EXPECT_DOUBLE_EQ(a.metrics.at("cpu_time").stddev, 0);
}

namespace {
RunPoint point(const std::string& model, double wall, double mem) {
  return {"/r/" + model,
          model + "-id",
          {{"model", model}},
          {{"wall_time", wall}, {"peak_memory", mem}}};
}
}  // namespace

// Device = 4·cgprof + 1 exactly for wall time; two repeats of "b" are averaged into x.
TEST(Calibration, PairsLabelsWithRunsAndFitsPerMetric) {
  std::vector<RunPoint> runs{point("a", 1, 100), point("b", 1.9, 200), point("b", 2.1, 220),
                             point("c", 3, 300)};
  auto meas = parse_measurements_csv(
      "a,wall_time,5\nb,wall_time,9\nmodel=c,wall_time,13\n"
      "a,peak_memory,110\nb,peak_memory,200\nc,peak_memory,330\n",
      "dev.csv");
  auto cal = calibrate(meas, runs, "dev.csv");
  ASSERT_EQ(cal.size(), 2u);
  EXPECT_EQ(cal[0].metric, "wall_time");
  ASSERT_EQ(cal[0].points.size(), 3u);
  EXPECT_EQ(cal[0].points[1].runs, 2u);
  EXPECT_DOUBLE_EQ(cal[0].points[1].x, 2.0);
  EXPECT_NEAR(cal[0].fit.slope, 4, 1e-12);
  EXPECT_NEAR(cal[0].fit.intercept, 1, 1e-12);
  EXPECT_NEAR(cal[0].fit.r2, 1, 1e-12);
  EXPECT_EQ(cal[1].metric, "peak_memory");
  // x 100, 210, 300; y 110, 200, 330 -> worst residual is the middle point.
  EXPECT_EQ(cal[1].points[cal[1].fit.worst].label, "b");
  // Leave-one-out, in the order of the points: an exact line predicts each point exactly; for
  // b, the line through (100,110) and (300,330) is 1.1·x, so ŷ(210) = 231: +15.5%.
  ASSERT_EQ(cal[0].loo.evaluated, 3u);
  EXPECT_NEAR(cal[0].loo.median_abs_pct_error, 0, 1e-9);
  ASSERT_EQ(cal[1].loo.pct_error.size(), 3u);
  EXPECT_NEAR(*cal[1].loo.predicted[1], 231, 1e-9);
  EXPECT_NEAR(*cal[1].loo.pct_error[1], 15.5, 1e-9);
  EXPECT_DOUBLE_EQ(cal[1].loo.share_within, 0);
}

TEST(Calibration, UnmatchedLabelNamesLineAndKnownLabels) {
  std::vector<RunPoint> runs{point("a", 1, 1), point("b", 2, 2)};
  auto meas = parse_measurements_csv("a,wall_time,5\nzzz,wall_time,9\n", "dev.csv");
  try {
    calibrate(meas, runs, "dev.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "dev.csv: line 2: label \"zzz\" matches no run with wall_time; the runs have "
              "labels: model=a, model=b");
  }
}

TEST(Calibration, OnePointIsNotAFit) {
  std::vector<RunPoint> runs{point("a", 1, 1)};
  auto meas = parse_measurements_csv("a,wall_time,5\n", "dev.csv");
  EXPECT_THROW(calibrate(meas, runs, "dev.csv"), Error);
}

// Runs at speed 0.25 took x s, the device 2x as long: its cores are half as fast again.
TEST(Calibration, CoreSpeedFromWallTimeSlope) {
  EXPECT_DOUBLE_EQ(derived_core_speed(0.25, 2.0), 0.125);
  EXPECT_DOUBLE_EQ(derived_core_speed(0.25, 0.5), 0.5);
  EXPECT_THROW(derived_core_speed(0.25, 0), Error);
  EXPECT_THROW(derived_core_speed(0.25, -1), Error);
}
