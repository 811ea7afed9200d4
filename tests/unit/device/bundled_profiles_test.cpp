// Every profile shipped in configs/devices loads and describes the device it names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "cgprof/device.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

struct Expected {
  const char* file;
  const char* name;
  unsigned cores;
  uint64_t memory;
};

constexpr uint64_t kGiB = 1ull << 30;

TEST(BundledProfiles, EveryFileLoads) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::bundled_dir())) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    SCOPED_TRACE(entry.path().string());
    DeviceProfile p = load_device_profile(entry.path().string());
    EXPECT_FALSE(p.description.empty());
    if (p.name != "host") {
      EXPECT_TRUE(p.limits.cores) << "a device profile gives its core count";
      EXPECT_TRUE(p.limits.memory_max);
      EXPECT_EQ(p.limits.swap_max, 0u);
      EXPECT_TRUE(p.limits.pids_max);
      ASSERT_FALSE(p.limits.io.empty());
      EXPECT_EQ(p.limits.io[0].device, "rootfs");
      EXPECT_LT(p.limits.core_speed, 1.0) << "these devices are slower than an x86 server core";
    }
  }
  EXPECT_GE(count, 7u);
}

TEST(BundledProfiles, PublishedCoreCountsAndMemory) {
  const Expected kDevices[] = {
      {"rpi3b.toml", "rpi3b", 4, 1 * kGiB},
      {"rpi4.toml", "rpi4", 4, 4 * kGiB},
      {"rpi-zero-2w.toml", "rpi-zero-2w", 4, kGiB / 2},
      {"jetson-nano.toml", "jetson-nano", 4, 4 * kGiB},
      {"lg-g6.toml", "lg-g6", 4, 4 * kGiB},
      {"galaxy-s8.toml", "galaxy-s8", 8, 4 * kGiB},
      {"rpi5.toml", "rpi5", 4, 8 * kGiB},
  };
  for (const Expected& e : kDevices) {
    SCOPED_TRACE(e.file);
    DeviceProfile p = load_device_profile(test::bundled_dir() + "/" + e.file);
    EXPECT_EQ(p.name, e.name);
    EXPECT_EQ(p.limits.cores, e.cores);
    EXPECT_EQ(p.limits.memory_max, e.memory);
  }
}

TEST(BundledProfiles, HostHasNoLimits) {
  DeviceProfile p = load_device_profile(test::bundled_dir() + "/host.toml");
  EXPECT_EQ(p.name, "host");
  EXPECT_FALSE(p.limits.quota_cores());
  EXPECT_FALSE(p.limits.memory_max);
  EXPECT_FALSE(p.limits.swap_max);
  EXPECT_FALSE(p.limits.pids_max);
  EXPECT_TRUE(p.limits.io.empty());
}

TEST(BundledProfiles, NamesAndAliasesAreUnique) {
  std::set<std::string> names;
  for (const DeviceListing& item : list_device_profiles({{test::bundled_dir(), "source tree"}})) {
    ASSERT_TRUE(item.profile) << item.error;
    EXPECT_TRUE(names.insert(item.profile->name).second) << item.profile->name;
    for (const std::string& a : item.profile->aliases) EXPECT_TRUE(names.insert(a).second) << a;
  }
}

}  // namespace
}  // namespace cgprof
