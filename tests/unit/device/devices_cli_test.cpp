// Runs the built cgprof binary (path in $CGPROF_BIN) the way a user would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "cgprof/sys.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

using test::TempDir;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct Result {
  int status = -1;
  std::string out, err;
};

// Profiles of the user running the tests must not leak in.
Result cgprof(const std::string& args,
              const std::string& env = "CGPROF_DEVICES_PATH= XDG_CONFIG_HOME=/nonexistent") {
  const char* bin = std::getenv("CGPROF_BIN");
  if (!bin) {
    ADD_FAILURE() << "CGPROF_BIN is not set (meson sets it)";
    return {};
  }
  TempDir dir;
  std::string cmd =
      env + " '" + bin + "' " + args + " >" + dir.path() + "/out 2>" + dir.path() + "/err";
  int rc = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_file(dir.path() + "/out");
  r.err = read_file(dir.path() + "/err");
  return r;
}

TEST(DevicesCli, BrokenProfilePrintsOneLineAndExits125) {
  std::string file = test::data_file("bad-memory-limit.toml");
  Result r = cgprof("devices show " + file);
  EXPECT_EQ(r.status, 125);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cgprof: device profile " + file +
                       ": line 7: memory.limit: expected a size like \"4GiB\", \"512MiB\" or a "
                       "number of bytes, got true\n");
}

TEST(DevicesCli, EveryKindOfBrokenFileIsOneLineNamingTheLine) {
  for (const char* name : {"bad-syntax.toml", "bad-unknown-key.toml", "bad-zero-cores.toml",
                           "bad-missing-speed.toml", "bad-high-above-limit.toml"}) {
    std::string file = test::data_file(name);
    Result r = cgprof("devices show " + file);
    EXPECT_EQ(r.status, 125) << name;
    EXPECT_THAT(r.err, MatchesRegex("cgprof: device profile .*: line [0-9]+: [^\n]*\n")) << name;
  }
}

TEST(DevicesCli, ListsEveryBundledProfile) {
  TempDir empty;
  Result r = cgprof("devices", "CGPROF_DEVICES_PATH= XDG_CONFIG_HOME=" + empty.path());
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char* name :
       {"host", "rpi3b", "rpi4", "rpi5", "rpi-zero-2w", "jetson-nano", "lg-g6", "galaxy-s8"})
    EXPECT_THAT(r.out, HasSubstr(std::string("\n") + name + " ")) << name;
  EXPECT_THAT(r.out, HasSubstr("Searched, first match wins:"));
}

TEST(DevicesCli, ShowPrintsTheCgroupFiles) {
  Result r = cgprof("devices show rpi4 --cpus 0.5 -m 512m --memory-swap 1g --pids-limit 64");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cpu.max          50000 100000"));
  EXPECT_THAT(r.out, HasSubstr("memory.max       536870912"));
  EXPECT_THAT(r.out, HasSubstr("memory.swap.max  536870912"));
  EXPECT_THAT(r.out, HasSubstr("pids.max         64"));
  EXPECT_THAT(r.out, HasSubstr("io.max           rootfs rbps=45000000 wbps=20000000"));
}

TEST(DevicesCli, ShowJson) {
  Result r = cgprof("devices show jetson-nano --json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"cpu.max\": \"72000 100000\""));
  EXPECT_THAT(r.out, HasSubstr("\"name\": \"jetson-nano\""));
}

TEST(DevicesCli, BadOverrideAndUnknownDeviceExit125) {
  Result bad = cgprof("devices show rpi4 --memory-swap 1m");
  EXPECT_EQ(bad.status, 125);
  EXPECT_THAT(bad.err, HasSubstr("cgprof: --memory-swap: expected memory plus swap"));
  Result unknown = cgprof("devices show no-such-device");
  EXPECT_EQ(unknown.status, 125);
  EXPECT_THAT(unknown.err, HasSubstr("not found; available: galaxy-s8, host, jetson-nano"));
}

}  // namespace
}  // namespace cgprof
