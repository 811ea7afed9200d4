#include <gtest/gtest.h>

#include <filesystem>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;
const std::string kSys = CGPROF_SOURCE_DIR "/tests/data/sysfs";

TEST(CpuMax, QuotaIsCoresTimesSpeedTimesPeriod) {
  Limits l;
  EXPECT_EQ(cgroup_cpu_max(l), "max 100000");
  l.cores = 4;
  l.core_speed = 0.35;
  EXPECT_EQ(cgroup_cpu_max(l), "140000 100000");
  l.cpus = 0.5;  // explicit --cpus wins over cores * speed
  l.cpu_period_us = 20000;
  EXPECT_EQ(cgroup_cpu_max(l), "10000 20000");
  l.cpus = 0.001;  // below the kernel's 1 ms minimum
  EXPECT_EQ(cgroup_cpu_max(l), "1000 20000");
}

TEST(Cpuset, CoresTakeTheFirstAvailableCpus) {
  Limits l;
  l.cores = 2;
  std::vector<std::string> notices;
  EXPECT_EQ(cpuset_cpus_value(l, "2-7\n", &notices), "2-3");
  EXPECT_TRUE(notices.empty());
  l.cores.reset();
  EXPECT_EQ(cpuset_cpus_value(l, "0-7", &notices), "") << "no cores, no cpuset";
}

TEST(Cpuset, MoreCoresThanTheHostCapsWithANotice) {
  Limits l;
  l.cores = 4;
  std::vector<std::string> notices;
  EXPECT_EQ(cpuset_cpus_value(l, "0-1", &notices), "0-1");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("4 cores but only 2"), std::string::npos) << notices[0];
}

TEST(Cpuset, ExplicitListMustBeAvailable) {
  Limits l;
  l.cores = 4;
  l.cpuset = "1,0";
  EXPECT_EQ(cpuset_cpus_value(l, "0-1", nullptr), "0-1");
  l.cpuset = "3";
  try {
    cpuset_cpus_value(l, "0-1", nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("CPU 3 is not available here (available: 0-1)"), std::string::npos)
        << e.message();
  }
}

TEST(IoMax, LineHasOnlyTheSetKeys) {
  IoDeviceLimit lim;
  lim.read_bps = 45000000;
  lim.write_iops = 100;
  EXPECT_EQ(io_max_line(8, 0, lim), "8:0 rbps=45000000 wiops=100");
}

TEST(BlockDevice, PartitionMapsToItsDisk) {
  UniqueFd sys = open_at(AT_FDCWD, kSys, O_PATH | O_DIRECTORY);
  EXPECT_EQ(whole_disk(8, 1, sys.get()), (std::pair<unsigned, unsigned>{8, 0}));
  EXPECT_EQ(whole_disk(8, 0, sys.get()), (std::pair<unsigned, unsigned>{8, 0}));
  EXPECT_EQ(whole_disk(254, 0, sys.get()), (std::pair<unsigned, unsigned>{254, 0}));
  BlockDevice d = resolve_block_device("8:1", sys.get());
  EXPECT_EQ(d.major, 8u);
  EXPECT_EQ(d.minor, 0u);
}

TEST(BlockDevice, NonBlockDeviceIsAnError) {
  UniqueFd sys = open_at(AT_FDCWD, kSys, O_PATH | O_DIRECTORY);
  EXPECT_THROW(resolve_block_device("/dev/null", sys.get()), Error);
  try {
    resolve_block_device("/dev/does-not-exist", sys.get());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("/dev/does-not-exist"), std::string::npos) << e.message();
  }
}

TEST(BlockDevice, TmpfsHasNoBlockDeviceAndSaysWhich) {
  UniqueFd sys = open_at(AT_FDCWD, "/sys", O_PATH | O_DIRECTORY);
  std::string why;
  EXPECT_FALSE(block_device_of_path("/dev/shm", sys.get(), &why));
  EXPECT_NE(why.find("tmpfs"), std::string::npos) << why;
  EXPECT_NE(why.find("--device-read-bps"), std::string::npos) << why;
}

TEST(Controllers, FollowTheLimits) {
  Limits l;
  l.swap_max.reset();
  EXPECT_TRUE(controllers_for(l).empty());
  l.swap_max = 0;
  EXPECT_EQ(controllers_for(l), (std::vector<std::string>{"memory"}));
  l.cpus = 1;
  l.cpuset = "0";
  l.pids_max = 10;
  l.io.push_back({});
  EXPECT_EQ(controllers_for(l),
            (std::vector<std::string>{"cpu", "cpuset", "memory", "io", "pids"}));
}

// write_limits into a fake leaf made of regular files.
class WriteLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-limits-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directory(dir_ + "/leaf");
    put("cpuset.cpus.effective", "0-3\n");
    put("cpuset.mems.effective", "0\n");
    for (const char* f : {"cpu.max", "cpuset.cpus", "cpuset.mems", "memory.max", "memory.high",
                          "memory.swap.max", "pids.max", "io.max"})
      put(std::string("leaf/") + f, "");
    parent_ = open_at(AT_FDCWD, dir_, O_PATH | O_DIRECTORY);
    leaf_ = open_at(AT_FDCWD, dir_ + "/leaf", O_PATH | O_DIRECTORY);
    sys_ = open_at(AT_FDCWD, kSys, O_PATH | O_DIRECTORY);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void put(const std::string& rel, const std::string& text) {
    FILE* f = std::fopen((dir_ + "/" + rel).c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  std::string get(const std::string& f) { return read_file(dir_ + "/leaf/" + f); }
  std::string dir_;
  UniqueFd parent_, leaf_, sys_;
};

TEST_F(WriteLimitsTest, WritesEveryLimitAndReportsIt) {
  put("leaf/cgroup.controllers", "cpuset cpu io memory pids\n");
  Limits l;
  l.cores = 2;
  l.core_speed = 0.5;
  l.memory_max = 64 << 20;
  l.pids_max = 50;
  IoDeviceLimit io;
  io.device = "8:1";
  io.read_bps = 1000000;
  l.io.push_back(io);
  LimitsWritten w = write_limits(leaf_.get(), parent_.get(), l, "/", sys_.get());
  EXPECT_EQ(get("cpuset.cpus"), "0-1");
  EXPECT_EQ(get("cpuset.mems"), "0");
  EXPECT_EQ(get("cpu.max"), "100000 100000");
  EXPECT_EQ(get("memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(get("memory.swap.max"), "0");
  EXPECT_EQ(get("memory.high"), "") << "unset: not written";
  EXPECT_EQ(get("pids.max"), "50");
  EXPECT_EQ(get("io.max"), "8:0 rbps=1000000");
  ASSERT_TRUE(w.cpu_quota_cores);
  EXPECT_DOUBLE_EQ(*w.cpu_quota_cores, 1.0);
  EXPECT_EQ(w.cpuset_cpus, "0-1");
  EXPECT_EQ(w.files.front(), (std::pair<std::string, std::string>{"cpuset.cpus", "0-1"}));
  EXPECT_EQ(w.files.size(), 7u);
  EXPECT_TRUE(w.notices.empty());
}

TEST_F(WriteLimitsTest, MissingCpusetAndRootfsWithoutDiskBecomeNotices) {
  put("leaf/cgroup.controllers", "cpu io memory pids\n");
  Limits l;
  l.cores = 2;
  l.io.push_back({});  // "rootfs"
  l.io.back().read_bps = 5;
  LimitsWritten w = write_limits(leaf_.get(), parent_.get(), l, "/dev/shm", sys_.get());
  EXPECT_EQ(get("cpuset.cpus"), "");
  EXPECT_EQ(get("io.max"), "");
  ASSERT_EQ(w.notices.size(), 2u);
  EXPECT_NE(w.notices[0].find("cpuset controller is unavailable"), std::string::npos);
  EXPECT_NE(w.notices[1].find("tmpfs"), std::string::npos) << w.notices[1];
}

}  // namespace
}  // namespace cgprof
