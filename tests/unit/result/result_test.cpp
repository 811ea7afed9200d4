#include "cgprof/result.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;

CounterSnapshot snapshot(uint64_t usage, uint64_t user, uint64_t sys, uint64_t periods,
                         uint64_t throttled, uint64_t throttled_usec) {
  CounterSnapshot s;
  s.has_cpu = true;
  s.cpu = {usage, user, sys, periods, throttled, throttled_usec, 0x3f};
  s.has_memory_stat = s.has_memory_events = s.has_io = true;
  return s;
}

TEST(ComputeTotals, CpuFromExactDeltasAndQuota) {
  CounterSnapshot a = snapshot(1'000'000, 600'000, 400'000, 10, 2, 50'000);
  CounterSnapshot b = snapshot(6'000'000, 4'600'000, 1'400'000, 110, 52, 2'550'000);
  SampleSummary samples;
  samples.samples = 100;
  samples.peak_cores_100ms = 0.9;
  RunTotals t = compute_totals(a, b, samples, 10.0, 0.5);
  EXPECT_DOUBLE_EQ(t.cpu_total_seconds, 5.0);
  EXPECT_DOUBLE_EQ(t.cpu_user_seconds, 4.0);
  EXPECT_DOUBLE_EQ(t.cpu_system_seconds, 1.0);
  EXPECT_DOUBLE_EQ(t.avg_cores, 0.5);
  ASSERT_TRUE(t.avg_quota_percent);
  EXPECT_DOUBLE_EQ(*t.avg_quota_percent, 100.0);
  EXPECT_DOUBLE_EQ(t.peak_cores_100ms, 0.9);
  EXPECT_DOUBLE_EQ(*t.peak_quota_percent, 180.0);
  EXPECT_EQ(t.nr_periods, 100u);
  EXPECT_EQ(t.nr_throttled, 50u);
  EXPECT_DOUBLE_EQ(t.throttled_seconds, 2.5);
  EXPECT_DOUBLE_EQ(t.throttled_percent_of_periods, 50.0);
}

TEST(ComputeTotals, NoQuotaMeansNullPercentagesAndNoSamplesUsesAverageAsPeak) {
  CounterSnapshot a = snapshot(0, 0, 0, 0, 0, 0);
  CounterSnapshot b = snapshot(3'000'000, 3'000'000, 0, 0, 0, 0);
  RunTotals t = compute_totals(a, b, SampleSummary{}, 2.0, std::nullopt);
  EXPECT_FALSE(t.avg_quota_percent);
  EXPECT_FALSE(t.peak_quota_percent);
  EXPECT_DOUBLE_EQ(t.peak_cores_100ms, 1.5);
  EXPECT_DOUBLE_EQ(t.throttled_percent_of_periods, 0.0);
}

TEST(ComputeTotals, CounterResetCountsZeroNotWraparound) {
  CounterSnapshot a = snapshot(5'000'000, 0, 0, 0, 0, 0);
  CounterSnapshot b = snapshot(1'000, 0, 0, 0, 0, 0);
  RunTotals t = compute_totals(a, b, SampleSummary{}, 1.0, std::nullopt);
  EXPECT_EQ(t.cpu_total_seconds, 0.0);
}

TEST(ComputeTotals, MemoryPeakPrefersMemoryPeakFile) {
  CounterSnapshot a = snapshot(0, 0, 0, 0, 0, 0), b = a;
  b.memory_peak = 64u << 20;
  b.memory_current = 1u << 20;
  b.memory.pgfault = 900;
  a.memory.pgfault = 100;
  b.events.oom_kill = 1;
  b.events.max = 7;
  b.events.present = 0x3f;
  SampleSummary s;
  s.samples = 10;
  s.memory_max_bytes = 60u << 20;  // samples miss the true peak between them
  s.memory_avg_bytes = 30u << 20;
  s.anon_max_bytes = 50u << 20;
  RunTotals t = compute_totals(a, b, s, 1.0, std::nullopt);
  EXPECT_EQ(t.memory_peak_bytes, 64u << 20);
  EXPECT_EQ(t.memory_peak_source, "memory.peak");
  EXPECT_DOUBLE_EQ(t.memory_avg_bytes, 30u << 20);
  EXPECT_EQ(t.anon_peak_bytes, 50u << 20);
  EXPECT_EQ(t.pgfault, 800u);
  EXPECT_EQ(t.memory_events.oom_kill, 1u);
  EXPECT_EQ(t.memory_events.max, 7u);

  b.memory_peak.reset();  // kernels before 5.19
  t = compute_totals(a, b, s, 1.0, std::nullopt);
  EXPECT_EQ(t.memory_peak_bytes, 60u << 20);
  EXPECT_EQ(t.memory_peak_source, "samples");
}

TEST(ComputeTotals, IoPerDeviceMatchedByMajorMinorAndNewDevicesCountFromZero) {
  CounterSnapshot a = snapshot(0, 0, 0, 0, 0, 0), b = a;
  a.io.device_count = 1;
  a.io.devices[0] = {8, 0, 1000, 0, 10, 0, 0, 0};
  a.io.total = a.io.devices[0];
  b.io.device_count = 2;
  b.io.devices[0] = {8, 16, 500, 100, 5, 1, 0, 0};  // appeared during the run
  b.io.devices[1] = {8, 0, 5096, 0, 11, 0, 0, 0};
  b.io.total = {0, 0, 5596, 100, 16, 1, 0, 0};
  RunTotals t = compute_totals(a, b, SampleSummary{}, 1.0, std::nullopt);
  EXPECT_EQ(t.io_read_bytes, 4596u);
  EXPECT_EQ(t.io_write_bytes, 100u);
  EXPECT_EQ(t.io_read_ops, 6u);
  ASSERT_EQ(t.io_devices.size(), 2u);
  EXPECT_EQ(t.io_devices[0].device, "8:16");
  EXPECT_EQ(t.io_devices[0].read_bytes, 500u);
  EXPECT_EQ(t.io_devices[1].device, "8:0");
  EXPECT_EQ(t.io_devices[1].read_bytes, 4096u);
  EXPECT_EQ(t.io_devices[1].read_ops, 1u);
}

TEST(ComputeTotals, NetPsiAndPids) {
  CounterSnapshot a = snapshot(0, 0, 0, 0, 0, 0), b = a;
  b.has_net = true;  // the namespace appeared after the start snapshot
  b.net.rx_bytes = 1500;
  b.net.lo_tx_bytes = 42;
  a.has_psi = b.has_psi = true;
  a.cpu_pressure.some.total_usec = 1'000'000;
  b.cpu_pressure.some.total_usec = 3'500'000;
  b.io_pressure.full.total_usec = 250'000;
  b.pids_current = 2;
  SampleSummary s;
  s.pids_max = 9;
  RunTotals t = compute_totals(a, b, s, 1.0, std::nullopt);
  EXPECT_TRUE(t.net_measured);
  EXPECT_EQ(t.net_rx_bytes, 1500u);
  EXPECT_EQ(t.net_lo_tx_bytes, 42u);
  EXPECT_TRUE(t.psi_measured);
  EXPECT_DOUBLE_EQ(t.cpu_pressure.some_seconds, 2.5);
  EXPECT_DOUBLE_EQ(t.io_pressure.full_seconds, 0.25);
  EXPECT_EQ(t.pids_peak, 9u);
  b.pids_peak = 12;
  EXPECT_EQ(compute_totals(a, b, s, 1.0, std::nullopt).pids_peak, 12u);
}

TEST(ComputeTotals, NetFromTheSamplerWhenTheEndSnapshotHasNone) {
  CounterSnapshot a = snapshot(0, 0, 0, 0, 0, 0), b = a;  // namespace gone: no net in either
  SampleSummary s;
  s.net_measured = true;
  s.net_start.lo_tx_bytes = 100;
  s.net_end.lo_tx_bytes = 1128;
  s.net_end.rx_bytes = 64;
  RunTotals t = compute_totals(a, b, s, 1.0, std::nullopt);
  EXPECT_TRUE(t.net_measured);
  EXPECT_EQ(t.net_lo_tx_bytes, 1028u);
  EXPECT_EQ(t.net_rx_bytes, 64u);
  EXPECT_FALSE(compute_totals(a, b, SampleSummary{}, 1.0, std::nullopt).net_measured);
}

RunResult sample_result() {
  RunResult r = new_run_result();
  r.labels = {{"model", "resnet18"}};
  r.device_name = "rpi4";
  r.device_source = "configs/devices/rpi4.toml";
  r.quota_cores = 2.0;
  r.limits_written = {{"cpu.max", "200000 100000"}, {"memory.max", "4294967296"}};
  r.notices = {"rootfs on tmpfs: io limits cannot apply"};
  r.cgroup = "/sys/fs/cgroup/cgprof/x";
  r.cgroup_backend = "v2";
  r.cgroup_version = 2;
  r.cgroup_paths = {{"unified", "/sys/fs/cgroup/cgprof/x"}};
  r.rootfs = "/tmp/rootfs";
  r.command = {"python3", "infer.py", "--batch", "1"};
  r.exit.status = 137;
  r.exit.signal = 9;
  r.exit.oom_killed = true;
  r.exit.interrupted = true;
  r.exit.killed_by = "stop_timeout";
  r.wall_seconds = 12.5;
  r.totals.cpu_total_seconds = 9.5;
  r.totals.avg_quota_percent = 38.0;
  r.totals.memory_peak_bytes = 123456789012ull;
  r.totals.memory_peak_source = "memory.peak";
  r.totals.memory_events.oom_kill = 1;
  r.totals.io_devices.push_back({"8:0", 1, 2, 3, 4, 5, 6});
  r.totals.net_measured = true;
  r.totals.net_rx_bytes = 77;
  r.totals.psi_measured = true;
  r.totals.cpu_pressure.some_seconds = 0.5;
  r.sampler.rate_hz = 1000;
  r.sampler.groups = kSampleCpu | kSampleMemory;
  r.sampler.samples = 12345;
  r.sampler.jitter_p99_ns = 45000;
  r.sampler.files = {"cpu.stat", "memory.current"};
  r.sampler.absent_files = {"memory.pressure"};
  r.sampler.samples_file = "samples.bin";
  return r;
}

TEST(RunJson, RoundTripKeepsEveryField) {
  RunResult r = sample_result();
  RunResult back = run_result_from_json(run_result_to_json(r), "test");
  EXPECT_EQ(back.schema, kRunSchema);
  EXPECT_EQ(back.run_id, r.run_id);
  EXPECT_EQ(back.started_at, r.started_at);
  EXPECT_EQ(back.labels, r.labels);
  EXPECT_EQ(back.host.kernel, r.host.kernel);
  EXPECT_EQ(back.host.cores, r.host.cores);
  ASSERT_TRUE(back.host.reference.has_value());
  EXPECT_EQ(back.host.reference->name, "cgprof-ref-1");
  EXPECT_DOUBLE_EQ(back.host.reference->rate, r.host.reference->rate);
  EXPECT_DOUBLE_EQ(back.host.reference->cpu_seconds, r.host.reference->cpu_seconds);
  EXPECT_EQ(back.quota_cores, r.quota_cores);
  EXPECT_EQ(back.limits_written, r.limits_written);
  EXPECT_EQ(back.command, r.command);
  EXPECT_EQ(back.notices, r.notices);
  EXPECT_EQ(back.cgroup, r.cgroup);
  EXPECT_EQ(back.cgroup_backend, "v2");
  EXPECT_EQ(back.cgroup_version, 2);
  EXPECT_EQ(back.cgroup_paths, r.cgroup_paths);
  EXPECT_EQ(back.exit.status, 137);
  EXPECT_EQ(back.exit.signal, 9);
  EXPECT_FALSE(back.exit.exit_code);
  EXPECT_TRUE(back.exit.oom_killed);
  EXPECT_TRUE(back.exit.interrupted);
  EXPECT_EQ(back.exit.killed_by, "stop_timeout");
  EXPECT_DOUBLE_EQ(back.wall_seconds, 12.5);
  EXPECT_DOUBLE_EQ(back.totals.cpu_total_seconds, 9.5);
  EXPECT_EQ(back.totals.avg_quota_percent, 38.0);
  EXPECT_FALSE(back.totals.peak_quota_percent);
  EXPECT_EQ(back.totals.memory_peak_bytes, 123456789012ull);
  EXPECT_EQ(back.totals.memory_events.oom_kill, 1u);
  ASSERT_EQ(back.totals.io_devices.size(), 1u);
  EXPECT_EQ(back.totals.io_devices[0].discard_ops, 6u);
  EXPECT_TRUE(back.totals.net_measured);
  EXPECT_EQ(back.totals.net_rx_bytes, 77u);
  EXPECT_DOUBLE_EQ(back.totals.cpu_pressure.some_seconds, 0.5);
  EXPECT_EQ(back.sampler.groups, unsigned{kSampleCpu | kSampleMemory});
  EXPECT_EQ(back.sampler.samples, 12345u);
  EXPECT_EQ(back.sampler.jitter_p99_ns, 45000u);
  EXPECT_EQ(back.sampler.absent_files, r.sampler.absent_files);
  EXPECT_EQ(run_result_to_json(back), run_result_to_json(r));
}

TEST(RunJson, NullsWhereDocumented) {
  RunResult r = sample_result();
  r.totals.net_measured = false;
  r.totals.psi_measured = false;
  r.quota_cores.reset();
  r.exit.killed_by.clear();
  std::string text = run_result_to_json(r);
  EXPECT_NE(text.find("\"killed_by\": null"), std::string::npos);
  EXPECT_NE(text.find("\"net\": null"), std::string::npos);
  EXPECT_NE(text.find("\"pressure\": null"), std::string::npos);
  EXPECT_NE(text.find("\"quota_cores\": null"), std::string::npos);
  EXPECT_NE(text.find("\"exit_code\": null"), std::string::npos);
  EXPECT_EQ(text.rfind("{\n  \"schema\": \"cgprof.run/2\"", 0), 0u) << "schema comes first";
}

TEST(RunJson, ErrorsNameTheFileAndField) {
  std::string text = run_result_to_json(sample_result());
  std::string bad = text;
  bad.replace(bad.find("\"wall_seconds\": 12.5"), 20, "\"wall_seconds\": \"x\"");
  try {
    run_result_from_json(bad, "res/run.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "res/run.json: field wall_seconds: expected a number");
  }
  bad = text;
  bad.replace(bad.find("\"nr_throttled\": 0"), 17, "\"nr_throttled\": 1.5");
  try {
    run_result_from_json(bad, "r.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "r.json: field totals.cpu.nr_throttled: expected an integer");
  }
  bad = text;
  bad.replace(bad.find("cgprof.run/2"), 12, "cgprof.run/9");
  EXPECT_THROW(run_result_from_json(bad, "x"), Error);
  EXPECT_THROW(run_result_from_json("{not json", "x"), Error);
  EXPECT_THROW(run_result_from_json("[]", "x"), Error);
}

// Notices are a list of sentences and the cgroup an object; nothing else carries them.
TEST(RunJson, NoticesAndCgroupHaveOnePlaceEach) {
  const nlohmann::json j = nlohmann::json::parse(run_result_to_json(sample_result()));
  EXPECT_EQ(j["notices"], nlohmann::json({"rootfs on tmpfs: io limits cannot apply"}));
  EXPECT_EQ(j["cgroup"]["backend"], "v2");
  EXPECT_EQ(j["cgroup"]["version"], 2);
  EXPECT_EQ(j["cgroup"]["path"], "/sys/fs/cgroup/cgprof/x");
  EXPECT_EQ(j["cgroup"]["paths"]["unified"], "/sys/fs/cgroup/cgprof/x");
  EXPECT_FALSE(j["device"].contains("notices"));
  EXPECT_FALSE(j["device"].contains("cgroup"));
  for (const auto& [key, value] : j["device"]["limits_written"].items())
    EXPECT_EQ(key.rfind("notice.", 0), std::string::npos) << key;
}

// cgprof.run/1 as cgprof 0.1 wrote it on a v1 host: notices as "notice.N" keys of
// limits_written (N up to 10, so numeric order differs from text order), the cgroup in
// device.cgroup, the backend as cgroup.version only.
TEST(RunJson, ReadsSchemaOneNoticesAndCgroup) {
  nlohmann::json j = nlohmann::json::parse(run_result_to_json(sample_result()));
  j["schema"] = "cgprof.run/1";
  j.erase("notices");
  j["cgroup"] = {{"version", 1}, {"paths", {{"cpu", "/sys/fs/cgroup/cpu/cgprof/y"}}}};
  j["device"]["cgroup"] = "/sys/fs/cgroup/cpu/cgprof/y";
  j["device"]["notices"] = nlohmann::json::array();
  j["device"]["limits_written"]["cpu.cfs_quota_us"] = "50000";
  for (int n = 1; n <= 10; ++n)
    j["device"]["limits_written"]["notice." + std::to_string(n)] = "note " + std::to_string(n);
  const RunResult r = run_result_from_json(j.dump(), "old/run.json");
  ASSERT_EQ(r.notices.size(), 10u);
  EXPECT_EQ(r.notices.front(), "note 1");
  EXPECT_EQ(r.notices.back(), "note 10");
  EXPECT_EQ(r.limits_written.count("notice.1"), 0u);
  EXPECT_EQ(r.limits_written.at("cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(r.cgroup, "/sys/fs/cgroup/cpu/cgprof/y");
  EXPECT_EQ(r.cgroup_backend, "v1");
  EXPECT_EQ(r.cgroup_version, 1);
  EXPECT_EQ(r.cgroup_paths.at("cpu"), "/sys/fs/cgroup/cpu/cgprof/y");
  // Written back, it is a cgprof.run/2 file.
  const nlohmann::json again = nlohmann::json::parse(run_result_to_json(r));
  EXPECT_EQ(again["schema"], "cgprof.run/2");
  EXPECT_EQ(again["notices"].size(), 10u);
}

TEST(RunJson, WriteAndLoadDirectory) {
  char tmpl[] = "/tmp/cgprof-result-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path dir = fs::path(tmpl) / "run1";
  RunResult r = sample_result();
  write_run_json(r, dir.string());
  EXPECT_TRUE(fs::exists(dir / "run.json"));
  std::vector<std::string> names;  // run.json alone: no temporary file left beside it
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"run.json"});
  RunResult back = load_run_result(dir.string());
  EXPECT_EQ(back.run_id, r.run_id);
  RunResult back2 = load_run_result((dir / "run.json").string());
  EXPECT_EQ(back2.command, r.command);
  try {
    load_run_result((fs::path(tmpl) / "nope").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("nope"), std::string::npos) << e.message();
  }
  fs::remove_all(tmpl);
}

TEST(Summary, AlignedRowsWithHumanUnits) {
  RunResult r = sample_result();
  r.totals.nr_periods = 100;
  r.totals.nr_throttled = 25;
  r.totals.throttled_percent_of_periods = 25;
  r.totals.throttled_seconds = 0.75;
  std::string s = format_summary(r);
  EXPECT_NE(s.find("python3 infer.py --batch 1"), std::string::npos) << s;
  EXPECT_NE(s.find("rpi4, quota 2.00 cores, memory 4"), std::string::npos) << s;
  EXPECT_NE(s.find("killed by signal 9 (status 137), OOM-killed"), std::string::npos) << s;
  EXPECT_NE(s.find("25 of 100 periods (25.0%), 750.0 ms"), std::string::npos) << s;
  EXPECT_NE(s.find("oom_kill 1"), std::string::npos) << s;
  EXPECT_NE(s.find("(memory.peak)"), std::string::npos) << s;
  // Every value starts in the same column.
  size_t col = std::string::npos;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    size_t label_end = line.find_first_of(' ', 2);
    while (label_end < line.size() && line.compare(label_end, 2, "  ") != 0)
      label_end = line.find(' ', label_end + 1);
    size_t value = line.find_first_not_of(' ', label_end);
    if (col == std::string::npos) col = value;
    EXPECT_EQ(value, col) << line;
  }
}

TEST(LiveStatus, RatesBetweenTwoSamples) {
  Sample a{}, b{};
  a.t_ns = 1'000'000'000;
  b.t_ns = 1'100'000'000;  // 100 ms later
  a.valid = b.valid = kFileCpuStat | kFileMemoryCurrent | kFileIoStat | kFilePidsCurrent;
  a.cpu_usage_usec = 0;
  b.cpu_usage_usec = 150'000;  // 1.5 cores
  b.memory_current = 3u << 20;
  b.io_rbytes = 1u << 20;  // 10 MiB/s
  b.pids_current = 4;
  std::string s = format_live_status(a, b, 2.0, 12.34);
  EXPECT_NE(s.find("12.3s"), std::string::npos) << s;
  EXPECT_NE(s.find("cpu  1.50 cores ( 75%)"), std::string::npos) << s;
  EXPECT_NE(s.find("mem 3.00 MiB"), std::string::npos) << s;
  EXPECT_NE(s.find("io r 10.0 MiB/s"), std::string::npos) << s;
  EXPECT_NE(s.find("pids 4"), std::string::npos) << s;
  EXPECT_EQ(s.find('\n'), std::string::npos);
}

TEST(ReadCounters, FixtureTree) {
  char tmpl[] = "/tmp/cgprof-counters-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path data = fs::path(CGPROF_SOURCE_DIR) / "tests/data/cgroupfs";
  for (const char* f : {"cpu.stat", "memory.stat", "memory.events", "io.stat", "cpu.pressure",
                        "memory.pressure", "io.pressure", "memory.current", "memory.peak"}) {
    fs::copy_file(data / (std::string(f) + ".txt"), fs::path(tmpl) / f);
  }
  UniqueFd fd = open_at(AT_FDCWD, tmpl, O_RDONLY | O_DIRECTORY);
  CounterSnapshot s = read_counters(fd.get(), ::getpid());
  EXPECT_TRUE(s.has_cpu);
  EXPECT_EQ(s.cpu.nr_throttled, 136u);
  EXPECT_TRUE(s.has_memory_stat);
  EXPECT_TRUE(s.has_io);
  EXPECT_EQ(s.io.devices[0].rbytes, 4194304u);
  EXPECT_TRUE(s.has_psi);
  EXPECT_EQ(s.memory_peak, 3584000u);
  EXPECT_FALSE(s.pids_current) << "absent file -> nullopt";
  EXPECT_TRUE(s.has_net) << "our own /proc/PID/net/dev";
  EXPECT_GE(s.net.interfaces, 1u);
  fs::remove(fs::path(tmpl) / "cpu.pressure");
  EXPECT_FALSE(read_counters(fd.get()).has_psi);
  fs::remove_all(tmpl);
}

// The loop ran (a positive rate, some CPU time spent) and is named, so rates of different loops
// are never compared.
TEST(ReferenceScore, MeasuresARate) {
  ReferenceScore s = measure_reference_score();
  EXPECT_EQ(s.name, "cgprof-ref-1");
  EXPECT_GT(s.rate, 0);
  EXPECT_GT(s.cpu_seconds, 0);
}

// CGPROF_REFERENCE_SCORE=0 skips it: no score, "reference_score": null in run.json, and null
// reads back as absent.
TEST(ReferenceScore, SkippedWithEnvironmentVariable) {
  ::setenv("CGPROF_REFERENCE_SCORE", "0", 1);
  RunResult r = new_run_result();
  ::unsetenv("CGPROF_REFERENCE_SCORE");
  EXPECT_FALSE(r.host.reference.has_value());
  const std::string text = run_result_to_json(r);
  EXPECT_NE(text.find("\"reference_score\": null"), std::string::npos) << text;
  EXPECT_FALSE(run_result_from_json(text, "t").host.reference.has_value());
  EXPECT_TRUE(new_run_result().host.reference.has_value());
}

TEST(HostInfo, ReadsThisMachine) {
  HostInfo h = read_host_info();
  EXPECT_FALSE(h.kernel.empty());
  EXPECT_GE(h.cores, 1u);
  RunResult r = new_run_result();
  EXPECT_EQ(r.cgprof_version, CGPROF_VERSION);
  EXPECT_EQ(r.run_id.size(), std::string("20261124-103000-ab12").size()) << r.run_id;
  EXPECT_EQ(r.started_at.back(), 'Z');
}

}  // namespace
}  // namespace cgprof
