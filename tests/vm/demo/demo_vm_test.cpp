// The README's quick start, profiling step, on a real cgroup v2 kernel: build the demo image with
// rootfs-tools/build-demo-image and profile it with tools/demo-profile on the rpi4 profile, as
// tools/demo does. Checks that the run applied rpi4's limits, ran the demo's four steps to the
// end (the last one a Python model marking load and one infer per inference), measured them,
// wrote a complete result directory with an HTML report, and printed the per-inference latency.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cgprof/sys.hpp"
#include "tests/common/test_env.hpp"

namespace {
namespace fs = std::filesystem;

using cgprof::testing_util::env;

TEST(Demo, QuickStartProfilesTheDemoImageOnRpi4) {
  const std::string src = env("CGPROF_SOURCE_DIR"), build = env("CGPROF_BUILD_DIR");
  const std::string bin = env("CGPROF_BIN");
  ASSERT_FALSE(src.empty() || build.empty() || bin.empty()) << "run through the vm suite";
  const fs::path work = "/tmp/cgprof-demo-vm-test";
  fs::remove_all(work);
  fs::create_directories(work);
  // The image is built in the VM (umoci and busybox-static come from the host's /usr).
  std::string cmd = "CGPROF_IMAGES_DIR=" + work.string() + "/images CGPROF_NO_NINJA=1 " + src +
                    "/rootfs-tools/build-demo-image " + build + " > " + work.string() +
                    "/image.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cgprof::read_file_or_empty(work / "image.log");

  const fs::path out = work / "result";
  // A shorter CPU phase than the demo's default: TCG is ~10x slower than a real core.
  cmd = src + "/tools/demo-profile " + bin + " rpi4 " + work.string() +
        "/images/demo-oci:latest " + out.string() +
        " -e DEMO_SECONDS=1 -e DEMO_INFERENCES=12 > " + work.string() +
        "/demo.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cgprof::read_file_or_empty(work / "demo.log");
  const std::string log = cgprof::read_file_or_empty(work / "demo.log");
  EXPECT_NE(log.find("demo: done"), std::string::npos) << log;
  EXPECT_NE(log.find("memory.peak"), std::string::npos) << "no summary printed:\n" << log;

  auto j = nlohmann::json::parse(cgprof::read_file_or_empty(out / "run.json"));
  EXPECT_EQ(j["device"]["name"], "rpi4");
  // configs/devices/rpi4.toml: 4 cores x speed 0.22 = 0.88 CPU; 4 GiB; no swap.
  EXPECT_EQ(j["device"]["limits_written"]["cpu.max"], "88000 100000");
  EXPECT_EQ(j["device"]["limits_written"]["memory.max"], "4294967296");
  EXPECT_EQ(j["device"]["limits_written"]["memory.swap.max"], "0");
  EXPECT_EQ(j["exit"]["status"], 0);
  EXPECT_EQ(j["workload"]["command"], nlohmann::json::array({"/usr/local/bin/demo"}));
  EXPECT_EQ(j["workload"]["image_digest"].get<std::string>().rfind("sha256:", 0), 0u);
  // Phase 2 allocates and touches 192 MiB: the kernel's high-water mark has it.
  EXPECT_GE(j["totals"]["memory"]["peak_bytes"].get<double>(), 192.0 * 1024 * 1024);
  // Phase 1 runs 4 threads against a 0.88-CPU quota: the cgroup was throttled.
  EXPECT_GT(j["totals"]["cpu"]["nr_throttled"].get<double>(), 0);
  EXPECT_GT(j["totals"]["cpu"]["total_seconds"].get<double>(), 0.5);
  EXPECT_GT(j["sampler"]["samples"].get<double>(), 0);

  // Phases: cpu, memory, io from the shell; load, then one infer per inference from Python.
  std::vector<std::string> names;
  for (const auto& p : j["phases"]["by_name"]) names.push_back(p["name"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", "memory", "io", "load", "infer"}));
  const auto& infer = j["phases"]["by_name"].back();
  EXPECT_EQ(infer["count"], 12);
  EXPECT_EQ(infer["closed_at_exit"], 0);
  EXPECT_GT(infer["wall"]["p50"].get<double>(), 0);
  // tools/demo-profile prints the latency line after the summary's phase table.
  const std::regex latency(
      "\ndemo: per-inference latency on rpi4 \\(phase infer\\): 12 inferences, p50 [0-9.]+ ms, "
      "p90 [0-9.]+ ms\n");
  std::smatch m;
  if (std::regex_search(log, m, latency))
    EXPECT_LT(log.find("phases (wall time"), static_cast<size_t>(m.position(0))) << log;
  else
    ADD_FAILURE() << "no latency line:\n" << log;

  const std::string html = cgprof::read_file_or_empty(out / "report.html");
  // Self-contained (the browser suite checks that its charts draw): the run's data is inlined,
  // and nothing is loaded from elsewhere.
  EXPECT_NE(html.find(j["run_id"].get<std::string>()), std::string::npos) << "run not in report";
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "report.html loads from the network";
  EXPECT_EQ(html.find("href=\"http"), std::string::npos) << "report.html loads from the network";
  fs::remove_all(work);
}

}  // namespace
