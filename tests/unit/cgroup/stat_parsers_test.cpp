// Parsers on files captured from a real 6.1 kernel (tests/data/cgroupfs/capture.sh) and on
// truncated and malformed variants of them.
#include "cgprof/stat_parsers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(CGPROF_SOURCE_DIR) + "/tests/data/cgroupfs/" + name);
}

TEST(CpuStatParser, RealKernelFile) {
  std::string d = fixture("cpu.stat.txt");
  CpuStat c;
  ASSERT_TRUE(parse_cpu_stat(d.data(), d.size(), &c));
  EXPECT_EQ(c.usage_usec, 2715681u);
  EXPECT_EQ(c.user_usec, 598370u);
  EXPECT_EQ(c.system_usec, 2117311u);
  EXPECT_EQ(c.nr_periods, 137u);
  EXPECT_EQ(c.nr_throttled, 136u);
  EXPECT_EQ(c.throttled_usec, 18110732u);
  EXPECT_EQ(c.present, 0x3fu);
}

TEST(CpuStatParser, WithoutCpuControllerOnlyUsageFields) {
  // cpu.stat of a cgroup without the cpu controller enabled has no throttling keys.
  std::string d = "usage_usec 10\nuser_usec 7\nsystem_usec 3\n";
  CpuStat c;
  ASSERT_TRUE(parse_cpu_stat(d.data(), d.size(), &c));
  EXPECT_EQ(c.usage_usec, 10u);
  EXPECT_EQ(c.nr_periods, 0u);
  EXPECT_EQ(c.present, 0x7u);
}

TEST(CpuStatParser, TruncatedLastLineIsIgnoredAndReported) {
  std::string d = fixture("cpu.stat.txt");
  // Cut in the middle of "user_usec 598370".
  size_t cut = d.find("user_usec") + 13;
  CpuStat c;
  EXPECT_FALSE(parse_cpu_stat(d.data(), cut, &c));
  EXPECT_EQ(c.usage_usec, 2715681u);
  EXPECT_EQ(c.user_usec, 0u) << "a partial number must not be taken as a value";
  EXPECT_EQ(c.present, 0x1u);
}

TEST(CpuStatParser, MalformedValueFailsButKeepsOthers) {
  std::string d = "usage_usec 12x\nuser_usec 5\n";
  CpuStat c;
  EXPECT_FALSE(parse_cpu_stat(d.data(), d.size(), &c));
  EXPECT_EQ(c.user_usec, 5u);
  EXPECT_EQ(c.present, 0x2u);
}

TEST(CpuStatParser, EmptyAndOverflow) {
  CpuStat c;
  EXPECT_TRUE(parse_cpu_stat("", 0, &c));
  EXPECT_EQ(c.present, 0u);
  std::string d = "usage_usec 99999999999999999999999\n";
  EXPECT_TRUE(parse_cpu_stat(d.data(), d.size(), &c));
  EXPECT_EQ(c.usage_usec, UINT64_MAX);
}

TEST(MemoryStatParser, RealKernelFile) {
  std::string d = fixture("memory.stat.txt");
  MemoryStat m;
  ASSERT_TRUE(parse_memory_stat(d.data(), d.size(), &m));
  EXPECT_EQ(m.anon, 0u);
  EXPECT_EQ(m.file, 3100672u);
  EXPECT_EQ(m.kernel, 16384u);
  EXPECT_EQ(m.shmem, 3002368u);
  EXPECT_EQ(m.pgfault, 584u);
  EXPECT_EQ(m.pgmajfault, 108u);
  EXPECT_EQ(m.present, 0x3fu);
}

TEST(MemoryStatParser, PrefixKeysDoNotMatch) {
  // "anon_thp", "file_mapped", "kernel_stack" share prefixes with the keys we want.
  std::string d = "anon_thp 5\nfile_mapped 6\nkernel_stack 7\nanon 1\n";
  MemoryStat m;
  ASSERT_TRUE(parse_memory_stat(d.data(), d.size(), &m));
  EXPECT_EQ(m.anon, 1u);
  EXPECT_EQ(m.file, 0u);
  EXPECT_EQ(m.kernel, 0u);
  EXPECT_EQ(m.present, 0x1u);
}

TEST(MemoryEventsParser, RealKernelFileAndOomCounts) {
  std::string d = fixture("memory.events.txt");
  MemoryEvents e;
  ASSERT_TRUE(parse_memory_events(d.data(), d.size(), &e));
  EXPECT_EQ(e.present, 0x3fu);
  EXPECT_EQ(e.oom_kill, 0u);
  std::string oom = "low 0\nhigh 12\nmax 40\noom 2\noom_kill 1\noom_group_kill 0\n";
  ASSERT_TRUE(parse_memory_events(oom.data(), oom.size(), &e));
  EXPECT_EQ(e.high, 12u);
  EXPECT_EQ(e.max, 40u);
  EXPECT_EQ(e.oom, 2u);
  EXPECT_EQ(e.oom_kill, 1u);
}

TEST(IoStatParser, RealKernelFile) {
  std::string d = fixture("io.stat.txt");
  IoStat io;
  ASSERT_TRUE(parse_io_stat(d.data(), d.size(), &io));
  ASSERT_EQ(io.device_count, 1u);
  EXPECT_EQ(io.devices[0].major, 254u);
  EXPECT_EQ(io.devices[0].minor, 0u);
  EXPECT_EQ(io.devices[0].rbytes, 4194304u);
  EXPECT_EQ(io.devices[0].rios, 64u);
  EXPECT_EQ(io.total.rbytes, 4194304u);
}

TEST(IoStatParser, SeveralDevicesUnknownKeysAndTotals) {
  std::string d =
      "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
      "8:16 rbytes=1000 wbytes=2000 rios=10 wios=20 dbytes=5 dios=1 cost.vrate=100.00 "
      "cost.usage=12\n"
      "253:3 rbytes=1 wbytes=2 rios=3 wios=4\n";
  IoStat io;
  ASSERT_TRUE(parse_io_stat(d.data(), d.size(), &io));
  ASSERT_EQ(io.device_count, 3u);
  EXPECT_EQ(io.devices[1].major, 8u);
  EXPECT_EQ(io.devices[1].minor, 16u);
  EXPECT_EQ(io.devices[1].dbytes, 5u);
  EXPECT_EQ(io.devices[2].major, 253u);
  EXPECT_EQ(io.devices[2].minor, 3u);
  EXPECT_EQ(io.devices[2].dios, 0u);
  EXPECT_EQ(io.total.rbytes, 1101u);
  EXPECT_EQ(io.total.wbytes, 2202u);
  EXPECT_EQ(io.total.wios, 26u);
}

TEST(IoStatParser, MoreDevicesThanSlotsStillCountInTotal) {
  std::string d;
  for (unsigned i = 0; i < kMaxIoDevices + 3; ++i)
    d += "8:" + std::to_string(i) + " rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
  IoStat io;
  ASSERT_TRUE(parse_io_stat(d.data(), d.size(), &io));
  EXPECT_EQ(io.device_count, kMaxIoDevices);
  EXPECT_EQ(io.devices_omitted, 3u);
  EXPECT_EQ(io.total.rbytes, 10u * (kMaxIoDevices + 3));
}

TEST(IoStatParser, EmptyFileMeansNoIo) {
  IoStat io;
  EXPECT_TRUE(parse_io_stat("", 0, &io));
  EXPECT_EQ(io.device_count, 0u);
}

TEST(IoStatParser, BadDeviceKeyAndTruncation) {
  std::string bad = "sda rbytes=1\n8:0 rbytes=7\n";
  IoStat io;
  EXPECT_FALSE(parse_io_stat(bad.data(), bad.size(), &io));
  ASSERT_EQ(io.device_count, 1u);
  EXPECT_EQ(io.devices[0].rbytes, 7u);
  std::string d = fixture("io.stat.txt");
  EXPECT_FALSE(parse_io_stat(d.data(), d.size() - 5, &io));
  EXPECT_EQ(io.device_count, 0u);
}

TEST(PressureParser, RealKernelFile) {
  std::string d = fixture("cpu.pressure.txt");
  Pressure p;
  ASSERT_TRUE(parse_pressure(d.data(), d.size(), &p));
  EXPECT_EQ(p.present, 3u);
  EXPECT_EQ(p.some.avg10_centi, 5187u);
  EXPECT_EQ(p.some.avg60_centi, 1327u);
  EXPECT_EQ(p.some.avg300_centi, 295u);
  EXPECT_EQ(p.some.total_usec, 10090317u);
  EXPECT_EQ(p.full.total_usec, 10085964u);
  std::string io = fixture("io.pressure.txt");
  ASSERT_TRUE(parse_pressure(io.data(), io.size(), &p));
  EXPECT_EQ(p.some.total_usec, 4370u);
}

TEST(PressureParser, SomeOnlyAndOddDecimals) {
  // Older kernels' cpu.pressure has no "full" line.
  std::string d = "some avg10=1.5 avg60=100.00 avg300=0.123 total=42\n";
  Pressure p;
  ASSERT_TRUE(parse_pressure(d.data(), d.size(), &p));
  EXPECT_EQ(p.present, 1u);
  EXPECT_EQ(p.some.avg10_centi, 150u);
  EXPECT_EQ(p.some.avg60_centi, 10000u);
  EXPECT_EQ(p.some.avg300_centi, 12u);
  EXPECT_EQ(p.some.total_usec, 42u);
}

TEST(PressureParser, MissingTotalOrGarbageFails) {
  std::string d = "some avg10=0.00 avg60=0.00 avg300=0.00\n";
  Pressure p;
  EXPECT_FALSE(parse_pressure(d.data(), d.size(), &p));
  EXPECT_EQ(p.present, 0u);
  std::string g = "some avg10=x total=5\n";
  EXPECT_FALSE(parse_pressure(g.data(), g.size(), &p));
}

TEST(SingleValueParser, RealFilesMaxAndErrors) {
  uint64_t v = 0;
  std::string cur = fixture("memory.current.txt");
  ASSERT_TRUE(parse_single_value(cur.data(), cur.size(), &v));
  EXPECT_EQ(v, 3350528u);
  std::string peak = fixture("memory.peak.txt");
  ASSERT_TRUE(parse_single_value(peak.data(), peak.size(), &v));
  EXPECT_EQ(v, 3584000u);
  std::string pids = fixture("pids.current.txt");
  ASSERT_TRUE(parse_single_value(pids.data(), pids.size(), &v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(parse_single_value("max\n", 4, &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(parse_single_value("123", 3, &v)) << "no newline: may be cut short";
  EXPECT_FALSE(parse_single_value("12 3\n", 5, &v));
  EXPECT_FALSE(parse_single_value("", 0, &v));
  EXPECT_FALSE(parse_single_value("-1\n", 3, &v));
}

TEST(NetDevParser, RealKernelFileHasLoAndOneInterface) {
  std::string d = fixture("net_dev.txt");
  NetDevStat n;
  ASSERT_TRUE(parse_net_dev(d.data(), d.size(), &n));
  EXPECT_EQ(n.interfaces, 2u);
  EXPECT_EQ(n.rx_bytes, 0u);
}

TEST(NetDevParser, SumsNonLoAndKeepsLoSeparate) {
  std::string d = fixture("net_dev.txt");
  size_t hdr = d.find("    lo:");
  std::string text = d.substr(0, hdr) +
                     "    lo:    1000      10    0    0    0     0          0         0     "
                     "1000      10    0    0    0     0       0          0\n"
                     "  eth0: 5000 50 0 0 0 0 0 0 700 7 0 0 0 0 0 0\n"
                     "wlan0:100 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n";
  NetDevStat n;
  ASSERT_TRUE(parse_net_dev(text.data(), text.size(), &n));
  EXPECT_EQ(n.interfaces, 3u);
  EXPECT_EQ(n.rx_bytes, 5100u);
  EXPECT_EQ(n.rx_packets, 51u);
  EXPECT_EQ(n.tx_bytes, 720u);
  EXPECT_EQ(n.tx_packets, 9u);
  EXPECT_EQ(n.lo_rx_bytes, 1000u);
  EXPECT_EQ(n.lo_tx_packets, 10u);
}

TEST(NetDevParser, ShortInterfaceLineFails) {
  std::string d = "  eth0: 1 2 3\n";
  NetDevStat n;
  EXPECT_FALSE(parse_net_dev(d.data(), d.size(), &n));
  EXPECT_EQ(n.interfaces, 0u);
}

// Every prefix of every fixture must parse without crashing or reading past the end (ASan
// would catch it); the fuzz targets extend this to arbitrary bytes.
TEST(AllParsers, EveryPrefixOfEveryFixtureIsSafe) {
  for (const char* f : {"cpu.stat.txt", "memory.stat.txt", "memory.events.txt", "io.stat.txt",
                        "cpu.pressure.txt", "memory.current.txt", "net_dev.txt"}) {
    std::string d = fixture(f);
    for (size_t n = 0; n <= d.size(); ++n) {
      std::string prefix = d.substr(0, n);  // exact-size heap copy
      CpuStat c;
      MemoryStat m;
      MemoryEvents e;
      IoStat io;
      Pressure p;
      NetDevStat net;
      uint64_t v;
      parse_cpu_stat(prefix.data(), n, &c);
      parse_memory_stat(prefix.data(), n, &m);
      parse_memory_events(prefix.data(), n, &e);
      parse_io_stat(prefix.data(), n, &io);
      parse_pressure(prefix.data(), n, &p);
      parse_net_dev(prefix.data(), n, &net);
      parse_single_value(prefix.data(), n, &v);
      // A cut inside a line is always reported.
      if (n > 0 && d[n - 1] != '\n' && std::string(f) == "cpu.stat.txt") {
        EXPECT_FALSE(parse_cpu_stat(prefix.data(), n, &c)) << n;
      }
    }
  }
}

}  // namespace
}  // namespace cgprof
