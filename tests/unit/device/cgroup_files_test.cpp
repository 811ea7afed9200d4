#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "cgprof/device.hpp"

namespace cgprof {
namespace {

std::map<std::string, std::string> files(const Limits& l, unsigned host_cpus) {
  std::map<std::string, std::string> out;
  for (const CgroupFileValue& f : cgroup_files(l, host_cpus)) {
    std::string& v = out[f.file];
    v += (v.empty() ? "" : "\n") + f.value;
  }
  return out;
}

TEST(CgroupFiles, NoLimitsWritesMax) {
  Limits l;
  l.swap_max.reset();
  auto f = files(l, 8);
  EXPECT_EQ(f["cpu.max"], "max 100000");
  EXPECT_EQ(f["memory.max"], "max");
  EXPECT_EQ(f["memory.swap.max"], "max");
  EXPECT_EQ(f["pids.max"], "max");
  EXPECT_EQ(f.count("cpuset.cpus"), 0u);
  EXPECT_EQ(f.count("io.max"), 0u);
  EXPECT_EQ(f.count("memory.high"), 0u);
}

TEST(CgroupFiles, DeviceLimits) {
  Limits l;
  l.cores = 4;
  l.core_speed = 0.22;
  l.cpu_period_us = 50000;
  l.memory_max = 1ull << 30;
  l.memory_high = 1ull << 29;
  l.swap_max = 0;
  l.pids_max = 512;
  IoDeviceLimit io;
  io.read_bps = 45000000;
  io.write_iops = 500;
  l.io.push_back(io);
  auto f = files(l, 16);
  EXPECT_EQ(f["cpu.max"], "44000 50000");
  EXPECT_EQ(f["cpuset.cpus"], "0-3");
  EXPECT_EQ(f["memory.max"], "1073741824");
  EXPECT_EQ(f["memory.high"], "536870912");
  EXPECT_EQ(f["memory.swap.max"], "0");
  EXPECT_EQ(f["pids.max"], "512");
  EXPECT_EQ(f["io.max"], "rootfs rbps=45000000 wiops=500");
}

TEST(CgroupFiles, CpusetOnlyWhenTheDeviceHasFewerCoresThanTheHost) {
  Limits l;
  l.cores = 4;
  l.core_speed = 0.25;
  EXPECT_EQ(files(l, 2).count("cpuset.cpus"), 0u);
  EXPECT_EQ(files(l, 4).count("cpuset.cpus"), 0u);
  l.cores = 1;
  EXPECT_EQ(files(l, 4)["cpuset.cpus"], "0");
  l.cpuset = "2,5";
  EXPECT_EQ(files(l, 2)["cpuset.cpus"], "2,5") << "an explicit cpuset always wins";
}

TEST(CgroupFiles, ExplicitCpusAndRounding) {
  Limits l;
  l.cores = 8;
  l.core_speed = 0.26;
  EXPECT_EQ(cpu_max_value(l), "208000 100000");
  l.cpus = 0.333333;
  EXPECT_EQ(cpu_max_value(l), "33333 100000");
}

}  // namespace
}  // namespace cgprof
