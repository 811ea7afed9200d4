// The Sampler on a fixture directory (regular files stand in for cgroupfs: pread works the
// same), the samples.bin round trip, and the CSV conversion. Real cgroup v2: tests/vm/sampler.
#include "cgprof/sampler.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;

// Waits for the sampler to have taken `n` more samples (no time limit: a slow host only makes
// the test slower, never wrong; meson's timeout catches a sampler that stopped).
void wait_samples(const Sampler& s, uint64_t n) {
  uint64_t target = s.samples_taken() + n;
  while (s.samples_taken() < target) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

class FixtureCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-sampler-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    cg_ = root_ / "cg";
    out_ = root_ / "out";
    fs::create_directory(cg_);
    fs::path data = fs::path(CGPROF_SOURCE_DIR) / "tests/data/cgroupfs";
    for (const char* f : {"cpu.stat", "memory.current", "memory.stat", "memory.events", "io.stat",
                          "pids.current", "cpu.pressure", "memory.pressure", "io.pressure"}) {
      fs::copy_file(data / (std::string(f) + ".txt"), cg_ / f);
    }
    dirfd_ = open_at(AT_FDCWD, cg_.string(), O_RDONLY | O_DIRECTORY);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(cg_ / name) << text;
  }

  fs::path root_, cg_, out_;
  UniqueFd dirfd_;
};

TEST_F(FixtureCgroup, SampleOnceReadsEveryGroup) {
  Sample s = sample_once(dirfd_.get());
  EXPECT_EQ(s.valid & 0x1ff, 0x1ffu) << std::hex << s.valid;
  EXPECT_EQ(s.cpu_usage_usec, 2715681u);
  EXPECT_EQ(s.memory_current, 3350528u);
  EXPECT_EQ(s.memory_shmem, 3002368u);
  EXPECT_EQ(s.io_rbytes, 4194304u);
  EXPECT_EQ(s.cpu_some_usec, 10090317u);
  EXPECT_EQ(s.io_full_usec, 4370u);
  EXPECT_GT(s.t_ns, 0u);
}

TEST_F(FixtureCgroup, GroupsLimitTheFilesRead) {
  Sample s = sample_once(dirfd_.get(), kSampleCpu | kSamplePids);
  EXPECT_EQ(s.valid, uint64_t{kFileCpuStat | kFilePidsCurrent});
  EXPECT_EQ(s.memory_current, 0u);
}

TEST_F(FixtureCgroup, UnparsableFileIsInvalidNotFatal) {
  write("memory.current", "garbage\n");
  Sample s = sample_once(dirfd_.get(), kSampleMemory);
  EXPECT_FALSE(s.valid & kFileMemoryCurrent);
  EXPECT_TRUE(s.valid & kFileMemoryStat);
}

TEST_F(FixtureCgroup, NoFilesAtAllIsAClearError) {
  fs::path empty = root_ / "empty";
  fs::create_directory(empty);
  UniqueFd fd = open_at(AT_FDCWD, empty.string(), O_RDONLY | O_DIRECTORY);
  try {
    Sampler s(fd.get(), SamplerConfig{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cpu.stat"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("subtree_control"), std::string::npos) << e.message();
  }
}

TEST_F(FixtureCgroup, BadRateIsRejected) {
  SamplerConfig c;
  c.rate_hz = 0;
  EXPECT_THROW(Sampler(dirfd_.get(), c), Error);
  c.rate_hz = 1e6;
  EXPECT_THROW(Sampler(dirfd_.get(), c), Error);
}

TEST_F(FixtureCgroup, RecordsSamplesAndTheFileReadsBackIdentically) {
  SamplerConfig c;
  c.rate_hz = 2000;
  c.output_dir = out_.string();
  Sampler sampler(dirfd_.get(), c);
  sampler.start();
  wait_samples(sampler, 100);
  // Change a counter mid-run: later samples must see it.
  write("cpu.stat.new", "usage_usec 9999999\nuser_usec 1\nsystem_usec 2\n");
  fs::rename(cg_ / "cpu.stat.new", cg_ / "cpu.stat");  // new inode: the open fd keeps the old
  {
    std::ofstream f(cg_ / "pids.current", std::ios::in | std::ios::out);
    f << "7\n";  // same inode, rewritten in place
  }
  wait_samples(sampler, 100);
  Sample live = sampler.latest();
  SamplerStats st = sampler.stop();

  EXPECT_GT(live.t_ns, 0u);
  EXPECT_EQ(live.pids_current, 7u);
  EXPECT_EQ(live.cpu_usage_usec, 2715681u) << "the file is opened once, not per sample";
  ASSERT_GT(st.samples, 10u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.read_errors, 0u);
  EXPECT_EQ(st.write_errors, 0u);
  EXPECT_GT(st.cpu_seconds, 0.0);
  EXPECT_EQ(st.samples_file, "samples.bin");
  EXPECT_EQ(st.files.size(), 9u);

  std::vector<Sample> back = read_samples(AT_FDCWD, (out_ / "samples.bin").string());
  ASSERT_EQ(back.size(), st.samples);
  EXPECT_EQ(fs::file_size(out_ / "samples.bin"), st.bytes_written);
  bool seen_new = false;
  for (size_t i = 0; i < back.size(); ++i) {
    if (i > 0) {
      ASSERT_GT(back[i].t_ns, back[i - 1].t_ns);
    }
    if (seen_new) {
      ASSERT_EQ(back[i].pids_current, 7u) << i;
    }
    seen_new = seen_new || back[i].pids_current == 7;
  }
  // Every deadline between the first and the last sample is either a sample or a counted
  // miss: an accounting check against the samples' own clock readings, not a speed threshold.
  // (The last sample may be up to one period late without counting as a miss.)
  // Deadlines are start + k/rate, start being the header's monotonic origin.
  uint64_t origin =
      SamplesReader(AT_FDCWD, (out_ / "samples.bin").string()).header().start_monotonic_ns;
  double span_periods = (back.back().t_ns - origin) * c.rate_hz / 1e9;
  double deadlines = static_cast<double>(st.samples + st.missed_deadlines);
  EXPECT_LE(deadlines - 1, span_periods + 0.01);
  EXPECT_GT(deadlines, span_periods);
  EXPECT_EQ(back.front().pids_current, 0u);
  EXPECT_EQ(back.back().pids_current, 7u);
  EXPECT_EQ(back.back().memory_current, 3350528u);
  EXPECT_EQ(st.summary.samples, st.samples);
  EXPECT_EQ(st.summary.memory_max_bytes, 3350528u);
  EXPECT_EQ(st.summary.pids_max, 7u);
  SampleSummary again = summarize_samples(AT_FDCWD, (out_ / "samples.bin").string());
  EXPECT_EQ(again.samples, st.summary.samples);
  EXPECT_DOUBLE_EQ(again.memory_avg_bytes, st.summary.memory_avg_bytes);
}

TEST_F(FixtureCgroup, StopRightAfterStartStillTakesOneSample) {
  SamplerConfig c;
  c.rate_hz = 1;  // the next deadline is a second away
  c.output_dir = out_.string();
  Sampler sampler(dirfd_.get(), c);
  sampler.start();
  SamplerStats st = sampler.stop();
  EXPECT_EQ(st.samples, 1u);
  EXPECT_EQ(read_samples(AT_FDCWD, (out_ / "samples.bin").string()).size(), 1u);
}

TEST_F(FixtureCgroup, OutputDirectoryIsCreatedWithParents) {
  SamplerConfig c;
  c.output_dir = (root_ / "results" / "run-1").string();
  {
    Sampler sampler(dirfd_.get(), c);
    sampler.start();
  }
  EXPECT_TRUE(fs::is_regular_file(root_ / "results" / "run-1" / "samples.bin"));
  write("afile", "x");
  c.output_dir = (cg_ / "afile").string();
  try {
    Sampler sampler(dirfd_.get(), c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("afile"), std::string::npos) << e.message();
  }
}

double rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

// Memory stays flat however many samples are taken: 10x more samples, no more memory (a
// 10-minute run at 10 kHz is 6M samples; the ring and buffers are allocated up front).
TEST_F(FixtureCgroup, MemoryDoesNotGrowWithTheNumberOfSamples) {
  SamplerConfig c;
  c.rate_hz = 20000;
  c.output_dir = out_.string();
  Sampler sampler(dirfd_.get(), c);
  sampler.start();
  wait_samples(sampler, 2000);
  double after_2k = rss_kib();
  wait_samples(sampler, 18000);
  double after_20k = rss_kib();
  SamplerStats st = sampler.stop();
  EXPECT_GE(st.samples, 20000u);
  EXPECT_LT(after_20k - after_2k, 512.0) << "KiB grown between 2k and 20k samples";
  EXPECT_LT(after_20k, 50.0 * 1024) << "KiB total";
}

TEST_F(FixtureCgroup, NetCountersAtStartAndStopThroughTheOpenFile) {
  SamplerConfig c;
  c.groups = kSampleNet;
  c.net_pid = ::getpid();
  Sampler sampler(dirfd_.get(), c);
  sampler.start();
  wait_samples(sampler, 3);
  SamplerStats st = sampler.stop();
  ASSERT_EQ(st.files.size(), 1u);
  EXPECT_TRUE(st.summary.net_measured);
  EXPECT_GE(st.summary.net_end.interfaces, 1u);  // at least lo
  EXPECT_GE(st.summary.net_end.lo_rx_bytes, st.summary.net_start.lo_rx_bytes);
}

TEST_F(FixtureCgroup, FullRingDropsAndCounts) {
  // A ring of 2 and a writer that polls every 10 ms: at 20 kHz some samples must drop.
  SamplerConfig c;
  c.rate_hz = 20000;
  c.ring_capacity = 2;
  c.groups = kSamplePids;
  Sampler sampler(dirfd_.get(), c);
  sampler.start();
  wait_samples(sampler, 2000);
  SamplerStats st = sampler.stop();
  EXPECT_GT(st.dropped, 0u);
  EXPECT_EQ(st.summary.samples + st.dropped, st.samples);
}

TEST_F(FixtureCgroup, CsvHasHeaderAndOneLinePerSample) {
  SamplerConfig c;
  c.rate_hz = 500;
  c.output_dir = out_.string();
  {
    Sampler sampler(dirfd_.get(), c);
    sampler.start();
    wait_samples(sampler, 20);
  }  // destructor stops
  auto samples = read_samples(AT_FDCWD, (out_ / "samples.bin").string());
  ASSERT_FALSE(samples.empty());
  write_samples_csv_file(AT_FDCWD, (out_ / "samples.bin").string(),
                         (out_ / "samples.csv").string());
  std::ifstream in(out_ / "samples.csv");
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("t_s,t_ns,valid,cpu_usage_usec,", 0), 0u) << header;
  size_t lines = 0;
  std::string first;
  while (std::getline(in, line)) {
    if (lines == 0) first = line;
    ++lines;
  }
  EXPECT_EQ(lines, samples.size());
  std::stringstream ss(first);
  std::string t_s, t_ns, valid, usage;
  std::getline(ss, t_s, ',');
  std::getline(ss, t_ns, ',');
  std::getline(ss, valid, ',');
  std::getline(ss, usage, ',');
  EXPECT_EQ(t_ns, std::to_string(samples[0].t_ns));
  EXPECT_EQ(usage, "2715681");
  EXPECT_LT(std::stod(t_s), 1.0);
}

TEST_F(FixtureCgroup, SelectedGroupsShrinkTheRecordAndTheCsv) {
  SamplerConfig c;
  c.rate_hz = 1000;
  c.groups = kSampleCpu | kSamplePids;
  c.output_dir = out_.string();
  SamplerStats st;
  {
    Sampler sampler(dirfd_.get(), c);
    sampler.start();
    wait_samples(sampler, 10);
    st = sampler.stop();
  }
  const std::string bin = (out_ / "samples.bin").string();
  SamplesReader reader(AT_FDCWD, bin);
  const SamplesHeader& h = reader.header();
  const std::vector<std::string> names = {"t_ns",
                                          "valid",
                                          "cpu_usage_usec",
                                          "cpu_user_usec",
                                          "cpu_system_usec",
                                          "cpu_nr_periods",
                                          "cpu_nr_throttled",
                                          "cpu_throttled_usec",
                                          "cpu_read_ns",
                                          "pids_current"};
  EXPECT_EQ(h.field_names, names);
  EXPECT_EQ(h.record_size, 8 * names.size());
  EXPECT_EQ(h.groups, c.groups);
  EXPECT_EQ(fs::file_size(bin), h.header_size + st.samples * h.record_size);
  std::vector<Sample> back = read_samples(AT_FDCWD, bin);
  ASSERT_EQ(back.size(), st.samples);
  EXPECT_EQ(back.back().cpu_usage_usec, 2715681u);
  EXPECT_EQ(back.back().valid, uint64_t{kFileCpuStat | kFilePidsCurrent});
  EXPECT_EQ(back.back().memory_current, 0u) << "not stored, read back as 0";
  EXPECT_GT(back.back().cpu_read_ns, 0u) << "the cpu.stat read ends after the sample's timestamp";

  write_samples_csv_file(AT_FDCWD, bin, (out_ / "samples.csv").string());
  std::ifstream in(out_ / "samples.csv");
  std::string header;
  std::getline(in, header);
  std::string expected = "t_s";
  for (const auto& n : names) expected += "," + n;
  EXPECT_EQ(header, expected);
}

TEST_F(FixtureCgroup, ReadsVersionOneFilesWithEveryField) {
  // Version 1 (cgprof before --sample shrank records): every field, in struct order.
  std::string names;
  for (unsigned i = 0; i < kSampleFieldCount; ++i)
    names += std::string(i ? "," : "") + kSampleFieldNames[i];
  std::string head(56 + (names.size() + 1 + 7) / 8 * 8, '\0');
  auto put32 = [&](size_t off, uint32_t v) { std::memcpy(&head[off], &v, 4); };
  std::memcpy(&head[0], kSamplesMagic, 8);
  put32(8, 1);
  put32(12, static_cast<uint32_t>(head.size()));
  put32(16, sizeof(Sample));
  put32(20, kSampleFieldCount);
  put32(24, kSampleAll);
  std::memcpy(&head[56], names.data(), names.size());
  Sample s{};
  s.t_ns = 123;
  s.memory_current = 456;
  s.net_tx_packets = 789;
  std::ofstream(out_.string() + ".v1", std::ios::binary)
      << head << std::string(reinterpret_cast<const char*>(&s), sizeof s);
  std::vector<Sample> back = read_samples(AT_FDCWD, out_.string() + ".v1");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(std::memcmp(&back[0], &s, sizeof s), 0);
}

TEST_F(FixtureCgroup, ReaderNamesAnUnknownField) {
  SamplerConfig c;
  c.groups = kSamplePids;
  c.output_dir = out_.string();
  {
    Sampler sampler(dirfd_.get(), c);
    sampler.start();
  }
  fs::path bin = out_ / "samples.bin";
  std::fstream f(bin, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(56);
  f.write("t_XX", 4);  // "t_ns" renamed
  f.close();
  try {
    SamplesReader r(AT_FDCWD, bin.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("\"t_XX\""), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("samples.bin"), std::string::npos) << e.message();
  }
}

TEST_F(FixtureCgroup, ReaderRejectsForeignAndTruncatedFiles) {
  write("notsamples.bin", "hello world, this is not a samples file at all........................");
  try {
    SamplesReader r(AT_FDCWD, (cg_ / "notsamples.bin").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("notsamples.bin"), std::string::npos);
    EXPECT_NE(e.message().find("magic"), std::string::npos);
  }
  SamplerConfig c;
  c.rate_hz = 1000;
  c.output_dir = out_.string();
  {
    Sampler sampler(dirfd_.get(), c);
    sampler.start();
    wait_samples(sampler, 5);
    sampler.stop();
  }
  fs::path bin = out_ / "samples.bin";
  size_t n = read_samples(AT_FDCWD, bin.string()).size();
  ASSERT_GE(n, 2u);
  fs::resize_file(bin, fs::file_size(bin) - sizeof(Sample) / 2);  // a killed run's last write
  EXPECT_EQ(read_samples(AT_FDCWD, bin.string()).size(), n - 1);
}

}  // namespace
}  // namespace cgprof
