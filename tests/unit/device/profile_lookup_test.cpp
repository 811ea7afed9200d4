#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "cgprof/device.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

using test::error_of;
using test::ScopedEnv;
using test::TempDir;
using ::testing::HasSubstr;

std::string profile(const std::string& name, unsigned cores, const std::string& extra = "") {
  return "name = \"" + name + "\"\ndescription = \"d\"\n" + extra +
         "[cpu]\ncores = " + std::to_string(cores) + "\nspeed = 0.5\n";
}

TEST(DeviceLookup, FileArguments) {
  EXPECT_TRUE(is_device_file_argument("./rpi4"));
  EXPECT_TRUE(is_device_file_argument("configs/devices/rpi4.toml"));
  EXPECT_TRUE(is_device_file_argument("rpi4.toml"));
  EXPECT_FALSE(is_device_file_argument("rpi4"));
  EXPECT_FALSE(is_device_file_argument(".toml"));
}

TEST(DeviceLookup, PathIsLoadedAsAFile) {
  TempDir dir;
  std::string file = dir.write("mine.toml", profile("mine", 3));
  DeviceProfile p = find_device_profile(file, {});
  EXPECT_EQ(p.name, "mine");
  EXPECT_EQ(p.origin, "file");
  EXPECT_EQ(p.limits.cores, 3u);
}

TEST(DeviceLookup, EarlierDirectoryWins) {
  TempDir a, b;
  a.write("dev.toml", profile("dev", 2));
  b.write("dev.toml", profile("dev", 6));
  std::vector<DeviceSearchDir> dirs = {{a.path(), "first"}, {b.path(), "second"}};
  DeviceProfile p = find_device_profile("dev", dirs);
  EXPECT_EQ(p.limits.cores, 2u);
  EXPECT_EQ(p.origin, "first");
  std::reverse(dirs.begin(), dirs.end());
  EXPECT_EQ(find_device_profile("dev", dirs).limits.cores, 6u);
}

TEST(DeviceLookup, NameAndAliasInsideTheFileMatch) {
  TempDir dir;
  dir.write("rpi4-4gb.toml", profile("rpi4", 4, "aliases = [\"pi4\"]\n"));
  dir.write("zz-broken.toml", "name = ");
  std::vector<DeviceSearchDir> dirs = {{dir.path(), "test"}};
  EXPECT_EQ(find_device_profile("rpi4", dirs).name, "rpi4");
  EXPECT_EQ(find_device_profile("pi4", dirs).name, "rpi4");
  EXPECT_EQ(find_device_profile("rpi4-4gb", dirs).name, "rpi4");
}

TEST(DeviceLookup, ABrokenFileOfTheRequestedNameIsReported) {
  TempDir dir;
  dir.write("bad.toml", "name = \"bad\"\ndescription = \"d\"\n[cpu]\ncores = 0\nspeed = 1\n");
  EXPECT_THAT(error_of([&] {
                find_device_profile("bad", {{dir.path(), "test"}});
              }),
              HasSubstr("bad.toml: line 4: cpu.cores"));
}

TEST(DeviceLookup, MissingNameListsTheAvailableOnes) {
  TempDir dir;
  dir.write("b.toml", profile("beta", 1));
  dir.write("a.toml", profile("alpha", 1));
  EXPECT_EQ(error_of([&] {
              find_device_profile("gamma", {{dir.path(), "test"}});
            }),
            "device profile \"gamma\" not found; available: alpha, beta (give a .toml file, or "
            "add a directory to CGPROF_DEVICES_PATH)");
}

TEST(DeviceLookup, HostIsBuiltInWhenNoFileDefinesIt) {
  DeviceProfile p = find_device_profile("host", {});
  EXPECT_EQ(p.origin, "built-in");
  EXPECT_FALSE(p.limits.quota_cores());
}

TEST(DeviceLookup, SearchPathComesFromTheEnvironmentFirst) {
  TempDir a, b, config;
  a.write("only-in-a.toml", profile("only-in-a", 1));
  b.write("rpi4.toml", profile("rpi4", 7));
  ScopedEnv path("CGPROF_DEVICES_PATH", a.path() + "::" + b.path() + ":/nonexistent/dir");
  ScopedEnv xdg("XDG_CONFIG_HOME", config.path());
  auto dirs = device_search_dirs();
  ASSERT_GE(dirs.size(), 3u);
  EXPECT_EQ(dirs[0].path, a.path());
  EXPECT_EQ(dirs[0].origin, "CGPROF_DEVICES_PATH");
  EXPECT_EQ(dirs[1].path, b.path());
  EXPECT_EQ(dirs.back().origin, "source tree") << "the source tree comes last";
  // The environment's rpi4 shadows the bundled one.
  EXPECT_EQ(find_device_profile("rpi4").limits.cores, 7u);
  EXPECT_EQ(find_device_profile("only-in-a").name, "only-in-a");
  // A bundled profile is still found behind them.
  EXPECT_EQ(find_device_profile("jetson-nano").origin, "source tree");
}

TEST(DeviceLookup, UserConfigDirectoryComesAfterTheEnvironment) {
  TempDir env, config;
  env.write("x.toml", profile("x", 1));
  config.write("cgprof/devices/x.toml", profile("x", 2));
  config.write("cgprof/devices/y.toml", profile("y", 3));
  ScopedEnv path("CGPROF_DEVICES_PATH", env.path());
  ScopedEnv xdg("XDG_CONFIG_HOME", config.path());
  EXPECT_EQ(find_device_profile("x").limits.cores, 1u);
  DeviceProfile y = find_device_profile("y");
  EXPECT_EQ(y.limits.cores, 3u);
  EXPECT_EQ(y.origin, "user");
}

TEST(DeviceLookup, ListingMarksShadowedAndBrokenProfiles) {
  TempDir a, b;
  a.write("dev.toml", profile("dev", 2));
  b.write("dev.toml", profile("dev", 6));
  b.write("broken.toml", "name = \"broken\"\n");
  auto items = list_device_profiles({{a.path(), "first"}, {b.path(), "second"}});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].origin, "first");
  EXPECT_FALSE(items[0].shadowed);
  EXPECT_FALSE(items[1].profile);
  EXPECT_THAT(items[1].error, HasSubstr("broken.toml: description: required key is missing"));
  EXPECT_EQ(items[2].profile->limits.cores, 6u);
  EXPECT_TRUE(items[2].shadowed);
}

}  // namespace
}  // namespace cgprof
