#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/device.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

using test::error_of;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

// A small device: 4 cores at 0.25, 1 GiB, no swap, 45/20 MB/s on the rootfs, 256 pids.
Limits device() {
  Limits l;
  l.cores = 4;
  l.core_speed = 0.25;
  l.memory_max = kGiB;
  l.memory_high = 900 * kMiB;
  l.swap_max = 0;
  l.pids_max = 256;
  IoDeviceLimit io;
  io.read_bps = 45000000;
  io.write_bps = 20000000;
  l.io.push_back(io);
  return l;
}

TEST(MergeOverrides, NoOverridesChangeNothing) {
  LimitOverrides o;
  EXPECT_TRUE(o.empty());
  Limits l = merge_overrides(device(), o);
  EXPECT_EQ(l.cores, 4u);
  EXPECT_DOUBLE_EQ(*l.quota_cores(), 1.0);
  EXPECT_EQ(l.memory_max, kGiB);
  EXPECT_EQ(l.memory_high, 900 * kMiB);
  EXPECT_EQ(l.swap_max, 0u);
  EXPECT_EQ(l.pids_max, 256u);
  EXPECT_EQ(l.io.size(), 1u);
}

TEST(MergeOverrides, CpusReplacesTheQuotaButKeepsCores) {
  LimitOverrides o;
  o.cpus = "1.5";
  EXPECT_FALSE(o.empty());
  Limits l = merge_overrides(device(), o);
  EXPECT_DOUBLE_EQ(*l.quota_cores(), 1.5);
  EXPECT_EQ(l.cores, 4u);
  EXPECT_EQ(cgroup_cpu_max(l), "150000 100000");
}

TEST(MergeOverrides, CpusOnTheHostProfileAddsAQuota) {
  LimitOverrides o;
  o.cpus = "0.5";
  Limits l = merge_overrides(host_device_profile().limits, o);
  EXPECT_EQ(cgroup_cpu_max(l), "50000 100000");
  EXPECT_FALSE(l.cores);
}

TEST(MergeOverrides, BadCpusNameTheOption) {
  for (const char* bad : {"0", "-1", "abc", "1.5x", ""}) {
    LimitOverrides o;
    o.cpus = bad;
    EXPECT_EQ(error_of([&] { merge_overrides(device(), o); }),
              std::string("--cpus: expected a positive number of host CPUs like 1.5, got \"") +
                  bad + "\"");
  }
  LimitOverrides tiny;
  tiny.cpus = "0.001";
  EXPECT_THAT(error_of([&] { merge_overrides(device(), tiny); }),
              HasSubstr("--cpus: expected a value giving at least 1000 us of CPU time"));
}

TEST(MergeOverrides, CpuPeriodInMicrosecondsOrWithUnit) {
  LimitOverrides o;
  o.cpu_period = "50000";
  Limits l = merge_overrides(device(), o);
  EXPECT_EQ(l.cpu_period_us, 50000u);
  EXPECT_EQ(cgroup_cpu_max(l), "50000 50000");
  o.cpu_period = "10ms";
  EXPECT_EQ(merge_overrides(device(), o).cpu_period_us, 10000u);
  o.cpu_period = "999";
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }),
              HasSubstr("--cpu-period: expected a period from 1000 to 1000000"));
  o.cpu_period = "2s";
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }), HasSubstr("got \"2s\""));
}

TEST(MergeOverrides, CpusetSetsPlacementAndIsValidated) {
  LimitOverrides o;
  o.cpuset = "0-1,3";
  Limits l = merge_overrides(device(), o);
  EXPECT_EQ(l.cpuset, "0-1,3");
  EXPECT_EQ(l.cores, 4u);
  for (const char* bad : {"1-0", "a", "0,", "-1", "0-", "1,,2", "", "8192", "0-70000"}) {
    o.cpuset = bad;
    EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }),
                HasSubstr("--cpuset-cpus: expected a host CPU list like 0-3 or 0,2 (CPUs 0 to "
                          "8191)"))
        << bad;
  }
  o.cpuset = "3,0-1,1";  // the cgroup's own spelling, as cpuset.cpus shows it back
  EXPECT_EQ(merge_overrides(device(), o).cpuset, "0-1,3");
  o.cpuset = "8191";  // the bound cgroup writing accepts too (one policy, sys.hpp)
  EXPECT_EQ(merge_overrides(device(), o).cpuset, "8191");
}

TEST(MergeOverrides, MemoryReplacesTheLimitAndDropsAHighAboveIt) {
  LimitOverrides o;
  o.memory = "512m";
  Limits l = merge_overrides(device(), o);
  EXPECT_EQ(l.memory_max, 512 * kMiB);
  EXPECT_FALSE(l.memory_high) << "memory.high of 900 MiB means nothing under a 512 MiB limit";
  EXPECT_EQ(l.swap_max, 0u) << "the profile's swap is kept";
  o.memory = "2GiB";
  EXPECT_EQ(merge_overrides(device(), o).memory_high, 900 * kMiB);
  o.memory = "max";
  EXPECT_FALSE(merge_overrides(device(), o).memory_max);
  o.memory = "1m";
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }),
              HasSubstr("--memory: expected a size of at least 4m like 512m or 2GiB (at most 8 EiB), or max, got "
                        "\"1m\""));
  o.memory = "lots";
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }), HasSubstr("--memory: expected"));
}

TEST(MergeOverrides, MemorySwapIsMemoryPlusSwapAsInDocker) {
  LimitOverrides o;
  o.memory = "512m";
  o.memory_swap = "1g";
  EXPECT_EQ(merge_overrides(device(), o).swap_max, 512 * kMiB);
  o.memory_swap = "512m";
  EXPECT_EQ(merge_overrides(device(), o).swap_max, 0u) << "equal to --memory: no swap";
  o.memory_swap = "-1";
  EXPECT_FALSE(merge_overrides(device(), o).swap_max) << "-1: unlimited swap";
  o.memory_swap = "256m";
  EXPECT_EQ(error_of([&] { merge_overrides(device(), o); }),
            "--memory-swap: expected memory plus swap, at least the memory limit of 512.0 MiB, "
            "got \"256m\"");
}

TEST(MergeOverrides, MemorySwapUsesTheProfileLimitWithoutMemory) {
  LimitOverrides o;
  o.memory_swap = "3GiB";
  EXPECT_EQ(merge_overrides(device(), o).swap_max, 2 * kGiB);
  EXPECT_THAT(error_of([&] { merge_overrides(host_device_profile().limits, o); }),
              HasSubstr("--memory-swap: needs a memory limit"));
}

TEST(MergeOverrides, PidsLimit) {
  LimitOverrides o;
  o.pids_limit = "100";
  EXPECT_EQ(merge_overrides(device(), o).pids_max, 100u);
  for (const char* unlimited : {"-1", "0", "max"}) {
    o.pids_limit = unlimited;
    EXPECT_FALSE(merge_overrides(device(), o).pids_max) << unlimited;
  }
  o.pids_limit = "10k";
  EXPECT_EQ(error_of([&] { merge_overrides(device(), o); }),
            "--pids-limit: expected a process count like 256, or -1 for no limit, got \"10k\"");
}

TEST(MergeOverrides, DeviceRatesUpdateAnEntryOrAddOne) {
  LimitOverrides o;
  o.device_read_bps = {"rootfs:10MB/s"};
  o.device_write_bps = {"/dev/sdb:1mb", "8:16:2m"};  // "mb" is decimal, "m" binary
  o.device_read_iops = {"rootfs:100"};
  o.device_write_iops = {"8:16:50"};
  Limits l = merge_overrides(device(), o);
  ASSERT_EQ(l.io.size(), 3u);
  EXPECT_EQ(l.io[0].device, "rootfs");
  EXPECT_EQ(l.io[0].read_bps, 10000000u);
  EXPECT_EQ(l.io[0].write_bps, 20000000u) << "the profile's write rate is kept";
  EXPECT_EQ(l.io[0].read_iops, 100u);
  EXPECT_EQ(l.io[1].device, "/dev/sdb");
  EXPECT_EQ(l.io[1].write_bps, 1000000u);
  EXPECT_EQ(l.io[2].device, "8:16");
  EXPECT_EQ(l.io[2].write_bps, 2 * kMiB);
  EXPECT_EQ(l.io[2].write_iops, 50u);
}

TEST(MergeOverrides, MaxRemovesADeviceLimit) {
  LimitOverrides o;
  o.device_read_bps = {"rootfs:max"};
  Limits l = merge_overrides(device(), o);
  ASSERT_EQ(l.io.size(), 1u);
  EXPECT_FALSE(l.io[0].read_bps);
  o.device_write_bps = {"rootfs:max"};
  EXPECT_TRUE(merge_overrides(device(), o).io.empty()) << "no limit left on the device";
}

TEST(MergeOverrides, BadDeviceLimitsNameTheOption) {
  LimitOverrides o;
  o.device_read_bps = {"sda:10mb"};
  EXPECT_EQ(error_of([&] { merge_overrides(device(), o); }),
            "--device-read-bps: expected DEVICE:RATE like /dev/sda:10mb or rootfs:45MB/s, got "
            "\"sda:10mb\"");
  o.device_read_bps = {"rootfs:0"};
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }), HasSubstr("--device-read-bps"));
  o.device_read_bps = {"rootfs"};
  EXPECT_THAT(error_of([&] { merge_overrides(device(), o); }), HasSubstr("got \"rootfs\""));
  LimitOverrides iops;
  iops.device_write_iops = {"/dev/sda:1.5"};
  EXPECT_THAT(error_of([&] { merge_overrides(device(), iops); }),
              HasSubstr("--device-write-iops: expected DEVICE:IOPS"));
}

TEST(MergeOverrides, ResolveDeviceLoadsAndMerges) {
  LimitOverrides o;
  o.device = test::bundled_dir() + "/rpi4.toml";
  o.cpus = "0.5";
  o.memory = "1g";
  DeviceProfile p = resolve_device(o);
  EXPECT_EQ(p.name, "rpi4");
  EXPECT_EQ(p.limits.cores, 4u);
  EXPECT_DOUBLE_EQ(*p.limits.quota_cores(), 0.5);
  EXPECT_EQ(p.limits.memory_max, kGiB);
  LimitOverrides none;
  EXPECT_EQ(resolve_device(none).name, "host");
}

}  // namespace
}  // namespace cgprof
