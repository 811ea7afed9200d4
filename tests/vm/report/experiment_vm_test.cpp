// `cgprof experiment` end to end on a real cgroup v2 kernel: two busybox workloads x two device
// profiles x two repeats, interrupted with SIGINT once the first runs are complete, then resumed.
// The finished run directories are then the input of report, compare, calibrate and predict,
// whose outputs are checked against the run.json files and values computed here.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cgprof/sys.hpp"
#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kWorkloads = {"cpu-burn", "mem-alloc"};
const std::vector<std::string> kDevices = {"rpi4", "rpi-zero-2w"};  // configs/devices/*.toml
constexpr int kRepeats = 2;
constexpr std::size_t kPlanned = 2 * 2 * kRepeats;

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

json read_json(const std::string& path) {
  return json::parse(cgprof::read_file_or_empty(path), nullptr, false);
}

using cgprof::testing_util::exists;

std::string profile_file(const std::string& device) {
  return env("CGPROF_SOURCE_DIR") + "/configs/devices/" + device + ".toml";
}

std::string run_id(const std::string& workload, const std::string& device, int n) {
  char num[16];
  std::snprintf(num, sizeof num, "%03d", n);
  return workload + "/" + device + "/run-" + num;
}

// What the interrupted and the resumed invocation did, for the first test to check.
struct ExperimentOutcome {
  std::string base, results;  // the experiment file's directory, and its results
  RunOut interrupted, resumed;
  json index_after_interrupt, index_after_resume;
  std::vector<std::string> done_before_resume;  // ids complete when the first invocation ended
  std::vector<std::string> markers_kept;        // of those, the ones whose marker file survived
};

// Runs the matrix once per test binary: start, SIGINT after two complete runs, resume.
const ExperimentOutcome& experiment() {
  static ExperimentOutcome o;
  static bool ran = false;
  if (ran) return o;
  ran = true;
  o.base = fresh_output_dir("experiment");
  fs::create_directories(o.base);
  o.results = o.base + "/results";
  const std::string& rootfs = test_rootfs();
  std::string toml =
      "name = \"vm-matrix\"\noutput = \"results\"\nrepeat = " + std::to_string(kRepeats) +
      "\ndevices = [\"" + profile_file(kDevices[0]) + "\", \"" + profile_file(kDevices[1]) +
      "\"]\nrun_args = [\"--rate\", \"200\"]\n";
  toml +=
      "\n[[workload]]\nname = \"cpu-burn\"\nrootfs = \"" + rootfs +
      "\"\ncommand = [\"/bin/cpu-burn\", \"-d\", \"1s\", \"-q\"]\nlabels = { kind = \"cpu\" }\n";
  toml += "\n[[workload]]\nname = \"mem-alloc\"\nrootfs = \"" + rootfs +
          "\"\ncommand = [\"/bin/mem-alloc\", \"-s\", \"32m\", \"-H\", \"2s\", \"-q\"]\n"
          "labels = { kind = \"memory\" }\n";
  const std::string file = o.base + "/matrix.toml";
  spit(file, toml);

  {
    Background exp({"experiment", file});
    // Wait (bounded, as a hang guard only) until two runs are complete, then interrupt.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (std::chrono::steady_clock::now() < give_up) {
      json idx = read_json(o.results + "/index.json");
      if (!idx.is_discarded() && idx.value("complete", 0) >= 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(exp.pid(), SIGINT);
    o.interrupted = exp.finish();
  }
  o.index_after_interrupt = read_json(o.results + "/index.json");
  if (!o.index_after_interrupt.is_discarded()) {
    for (const auto& r : o.index_after_interrupt["runs"]) {
      if (r["state"] != "done") continue;
      const std::string id = r["id"];
      o.done_before_resume.push_back(id);
      spit(o.results + "/" + id + "/kept-marker", "a redone run would lose this file\n");
    }
  }
  o.resumed = cgprof({"experiment", file});
  o.index_after_resume = read_json(o.results + "/index.json");
  for (const auto& id : o.done_before_resume)
    if (exists(o.results + "/" + id + "/kept-marker")) o.markers_kept.push_back(id);
  return o;
}

class ExperimentVm : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u);
    const ExperimentOutcome& o = experiment();
    ASSERT_EQ(o.resumed.code, 0) << o.resumed.err;
    ASSERT_FALSE(o.index_after_resume.is_discarded());
    ASSERT_EQ(o.index_after_resume["complete"], kPlanned);
    results_ = o.results;
  }
  // Mean of a run.json field over the repeats of workload on device.
  double mean_of(const std::string& workload, const std::string& device,
                 double (*field)(const json&)) const {
    double sum = 0;
    for (int n = 1; n <= kRepeats; ++n)
      sum += field(read_run_json(results_ + "/" + run_id(workload, device, n)));
    return sum / kRepeats;
  }
  RunOut run(std::vector<std::string> args) const { return cgprof(args); }
  std::string results_;
};

double wall(const json& j) {
  return j["wall_seconds"];
}
double cpu(const json& j) {
  return j["totals"]["cpu"]["total_seconds"];
}

TEST_F(ExperimentVm, InterruptedMatrixResumesWithoutRedoingFinishedRuns) {
  const ExperimentOutcome& o = experiment();
  EXPECT_EQ(o.interrupted.code, 128 + SIGINT) << o.interrupted.err;
  EXPECT_NE(o.interrupted.err.find("interrupted, rerun the same command to resume"),
            std::string::npos)
      << o.interrupted.err;
  ASSERT_FALSE(o.index_after_interrupt.is_discarded());
  EXPECT_EQ(o.index_after_interrupt["planned"], kPlanned);
  const std::size_t done = o.done_before_resume.size();
  std::printf("interrupted after %zu of %zu runs\n", done, kPlanned);
  EXPECT_GE(done, 2u);
  EXPECT_LT(done, kPlanned) << "the matrix finished before the interrupt arrived";
  // Runs are made in matrix order, so the finished ones are the first ones.
  for (std::size_t i = 0; i < done; ++i)
    EXPECT_EQ(o.index_after_interrupt["runs"][i]["state"], "done") << i;
  for (std::size_t i = done; i < kPlanned; ++i) {
    const std::string state = o.index_after_interrupt["runs"][i]["state"];
    EXPECT_TRUE(state == "incomplete" || state == "pending") << i << ": " << state;
  }

  // The resume skipped every finished run (their directories were not recreated) and made the
  // rest.
  EXPECT_EQ(o.markers_kept, o.done_before_resume);
  EXPECT_NE(o.resumed.err.find(std::to_string(done) + " already complete"), std::string::npos)
      << o.resumed.err;
  EXPECT_NE(o.resumed.err.find(std::to_string(kPlanned - done) + " run now"), std::string::npos)
      << o.resumed.err;
  const json& idx = o.index_after_resume;
  ASSERT_EQ(idx["runs"].size(), kPlanned);
  std::set<std::string> ids;
  for (const auto& r : idx["runs"]) {
    const std::string id = r["id"];
    ids.insert(id);
    EXPECT_EQ(r["state"], "done") << id;
    EXPECT_EQ(r["exit_status"], 0) << id;
    const json run = read_run_json(results_ + "/" + id);
    EXPECT_FALSE(run["exit"]["interrupted"].get<bool>()) << id;
    // --label from the experiment reached run.json.
    EXPECT_EQ(run["labels"]["workload"], r["workload"]) << id;
    EXPECT_EQ(run["labels"]["kind"], r["workload"] == "cpu-burn" ? "cpu" : "memory") << id;
    // The index names a device as the experiment file does (here a profile file).
    EXPECT_EQ(run["device"]["name"], fs::path(r["device"].get<std::string>()).stem().string())
        << id;
    EXPECT_DOUBLE_EQ(r["metrics"]["wall_time"].get<double>(), wall(run)) << id;
  }
  for (const auto& w : kWorkloads)
    for (const auto& d : kDevices)
      for (int n = 1; n <= kRepeats; ++n) EXPECT_EQ(ids.count(run_id(w, d, n)), 1u);
  const std::string csv = cgprof::read_file_or_empty(results_ + "/index.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(kPlanned + 1));
}

TEST_F(ExperimentVm, ReportJsonIsTheRunJsonOfEveryRun) {
  const std::string out = results_ + "/../report.json";
  RunOut r = run({"report", results_, "--format", "json", "-o", out});
  ASSERT_EQ(r.code, 0) << r.err;
  json arr = read_json(out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), kPlanned);
  for (const auto& j : arr) {
    const json run = read_run_json(j["result_dir"]);
    EXPECT_EQ(j["wall_seconds"], run["wall_seconds"]);
    EXPECT_EQ(j["totals"], run["totals"]);
    EXPECT_EQ(j["labels"], run["labels"]);
  }
}

TEST_F(ExperimentVm, ReportCsvHtmlAndTraceHoldEveryRun) {
  const std::string dir = results_ + "/..";
  for (const char* f : {"csv", "html", "trace"}) {
    RunOut r = run({"report", results_, "--format", f, "-o", dir + "/report." + f});
    ASSERT_EQ(r.code, 0) << f << ": " << r.err;
  }
  // Every run has a distinct name that says which cell of the matrix it is.
  std::vector<std::string> names;
  for (const auto& w : kWorkloads)
    for (const auto& d : kDevices)
      for (int n = 1; n <= kRepeats; ++n) names.push_back(run_id(w, d, n));

  const std::string csv = cgprof::read_file_or_empty(dir + "/report.csv");
  EXPECT_EQ(csv.substr(0, 8), "run,t_s,") << csv.substr(0, 80);
  for (const auto& n : names)
    EXPECT_NE(csv.find("\n" + n + ","), std::string::npos) << n << " has no sample row";

  const std::string html = cgprof::read_file_or_empty(dir + "/report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const auto& n : names) EXPECT_NE(html.find(n), std::string::npos) << n;
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "the page fetches something";

  json trace = read_json(dir + "/report.trace");
  ASSERT_FALSE(trace.is_discarded());
  std::map<int, std::string> process;
  std::map<int, double> mem_max, wall_seen;
  for (const auto& e : trace["traceEvents"]) {
    const int pid = e.value("pid", -1);
    if (e["ph"] == "M" && e["name"] == "process_name")
      process[pid] = e["args"]["name"].get<std::string>();
    if (e["ph"] == "C" && e["name"] == "memory_current")
      mem_max[pid] = std::max(mem_max[pid], e["args"].begin()->get<double>());
    if (e["ph"] == "X" && e["name"] == "workload")
      wall_seen[pid] = e["args"]["wall_seconds"].get<double>();
  }
  ASSERT_EQ(process.size(), kPlanned);
  for (auto [pid, name] : process) {
    ASSERT_EQ(name.rfind("cgprof ", 0), 0u) << name;  // trace processes are "cgprof <run>"
    name = name.substr(7);
    ASSERT_TRUE(std::find(names.begin(), names.end(), name) != names.end()) << name;
    const json run = read_run_json(results_ + "/" + name);
    EXPECT_EQ(wall_seen[pid], run["wall_seconds"].get<double>()) << name;
    // Sampled memory.current never exceeds the kernel's own high-water mark, memory.peak.
    EXPECT_GT(mem_max[pid], 0) << name;
    EXPECT_LE(mem_max[pid], run["totals"]["memory"]["peak_bytes"].get<double>()) << name;
  }
}

TEST_F(ExperimentVm, CompareByDeviceRanksWithTheMeansOfRunJson) {
  RunOut r = run({"compare", results_, "--by", "device", "--metric", "wall_time", "--group",
                  "workload", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  std::map<std::string, std::vector<std::string>> order;  // device -> workloads, best first
  for (const auto& d : kDevices) {
    const json& ranking = doc["rankings"][d];
    ASSERT_EQ(ranking.size(), 2u) << d;
    const double a = mean_of(kWorkloads[0], d, wall), b = mean_of(kWorkloads[1], d, wall);
    const double best = std::min(a, b);
    for (const auto& item : ranking) {
      const std::string key = item["item"];
      const std::string w = key.substr(key.find('=') + 1);
      const double expect = w == kWorkloads[0] ? a : b;
      EXPECT_EQ(item["runs"], kRepeats) << key;
      EXPECT_NEAR(item["mean"].get<double>(), expect, 1e-9 * expect) << d << " " << key;
      EXPECT_NEAR(item["ratio_to_best"].get<double>(), expect / best, 1e-9) << d << " " << key;
      order[d].push_back(w);
    }
    EXPECT_EQ(order[d][0], a <= b ? kWorkloads[0] : kWorkloads[1]) << d;
  }
  // Two items: tau = rho = +1 when both devices rank them alike, -1 otherwise.
  ASSERT_EQ(doc["agreement"].size(), 1u);
  const double same = order[kDevices[0]] == order[kDevices[1]] ? 1.0 : -1.0;
  EXPECT_DOUBLE_EQ(doc["agreement"][0]["kendall_tau_b"].get<double>(), same);
  EXPECT_DOUBLE_EQ(doc["agreement"][0]["spearman_rho"].get<double>(), same);
}

// device = 3·cgprof + 0.5 s for wall time, 2·cgprof + 0.1 s for CPU time: two labels, so the fit
// must be exact and recover the line from the run.json means.
TEST_F(ExperimentVm, CalibrateWritesAProfileThatDevicesShowAndPredictUse) {
  const std::string dir = results_ + "/..";
  const std::string dev = kDevices[0];
  const std::string profile = dir + "/rpi4-calibrated.toml";
  std::filesystem::copy_file(profile_file(dev), profile,
                             std::filesystem::copy_options::overwrite_existing);
  std::string csv = "label,metric,value\n";
  char line[256];
  std::map<std::string, double> x_wall, x_cpu;
  for (const auto& w : kWorkloads) {
    x_wall[w] = mean_of(w, dev, wall);
    x_cpu[w] = mean_of(w, dev, cpu);
    std::snprintf(line, sizeof line, "workload=%s,wall_time,%.17g\nworkload=%s,cpu_time,%.17g\n",
                  w.c_str(), 3 * x_wall[w] + 0.5, w.c_str(), 2 * x_cpu[w] + 0.1);
    csv += line;
  }
  spit(dir + "/measured.csv", csv);
  std::vector<std::string> runs;
  for (const auto& w : kWorkloads) runs.push_back(results_ + "/" + w + "/" + dev);

  std::vector<std::string> args = {"calibrate",           "--device", profile, "--measured",
                                   dir + "/measured.csv", "--format", "json"};
  args.insert(args.end(), runs.begin(), runs.end());
  RunOut c = run(args);
  ASSERT_EQ(c.code, 0) << c.err;
  json cal = json::parse(c.out);
  std::map<std::string, json> fits;
  for (const auto& m : cal["metrics"]) fits[m["metric"]] = m;
  ASSERT_EQ(fits.size(), 2u);
  EXPECT_NEAR(fits["wall_time"]["slope"].get<double>(), 3, 1e-6);
  EXPECT_NEAR(fits["wall_time"]["intercept"].get<double>(), 0.5, 1e-6);
  EXPECT_NEAR(fits["wall_time"]["r2"].get<double>(), 1, 1e-9);
  EXPECT_NEAR(fits["cpu_time"]["slope"].get<double>(), 2, 1e-6);
  EXPECT_NEAR(fits["cpu_time"]["intercept"].get<double>(), 0.1, 1e-6);
  for (const auto& p : fits["wall_time"]["points"]) {
    const std::string label = p["label"];
    EXPECT_NEAR(p["cgprof"].get<double>(), x_wall[label.substr(label.find('=') + 1)], 1e-12);
    EXPECT_EQ(p["runs"], kRepeats);
  }
  // The runs had the profile's quota (cores x speed); the derived speed is that speed / slope.
  const json first = read_run_json(runs[0] + "/run-001");
  const double speed_used = first["device"]["quota_cores"].get<double>() / 4;  // rpi4: 4 cores
  ASSERT_TRUE(cal.contains("core_speed")) << c.out;
  EXPECT_NEAR(cal["core_speed"].get<double>(), speed_used / 3, 1e-6);
  EXPECT_EQ(cal["written_to"], profile);

  RunOut show = run({"devices", "show", profile, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  json shown = json::parse(show.out);
  EXPECT_NEAR(shown["calibration"]["wall_time"]["slope"].get<double>(), 3, 1e-5);
  EXPECT_NEAR(shown["calibration"]["cpu_time"]["intercept"].get<double>(), 0.1, 1e-5);
  EXPECT_EQ(shown["calibration"]["wall_time"]["points"], 2);
  EXPECT_NEAR(shown["limits"]["core_speed"].get<double>(), speed_used / 3, 1e-5);

  // predict: both devices' runs through the rpi4 fit; two points fit exactly, so no interval.
  std::vector<std::string> pargs = {"predict", "--device", profile, "--format", "json", results_};
  RunOut p = run(pargs);
  ASSERT_EQ(p.code, 0) << p.err;
  json pred = json::parse(p.out);
  std::size_t checked = 0;
  for (const auto& e : pred["predictions"]) {
    if (e["metric"] != "wall_time") continue;
    const double x = e["cgprof"], y = e["predicted"];
    EXPECT_NEAR(y, 3 * x + 0.5, 1e-5 * y) << e["item"];
    EXPECT_DOUBLE_EQ(e["low"].get<double>(), y);
    EXPECT_DOUBLE_EQ(e["high"].get<double>(), y);
    ++checked;
  }
  EXPECT_GE(checked, 2u) << p.out;
  // A single run directory: its x is its own run.json value.
  RunOut one = run({"predict", "--device", profile, "--metric", "cpu_time", "--format", "json",
                    results_ + "/" + run_id(kWorkloads[0], dev, 1)});
  ASSERT_EQ(one.code, 0) << one.err;
  json one_pred = json::parse(one.out)["predictions"];
  ASSERT_EQ(one_pred.size(), 1u) << one.out;
  const double x1 = cpu(read_run_json(results_ + "/" + run_id(kWorkloads[0], dev, 1)));
  EXPECT_NEAR(one_pred[0]["cgprof"].get<double>(), x1, 1e-12);
  EXPECT_NEAR(one_pred[0]["predicted"].get<double>(), 2 * x1 + 0.1, 1e-5);
}

// A terminal's Ctrl-C goes to the whole foreground process group. The experiment must pass it to
// the run in progress exactly once, so the run forwards it to its workload and gives it time to
// stop (a second signal would kill at once): here the workload traps SIGINT and exits 7.
TEST(ExperimentTerminal, CtrlCReachesTheWorkloadOnce) {
  const std::string base = "/tmp/cgprof-vm-exp-tty";
  fs::remove_all(base);
  fs::create_directories(base + "/out");
  ::chmod((base + "/out").c_str(), 0777);
  const std::string script =
      "trap 'echo got-int >> /out/log; exit 7' INT; echo ready > /out/ready; "
      "while :; do sleep 0.2; done";
  std::string toml = "devices = [\"host\"]\nrun_args = [\"-v\", \"" + base + "/out:/out\"]\n" +
                     "\n[[workload]]\nname = \"trapper\"\nrootfs = \"" + test_rootfs() +
                     "\"\ncommand = [\"/bin/sh\", \"-c\", \"" + script + "\"]\n";
  spit(base + "/exp.toml", toml);
  const std::string bin = env("CGPROF_BIN");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);  // a process group of its own, like a shell's foreground job
    ::signal(SIGINT, SIG_DFL);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(bin.c_str(), bin.c_str(), "experiment", (base + "/exp.toml").c_str(), nullptr);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!exists(base + "/out/ready") && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(exists(base + "/out/ready")) << "the workload never started";
  ::kill(-pid, SIGINT);  // what the terminal does
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGINT);
  EXPECT_EQ(cgprof::read_file_or_empty(base + "/out/log"), "got-int\n") << "the workload saw the signal once";
  json r = read_run_json(base + "/exp-results/trapper/host/run-001");
  EXPECT_EQ(r["exit"]["exit_code"], 7) << r["exit"].dump();
  EXPECT_EQ(r["exit"]["interrupted"], true) << r["exit"].dump();
  fs::remove_all(base);
}

}  // namespace
}  // namespace cgprof_vm
