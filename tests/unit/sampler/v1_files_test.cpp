// cgroup v1 files mapped onto the Sample fields (sampler) and the counter snapshot (totals), on
// a fixture: one directory per hierarchy, as on a host with cpu and cpuacct mounted apart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;

class V1Fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-v1-files-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::path data = fs::path(CGPROF_SOURCE_DIR) / "tests/data/cgroupfs/v1";
    put("cpuacct", "cpuacct.usage", "2500000000\n");
    put("cpuacct", "cpuacct.stat", "user 200\nsystem 50\n");
    put("cpu", "cpu.stat",
        "nr_periods 30\nnr_throttled 12\nthrottled_time 480000000\nnr_bursts 0\nburst_time 0\n");
    put("memory", "memory.usage_in_bytes", "104857600\n");
    put("memory", "memory.max_usage_in_bytes", "110000000\n");
    put("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    put("memory", "memory.failcnt", "17\n");
    fs::create_directories(root_ / "blkio");
    fs::copy_file(data / "memory.stat.txt", root_ / "memory" / "memory.stat");
    fs::copy_file(data / "blkio.io_service_bytes.txt",
                  root_ / "blkio" / "blkio.throttle.io_service_bytes_recursive");
    fs::copy_file(data / "blkio.io_serviced.txt",
                  root_ / "blkio" / "blkio.throttle.io_serviced_recursive");
    put("pids", "pids.current", "7\n");
    put("pids", "pids.peak", "9\n");
    dirs_.version = 1;
    for (auto [name, field] : {std::pair{"cpu", &CgroupDirs::cpu}, {"cpuacct", &CgroupDirs::cpuacct},
                               {"memory", &CgroupDirs::memory}, {"blkio", &CgroupDirs::blkio},
                               {"pids", &CgroupDirs::pids}}) {
      fds_.push_back(open_at(AT_FDCWD, (root_ / name).string(), O_PATH | O_DIRECTORY));
      dirs_.*field = fds_.back().get();
    }
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& dir, const std::string& name, const std::string& text) {
    fs::create_directories(root_ / dir);
    std::ofstream(root_ / dir / name) << text;
  }

  fs::path root_;
  std::vector<UniqueFd> fds_;
  CgroupDirs dirs_;
};

TEST_F(V1Fixture, SampleMapsEveryV1FileOntoTheV2Fields) {
  Sample s = sample_once(dirs_);
  uint64_t want = kFileCpuStat | kFileMemoryCurrent | kFileMemoryStat | kFileMemoryEvents |
                  kFileIoStat | kFilePidsCurrent;
  EXPECT_EQ(s.valid, want) << std::hex << s.valid;
  EXPECT_EQ(s.cpu_usage_usec, 2500000u);  // ns / 1000
  long hz = ::sysconf(_SC_CLK_TCK);
  EXPECT_EQ(s.cpu_user_usec, 200u * (1000000u / hz));
  EXPECT_EQ(s.cpu_system_usec, 50u * (1000000u / hz));
  EXPECT_EQ(s.cpu_nr_throttled, 12u);
  EXPECT_EQ(s.cpu_throttled_usec, 480000u);
  EXPECT_EQ(s.memory_current, 104857600u);
  EXPECT_EQ(s.memory_anon, 194699264u);
  EXPECT_EQ(s.memory_events_oom_kill, 1u);
  EXPECT_EQ(s.memory_events_max, 17u);
  EXPECT_EQ(s.io_rbytes, 1010u);
  EXPECT_EQ(s.io_wios, 4u);
  EXPECT_EQ(s.pids_current, 7u);
}

TEST_F(V1Fixture, ABitIsValidOnlyWhenEveryFileBehindItWasRead) {
  put("cpu", "cpu.stat", "nr_periods 30\nnr_thrott");  // cut short
  Sample s = sample_once(dirs_, kSampleCpu);
  EXPECT_EQ(s.valid & kFileCpuStat, 0u);
  EXPECT_EQ(s.cpu_usage_usec, 2500000u);
}

TEST_F(V1Fixture, NoPressureIsOpenedOnV1) {
  Sample s = sample_once(dirs_, kSamplePsi | kSampleCpu);
  EXPECT_EQ(s.valid & (kFileCpuPressure | kFileMemoryPressure | kFileIoPressure), 0u);
}

TEST_F(V1Fixture, CountersForTotalsComeFromTheSameFilesAndPsiIsAbsent) {
  CounterSnapshot c = read_counters(dirs_);
  EXPECT_TRUE(c.has_cpu);
  EXPECT_EQ(c.cpu.usage_usec, 2500000u);
  EXPECT_EQ(c.cpu.nr_periods, 30u);
  ASSERT_TRUE(c.memory_peak);
  EXPECT_EQ(*c.memory_peak, 110000000u);
  EXPECT_STREQ(c.memory_peak_file, "memory.max_usage_in_bytes");
  EXPECT_TRUE(c.has_memory_events);
  EXPECT_EQ(c.events.oom_kill, 1u);
  EXPECT_EQ(c.events.max, 17u);
  EXPECT_TRUE(c.has_io);
  ASSERT_EQ(c.io.device_count, 2u);
  EXPECT_EQ(c.io.devices[0].wbytes, 2000u);
  ASSERT_TRUE(c.pids_peak);
  EXPECT_EQ(*c.pids_peak, 9u);
  EXPECT_FALSE(c.has_psi);
  RunTotals t = compute_totals(c, c, SampleSummary{}, 1.0, std::nullopt);
  EXPECT_EQ(t.memory_peak_source, "memory.max_usage_in_bytes");
  EXPECT_FALSE(t.psi_measured);
}

}  // namespace
}  // namespace cgprof
