#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgprof/device.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

using test::data_file;
using test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kHead = "name = \"t\"\ndescription = \"test\"\n";

DeviceProfile parse(const std::string& body) {
  return parse_device_profile(std::string(kHead) + body, "t.toml");
}

std::string parse_error(const std::string& body) {
  return error_of([&] { parse(body); });
}

TEST(ProfileParse, FullFileReadsEveryKey) {
  DeviceProfile p = load_device_profile(data_file("good-full.toml"));
  EXPECT_EQ(p.name, "good-full");
  EXPECT_EQ(p.description, "A profile that uses every key");
  EXPECT_EQ(p.aliases, std::vector<std::string>{"full"});
  EXPECT_EQ(p.source, data_file("good-full.toml"));
  const Limits& l = p.limits;
  EXPECT_EQ(l.cores, 2u);
  EXPECT_DOUBLE_EQ(l.core_speed, 0.5);
  EXPECT_DOUBLE_EQ(*l.quota_cores(), 1.0);
  EXPECT_EQ(l.cpu_period_us, 50000u);
  EXPECT_EQ(l.cpuset, "0-1");
  EXPECT_EQ(l.memory_max, 256u << 20);
  EXPECT_EQ(l.swap_max, 64u << 20);
  EXPECT_EQ(l.memory_high, 200u << 20);
  EXPECT_EQ(l.pids_max, 128u);
  ASSERT_EQ(l.io.size(), 3u);
  EXPECT_EQ(l.io[0].device, "rootfs");
  EXPECT_EQ(l.io[0].read_bps, 45000000u);
  EXPECT_EQ(l.io[0].write_bps, 20000000u);
  EXPECT_EQ(l.io[0].read_iops, 1500u);
  EXPECT_EQ(l.io[0].write_iops, 500u);
  EXPECT_EQ(l.io[1].device, "/dev/sdb");
  EXPECT_EQ(l.io[1].read_bps, 10000000u);
  EXPECT_FALSE(l.io[1].write_bps);
  EXPECT_EQ(l.io[2].device, "8:16");
  EXPECT_EQ(l.io[2].write_iops, 100u);
  ASSERT_EQ(p.calibration.count("wall_time_s"), 1u);
  const CalibrationFit& f = p.calibration.at("wall_time_s");
  EXPECT_DOUBLE_EQ(f.slope, 1.8);
  EXPECT_DOUBLE_EQ(f.intercept, 0.25);
  EXPECT_DOUBLE_EQ(f.r2, 0.97);
  EXPECT_DOUBLE_EQ(f.residual_stddev, 0.05);
  EXPECT_EQ(f.points, 12u);
}

TEST(ProfileParse, MinimalProfileHasNoLimits) {
  DeviceProfile p = parse("");
  EXPECT_FALSE(p.limits.quota_cores());
  EXPECT_FALSE(p.limits.memory_max);
  EXPECT_FALSE(p.limits.swap_max) << "no memory limit: swap is not limited either";
  EXPECT_FALSE(p.limits.pids_max);
  EXPECT_TRUE(p.limits.io.empty());
  EXPECT_EQ(p.limits.cpu_period_us, 100000u);
}

TEST(ProfileParse, SwapDefaultsToZeroWithAMemoryLimit) {
  EXPECT_EQ(parse("[memory]\nlimit = \"1GiB\"\n").limits.swap_max, 0u);
  EXPECT_FALSE(parse("[memory]\nlimit = \"1GiB\"\nswap = \"max\"\n").limits.swap_max);
}

TEST(ProfileParse, IntegersAreAcceptedForSizesRatesAndPeriods) {
  DeviceProfile p = parse(
      "[cpu]\ncores = 1\nspeed = 1\nperiod = 20000\n[memory]\nlimit = 8388608\n"
      "[io]\nread_bps = 1000000\n");
  EXPECT_EQ(p.limits.cpu_period_us, 20000u);
  EXPECT_DOUBLE_EQ(p.limits.core_speed, 1.0);
  EXPECT_EQ(p.limits.memory_max, 8u << 20);
  EXPECT_EQ(p.limits.io.at(0).read_bps, 1000000u);
}

TEST(ProfileParse, UnitsAreParsed) {
  DeviceProfile p = parse(
      "[cpu]\ncores = 1\nspeed = 0.5\nperiod = \"1s\"\n[memory]\nlimit = \"1.5GiB\"\n"
      "[io]\nread_bps = \"2MiB/s\"\nwrite_bps = \"64k\"\n");
  EXPECT_EQ(p.limits.cpu_period_us, 1000000u);
  EXPECT_EQ(p.limits.memory_max, 1536u << 20);
  EXPECT_EQ(p.limits.io.at(0).read_bps, 2u << 20);
  EXPECT_EQ(p.limits.io.at(0).write_bps, 64u << 10);
}

TEST(ProfileParse, SyntaxErrorNamesFileLineAndColumn) {
  std::string msg = error_of([] { load_device_profile(data_file("bad-syntax.toml")); });
  EXPECT_THAT(msg, StartsWith("device profile " + data_file("bad-syntax.toml") + ": line 4: "));
  EXPECT_THAT(msg, HasSubstr("TOML syntax error at column"));
}

// Found by tests/fuzz/device_profile_fuzz.cpp: toml++ 3.3.0 aborted on these table headers (an
// internal assertion) instead of reporting them.
TEST(ProfileParse, MalformedTableHeaderIsASyntaxError) {
  for (const char* header : {"[\\pu\n", "[[[1]]]\n", "[[=\n", "[\n"}) {
    std::string msg = parse_error(std::string(header) + "cores = 4\n");
    EXPECT_THAT(msg, HasSubstr("t.toml: line 3: TOML syntax error")) << header;
  }
}

// Also from the fuzzer: toml++ 3.3.0 reaches __builtin_unreachable() when it checks a character in
// U+00A1..U+0499 for whitespace (its generated tables miss that block); the compiled parser must
// still report such a character outside a string as a syntax error.
TEST(ProfileParse, NonAsciiOutsideAStringIsASyntaxError) {
  for (const char* line : {"aliases = [\"a\"] \xd0\x9c\n", "\xc3\xa9 = 1\n", "[\xce\xa9]\n"})
    EXPECT_THAT(parse_error(line), HasSubstr("t.toml: line 3: TOML syntax error")) << line;
  EXPECT_EQ(parse("# \xd0\x9c in a comment\n").name, "t");
}

TEST(ProfileParse, UnknownKeyNamesLineKeyAndTheKnownKeys) {
  std::string msg = error_of([] { load_device_profile(data_file("bad-unknown-key.toml")); });
  EXPECT_EQ(msg, "device profile " + data_file("bad-unknown-key.toml") +
                     ": line 7: cpu.frequency: unknown key; expected one of cores, speed, "
                     "period, cpuset");
}

TEST(ProfileParse, UnknownTableAndRootKey) {
  EXPECT_THAT(parse_error("\n[gpu]\ncores = 128\n"),
              AllOf(HasSubstr("t.toml: line 4: gpu: unknown key"), HasSubstr("cpu, memory")));
  EXPECT_THAT(parse_error("vendor = \"x\"\n"), HasSubstr("line 3: vendor: unknown key"));
  EXPECT_THAT(parse_error("[io.devices.\"/dev/sda\"]\nread_bps = 1\nspeed = 2\n"),
              HasSubstr("line 5: io.devices.\"/dev/sda\".speed: unknown key"));
  EXPECT_THAT(parse_error("[calibration.wall]\nslope = 1\nintercept = 0\nr = 1\n"),
              HasSubstr("line 6: calibration.wall.r: unknown key"));
}

TEST(ProfileParse, WrongTypeNamesLineKeyExpectationAndValue) {
  std::string msg = error_of([] { load_device_profile(data_file("bad-memory-limit.toml")); });
  EXPECT_EQ(msg, "device profile " + data_file("bad-memory-limit.toml") +
                     ": line 7: memory.limit: expected a size like \"4GiB\", \"512MiB\" or a "
                     "number of bytes, got true");
  EXPECT_THAT(parse_error("[cpu]\ncores = \"four\"\nspeed = 1\n"),
              HasSubstr("line 4: cpu.cores: expected a whole number like 4, got \"four\""));
  EXPECT_THAT(parse_error("[cpu]\ncores = 4\nspeed = \"fast\"\n"),
              HasSubstr("line 5: cpu.speed: expected a number like 0.25, got \"fast\""));
  EXPECT_THAT(parse_error("[memory]\nlimit = \"4 gigs\"\n"),
              HasSubstr("line 4: memory.limit: expected a size like"));
  EXPECT_THAT(parse_error("[io]\nread_bps = \"fast\"\n"),
              HasSubstr("line 4: io.read_bps: expected a rate like \"45MB/s\""));
  EXPECT_THAT(parse_error("[cpu]\ncores = 1\nspeed = 1\nperiod = \"soon\"\n"),
              HasSubstr("line 6: cpu.period: expected a duration like \"100ms\""));
  EXPECT_THAT(parse_error("cpu = 4\n"), HasSubstr("line 3: cpu: expected a table [cpu], got 4"));
  EXPECT_THAT(parse_error("[pids]\nmax = 1.5\n"),
              HasSubstr("line 4: pids.max: expected a whole number like 4, got 1.5"));
  EXPECT_THAT(error_of([] { parse_device_profile("name = 4\ndescription = \"x\"\n", "n.toml"); }),
              HasSubstr("n.toml: line 1: name: expected a string in double quotes, got 4"));
  EXPECT_THAT(parse_error("aliases = \"x\"\n"),
              HasSubstr("line 3: aliases: expected an array of names"));
  EXPECT_THAT(parse_error("[calibration]\nwall = 3\n"),
              HasSubstr("line 4: calibration.wall: expected a table"));
}

TEST(ProfileParse, ImpossibleValuesAreRejected) {
  std::string msg = error_of([] { load_device_profile(data_file("bad-zero-cores.toml")); });
  EXPECT_EQ(msg, "device profile " + data_file("bad-zero-cores.toml") +
                     ": line 5: cpu.cores: expected a core count from 1 to 4096, got 0");
  EXPECT_THAT(parse_error("[cpu]\ncores = 4\nspeed = 0\n"),
              HasSubstr("line 5: cpu.speed: expected a per-core speed"));
  EXPECT_THAT(parse_error("[cpu]\ncores = 4\nspeed = -0.5\n"), HasSubstr("cpu.speed: expected"));
  EXPECT_THAT(parse_error("[cpu]\ncores = 1\nspeed = 1\nperiod = \"10s\"\n"),
              HasSubstr("line 6: cpu.period: expected a CFS period from \"1ms\" to \"1s\""));
  EXPECT_THAT(parse_error("[cpu]\ncores = 1\nspeed = 0.001\nperiod = \"100ms\"\n"),
              HasSubstr("line 5: cpu.speed: cores x speed x period is 100 us"));
  EXPECT_THAT(parse_error("[cpu]\ncpuset = \"3-1\"\n"),
              HasSubstr("line 4: cpu.cpuset: expected a host CPU list"));
  EXPECT_THAT(parse_error("[memory]\nlimit = \"1MiB\"\n"),
              HasSubstr("line 4: memory.limit: expected a size of at least 4MiB"));
  EXPECT_THAT(error_of([] { load_device_profile(data_file("bad-high-above-limit.toml")); }),
              HasSubstr(": line 6: memory.high: expected a size at most memory.limit (1.00 GiB), "
                        "got \"2GiB\""));
  EXPECT_THAT(parse_error("[io]\nread_iops = 0\n"),
              HasSubstr("line 4: io.read_iops: expected a limit above 0"));
  EXPECT_THAT(parse_error("[io]\nwrite_bps = \"0MB/s\"\n"),
              HasSubstr("line 4: io.write_bps: expected a limit above 0"));
  EXPECT_THAT(parse_error("[io.devices.sda]\nread_bps = 1\n"),
              HasSubstr("line 3: io.devices.sda: expected a device like"));
  EXPECT_THAT(parse_error("[io]\nread_bps = 1\n[io.devices.rootfs]\nwrite_bps = 1\n"),
              HasSubstr("io.devices.rootfs: limits for this device are given twice"));
  EXPECT_THAT(parse_error("[pids]\nmax = 0\n"),
              HasSubstr("line 4: pids.max: expected a process limit of at least 1, got 0"));
  EXPECT_THAT(parse_error("[pids]\nmax = -5\n"), HasSubstr("pids.max: expected a whole number"));
  EXPECT_THAT(parse_error("[calibration.wall]\nslope = 1\nintercept = 0\nr2 = 1.5\n"),
              HasSubstr("line 6: calibration.wall.r2: expected a coefficient"));
  EXPECT_THAT(error_of([] { parse_device_profile("name = \"a b\"\ndescription = \"\"\n", "n"); }),
              HasSubstr("line 1: name: expected a name of letters"));
}

TEST(ProfileParse, MissingRequiredKeys) {
  EXPECT_EQ(error_of([] { load_device_profile(data_file("bad-missing-speed.toml")); }),
            "device profile " + data_file("bad-missing-speed.toml") +
                ": line 4: cpu.speed: required with cpu.cores; expected the speed of one device "
                "core relative to one host core, like speed = 0.25");
  EXPECT_THAT(parse_error("[cpu]\nspeed = 0.5\n"),
              HasSubstr("line 3: cpu.cores: required with cpu.speed"));
  EXPECT_EQ(error_of([] { parse_device_profile("description = \"x\"\n", "m.toml"); }),
            "device profile m.toml: name: required key is missing; expected name = "
            "\"my-device\" at the top");
  EXPECT_THAT(error_of([] { parse_device_profile("name = \"x\"\n", "m.toml"); }),
              HasSubstr("m.toml: description: required key is missing"));
  EXPECT_THAT(parse_error("[calibration.wall]\nslope = 1\n"),
              HasSubstr("line 3: calibration.wall.intercept: required key is missing"));
}

TEST(ProfileParse, MissingFileNamesThePath) {
  EXPECT_THAT(error_of([] { load_device_profile("/nonexistent/x.toml"); }),
              AllOf(StartsWith("device profile /nonexistent/x.toml: "),
                    HasSubstr("No such file or directory")));
}

TEST(ProfileParse, HostProfileHasNoLimits) {
  DeviceProfile p = host_device_profile();
  EXPECT_EQ(p.name, "host");
  EXPECT_FALSE(p.limits.quota_cores());
  EXPECT_FALSE(p.limits.memory_max);
  EXPECT_FALSE(p.limits.swap_max);
}

}  // namespace
}  // namespace cgprof
