// cgroup v1: layout detection, hierarchy discovery and the v1 stat parsers, on fixtures.
#include <gtest/gtest.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

const std::string kData = CGPROF_SOURCE_DIR "/tests/data/cgroupfs/";

std::string fixture(const std::string& name) {
  return read_file(kData + name);
}

constexpr const char* kCoMounted =
    "30 22 0:27 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "32 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "33 30 0:30 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
    "34 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
constexpr const char* kCoMountedSelf =
    "5:net_cls,net_prio:/\n"
    "4:memory:/system.slice/sshd.service\n"
    "2:cpu,cpuacct:/system.slice/sshd.service\n"
    "1:name=systemd:/system.slice/sshd.service\n";

TEST(CgroupLayout, PureV2HybridAndLegacyFromMountinfo) {
  EXPECT_EQ(detect_cgroup_layout(fixture("proc-systemd-user/self/mountinfo")),
            CgroupLayout::kUnified);
  EXPECT_EQ(detect_cgroup_layout(fixture("proc-hybrid/self/mountinfo")), CgroupLayout::kHybrid);
  EXPECT_EQ(detect_cgroup_layout(kCoMounted), CgroupLayout::kLegacy);
  EXPECT_EQ(detect_cgroup_layout("22 27 0:21 / /proc rw - proc proc rw\n"), CgroupLayout::kNone);
}

TEST(CgroupLayout, AutoPicksV1WhereV1ControllersAreMountedAndTheFlagForces) {
  EXPECT_EQ(cgroup_version_for(CgroupLayout::kUnified, CgroupManager::kAuto), 2);
  EXPECT_EQ(cgroup_version_for(CgroupLayout::kHybrid, CgroupManager::kAuto), 1);
  EXPECT_EQ(cgroup_version_for(CgroupLayout::kLegacy, CgroupManager::kAuto), 1);
  EXPECT_EQ(cgroup_version_for(CgroupLayout::kHybrid, CgroupManager::kV2), 2);
  EXPECT_EQ(cgroup_version_for(CgroupLayout::kUnified, CgroupManager::kV1), 1);
  EXPECT_EQ(parse_cgroup_manager("v1"), CgroupManager::kV1);
  EXPECT_EQ(parse_cgroup_manager("auto"), CgroupManager::kAuto);
  try {
    parse_cgroup_manager("cgroupfs");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected auto, v1, v2 or emulated"), std::string::npos);
  }
}

TEST(V1Hierarchies, SeparateControllersEachWithOurPlaceInIt) {
  std::vector<V1Hierarchy> hs = parse_v1_hierarchies(fixture("proc-hybrid/self/mountinfo"),
                                                     fixture("proc-hybrid/self/cgroup"));
  // The fixture's /proc/self/cgroup names pids, memory and cpu; systemd is named, 0:: is v2.
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(hs[0].mount_point, "/sys/fs/cgroup/pids");
  EXPECT_EQ(hs[0].self, "");
  EXPECT_EQ(hs[1].mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(hs[1].self, "user.slice");
  EXPECT_EQ(hs[2].name(), "cpu");
  EXPECT_TRUE(hs[2].has("cpu"));
  EXPECT_FALSE(hs[2].has("cpuacct"));
}

TEST(V1Hierarchies, CoMountedCpuCpuacctIsOneHierarchyAndUnusedOrNamedOnesAreIgnored) {
  std::vector<V1Hierarchy> hs = parse_v1_hierarchies(kCoMounted, kCoMountedSelf);
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[0].name(), "memory");
  EXPECT_EQ(hs[1].name(), "cpu,cpuacct");
  EXPECT_EQ(hs[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(hs[1].self, "system.slice/sshd.service");
  EXPECT_TRUE(hs[1].has("cpuacct"));
}

TEST(V1Hierarchies, AHierarchyThatIsNotMountedIsLeftOut) {
  std::vector<V1Hierarchy> hs =
      parse_v1_hierarchies(kCoMounted, "6:pids:/x\n4:memory:/\n");
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].name(), "memory");
}

TEST(V1Hierarchies, OurCgroupOutsideTheMountedSubtreeIsAnError) {
  EXPECT_THROW(parse_v1_hierarchies(kCoMounted, "4:memory:/../other\n"), Error);
}

TEST(V1Parsers, CpuacctStatTicksBecomeMicroseconds) {
  std::string t = "user 250\nsystem 40\n";
  CpuStat c;
  EXPECT_TRUE(parse_cpuacct_stat(t.data(), t.size(), 10000, &c));
  EXPECT_EQ(c.user_usec, 2500000u);
  EXPECT_EQ(c.system_usec, 400000u);
  EXPECT_EQ(c.present, 6u);
  std::string real = fixture("v1/cpuacct.stat.txt");
  CpuStat r;
  EXPECT_TRUE(parse_cpuacct_stat(real.data(), real.size(), 10000, &r));
  EXPECT_EQ(r.present, 6u);
}

TEST(V1Parsers, CpuStatThrottledTimeIsNanoseconds) {
  std::string t = "nr_periods 21\nnr_throttled 17\nthrottled_time 241600123\nnr_bursts 0\n";
  CpuStat c;
  EXPECT_TRUE(parse_cpu_stat_v1(t.data(), t.size(), &c));
  EXPECT_EQ(c.nr_periods, 21u);
  EXPECT_EQ(c.nr_throttled, 17u);
  EXPECT_EQ(c.throttled_usec, 241600u);
  EXPECT_EQ(c.usage_usec, 0u);
  EXPECT_EQ(c.present, 0x38u);
  std::string real = fixture("v1/cpu.stat.txt");
  EXPECT_TRUE(parse_cpu_stat_v1(real.data(), real.size(), &c));
}

TEST(V1Parsers, CpuStatCutShortIsAnError) {
  std::string t = "nr_periods 21\nnr_thr";
  CpuStat c;
  EXPECT_FALSE(parse_cpu_stat_v1(t.data(), t.size(), &c));
  EXPECT_EQ(c.nr_periods, 21u);
}

TEST(V1Parsers, MemoryStatMapsRssCacheShmemAndFaults) {
  std::string t = fixture("v1/memory.stat.txt");
  MemoryStat m;
  EXPECT_TRUE(parse_memory_stat_v1(t.data(), t.size(), &m));
  EXPECT_EQ(m.anon, 194699264u);  // rss
  EXPECT_EQ(m.file, 485658624u);  // cache
  EXPECT_EQ(m.kernel, 0u);        // v1 has no such line
  EXPECT_EQ(m.present & (1u << 2), 0u);
  EXPECT_NE(m.present & (1u << 4), 0u);  // pgfault
}

TEST(V1Parsers, OomControlGivesOomKillAndUnderOom) {
  std::string t = "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n";
  MemoryEvents e;
  bool under = false;
  EXPECT_TRUE(parse_memory_oom_control(t.data(), t.size(), &e, &under));
  EXPECT_EQ(e.oom_kill, 3u);
  EXPECT_TRUE(under);
  std::string old_kernel = "oom_kill_disable 0\nunder_oom 0\n";
  MemoryEvents o;
  EXPECT_TRUE(parse_memory_oom_control(old_kernel.data(), old_kernel.size(), &o, nullptr));
  EXPECT_EQ(o.present, 0u);  // no count on kernels before 4.13: absent, not 0
}

TEST(V1Parsers, BlkioBytesAndOpsPerDeviceAndInTotal) {
  IoStat io;
  std::string b = fixture("v1/blkio.io_service_bytes.txt");
  std::string o = fixture("v1/blkio.io_serviced.txt");
  EXPECT_TRUE(parse_blkio_throttle(b.data(), b.size(), BlkioCounter::kBytes, &io));
  EXPECT_TRUE(parse_blkio_throttle(o.data(), o.size(), BlkioCounter::kOps, &io));
  ASSERT_EQ(io.device_count, 2u);
  EXPECT_EQ(io.devices[0].major, 8u);
  EXPECT_EQ(io.devices[0].minor, 16u);
  EXPECT_EQ(io.devices[0].rbytes, 1000u);
  EXPECT_EQ(io.devices[0].wbytes, 2000u);
  EXPECT_EQ(io.devices[0].dbytes, 5u);
  EXPECT_EQ(io.devices[0].rios, 3u);
  EXPECT_EQ(io.devices[0].wios, 4u);
  EXPECT_EQ(io.devices[1].rbytes, 10u);
  // Sync, Async and the Total lines are sums: not counted again.
  EXPECT_EQ(io.total.rbytes, 1010u);
  EXPECT_EQ(io.total.wbytes, 2020u);
  EXPECT_EQ(io.total.rios, 3u);
}

TEST(V1Parsers, BlkioOfAnIdleCgroupIsOnlyTotalZero) {
  IoStat io;
  std::string t = "Total 0\n";
  EXPECT_TRUE(parse_blkio_throttle(t.data(), t.size(), BlkioCounter::kBytes, &io));
  EXPECT_EQ(io.device_count, 0u);
  EXPECT_EQ(io.total.rbytes, 0u);
}

}  // namespace
}  // namespace cgprof
