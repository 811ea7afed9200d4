// High-rate sampling of one cgroup v2 directory (and a network namespace through a pid).
//
// The sampling thread opens every stat file once, then on absolute CLOCK_MONOTONIC deadlines
// preads them into fixed buffers, parses them by hand and pushes one fixed-size Sample into a
// preallocated single-producer/single-consumer ring. No allocation, lock, exception or
// formatting happens in that loop. A writer thread drains the ring into `samples.bin` (format
// below and in docs/formats/samples-bin.md) and keeps running summaries (SampleSummary), so
// memory stays flat however long the run is.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cgprof/cgroup.hpp"
#include "cgprof/stat_parsers.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {

// Sample groups (`--sample cpu,memory,io,pids,psi,net`).
// The cgroup groups are the cgroup module's CounterGroup bits (it opens their files).
enum SampleGroup : unsigned {
  kSampleCpu = static_cast<unsigned>(kCountersCpu),        // cpu.stat
  kSampleMemory = static_cast<unsigned>(kCountersMemory),  // memory.current, .stat, .events
  kSampleIo = static_cast<unsigned>(kCountersIo),          // io.stat
  kSamplePids = static_cast<unsigned>(kCountersPids),      // pids.current
  kSamplePsi = static_cast<unsigned>(kCountersPsi),        // cpu/memory/io.pressure
  kSampleNet = 1u << 5,                                    // /proc/<net_pid>/net/dev
  kSampleAll = (1u << 6) - 1,
};

// "cpu,memory,io" -> bitmask; "all" selects every group. Throws Error naming the bad word and
// listing the valid ones.
unsigned parse_sample_groups(std::string_view text);
// Inverse of parse_sample_groups: "cpu,memory,io,pids,psi,net".
std::string format_sample_groups(unsigned groups);

// One sample (all fields uint64_t, so the layout has no padding; see kSampleFieldNames). A
// samples.bin record holds the subset of these fields that belongs to the groups sampled. Counters
// are cumulative as the kernel reports them; a reader computes rates from consecutive samples. A
// field of a group not sampled, or of a file that could not be read, is 0 and the matching bit of
// `valid` is clear.
struct Sample {
  uint64_t t_ns;   // CLOCK_MONOTONIC at the start of the sample's reads
  uint64_t valid;  // bitmask of SampleFile: which files were read and parsed in this sample
  // cpu.stat (microseconds / counts)
  uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
  uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
  // Nanoseconds from t_ns to just after cpu.stat was read: the usage above was taken somewhere
  // in [t_ns, t_ns + cpu_read_ns], which bounds CPU rates even when the sampler was preempted.
  uint64_t cpu_read_ns;
  // memory.current and memory.stat (bytes / counts)
  uint64_t memory_current;
  uint64_t memory_anon, memory_file, memory_kernel, memory_shmem;
  uint64_t memory_pgfault, memory_pgmajfault;
  // memory.events (counts)
  uint64_t memory_events_high, memory_events_max, memory_events_oom, memory_events_oom_kill;
  // io.stat summed over all devices (bytes / operations)
  uint64_t io_rbytes, io_wbytes, io_rios, io_wios;
  // pids.current
  uint64_t pids_current;
  // PSI "total=" values (microseconds stalled)
  uint64_t cpu_some_usec, cpu_full_usec, memory_some_usec, memory_full_usec;
  uint64_t io_some_usec, io_full_usec;
  // /proc/<pid>/net/dev summed over interfaces other than lo (bytes / packets)
  uint64_t net_rx_bytes, net_tx_bytes, net_rx_packets, net_tx_packets;
};
inline constexpr unsigned kSampleFieldCount = sizeof(Sample) / sizeof(uint64_t);
static_assert(sizeof(Sample) == kSampleFieldCount * sizeof(uint64_t));
// Field names in declaration order; they are also the CSV column names and are stored in the
// samples.bin header so that a reader can check the layout it was built for.
extern const char* const kSampleFieldNames[kSampleFieldCount];
// The SampleGroup of the field with this index (0 for t_ns and valid, in every record).
unsigned sample_field_group(unsigned field);
// Indices (into the Sample's fields, in order) of the fields stored for `groups`: the columns
// of a samples.bin record and of the CSV.
std::vector<unsigned> sample_fields_for(unsigned groups);

// Bits of Sample::valid.
enum SampleFile : uint64_t {
  kFileCpuStat = 1u << 0,
  kFileMemoryCurrent = 1u << 1,
  kFileMemoryStat = 1u << 2,
  kFileMemoryEvents = 1u << 3,
  kFileIoStat = 1u << 4,
  kFilePidsCurrent = 1u << 5,
  kFileCpuPressure = 1u << 6,
  kFileMemoryPressure = 1u << 7,
  kFileIoPressure = 1u << 8,
  kFileNetDev = 1u << 9,
};

struct SamplerConfig {
  double rate_hz = 1000;         // samples per second (0 < rate <= 100000)
  unsigned groups = kSampleAll;  // SampleGroup bitmask
  pid_t net_pid = -1;            // a process in the network namespace to count; -1: none
  std::string output_dir;        // samples.bin is written here; "" = keep only summaries
  // Ring capacity in samples; 0 = about one second of samples (at least 1024, at most 65536).
  unsigned ring_capacity = 0;
};

// Running summaries of the sample stream, kept by the writer thread (also usable on a file).
struct SampleSummary {
  uint64_t samples = 0;
  uint64_t first_t_ns = 0, last_t_ns = 0;
  double peak_cores_100ms = 0;        // max CPU use over any 100 ms sliding window, in cores
  bool peak_window_complete = false;  // false: the run was shorter than 100 ms (whole-run avg)
  double memory_avg_bytes = 0;        // time-weighted over the sampled span
  uint64_t memory_max_bytes = 0, anon_max_bytes = 0, file_max_bytes = 0;
  uint64_t pids_max = 0;
  // Network counters read through the sampler's open /proc/PID/net/dev at start() and stop().
  // The open file holds a reference on the namespace, so the end value is exact even after the
  // workload (and with it the namespace's last process) has exited. Not set by
  // summarize_samples().
  bool net_measured = false;
  NetDevStat net_start, net_end;
};

// Incremental computation of SampleSummary; preallocates everything in its constructor.
class SampleSummarizer {
 public:
  SampleSummarizer();
  void add(const Sample& s);
  SampleSummary summary() const;

 private:
  // The usage was read somewhere in [t_ns, end_ns] (Sample::cpu_read_ns).
  struct Point {
    uint64_t t_ns, end_ns, usage_usec;
  };
  static double cores_between(const Point& a, const Point& b);
  std::vector<Point> window_;  // ring of recent CPU points spanning >= 100 ms
  size_t head_ = 0, size_ = 0;
  SampleSummary sum_;
  bool have_cpu_ = false, have_mem_ = false;
  Point first_cpu_{0, 0, 0}, last_cpu_{0, 0, 0};
  uint64_t mem_first_t_ = 0, mem_last_t_ = 0, mem_last_ = 0;
  long double mem_area_ = 0;  // byte-nanoseconds (trapezoids between memory samples)
};

// Interval-jitter histogram: fixed buckets, no allocation (log-linear, ~6% resolution).
class JitterHistogram {
 public:
  void add(uint64_t ns);
  uint64_t percentile(double p) const;  // upper bound of the bucket holding the p-quantile
  uint64_t max() const { return max_; }
  uint64_t count() const { return count_; }

 private:
  static constexpr unsigned kSub = 16;  // sub-buckets per power of two
  static constexpr unsigned kBuckets = 64 * kSub;
  static unsigned bucket_of(uint64_t ns);
  static uint64_t bucket_upper(unsigned b);
  uint64_t counts_[kBuckets] = {};
  uint64_t count_ = 0, max_ = 0;
};

// What the sampler reports about itself.
struct SamplerStats {
  double rate_hz = 0;             // configured
  unsigned groups = 0;            // configured SampleGroup mask
  uint64_t samples = 0;           // samples taken (pushed or dropped)
  uint64_t missed_deadlines = 0;  // deadlines skipped because the thread was late
  uint64_t dropped = 0;           // samples lost because the ring was full
  uint64_t read_errors = 0;       // failed preads or unparsable contents (per file and sample)
  uint64_t write_errors = 0;      // failed writes of samples.bin (samples then lost)
  double elapsed_seconds = 0;     // first deadline to stop
  double achieved_rate_hz = 0;    // samples / elapsed
  uint64_t jitter_p50_ns = 0, jitter_p99_ns = 0, jitter_max_ns = 0;  // |interval - period|
  double cpu_seconds = 0;  // sampling thread CPU time (CLOCK_THREAD_CPUTIME_ID)
  double cpu_ns_per_sample = 0;
  double overhead_percent_of_core = 0;    // sampling thread CPU / elapsed * 100
  double writer_cpu_seconds = 0;          // writer thread CPU time
  uint64_t bytes_written = 0;             // samples.bin size
  std::vector<std::string> files;         // files opened, relative to the cgroup ("net/dev")
  std::vector<std::string> absent_files;  // requested but could not be opened
  std::string samples_file;               // "samples.bin" if written, else ""
  SampleSummary summary;
};

// Samples one cgroup. Construction opens the files (throws Error if the cgroup has none of
// them or output_dir is unwritable); start() launches the threads; stop() joins them and
// returns the statistics. The destructor stops a running sampler.
class Sampler {
 public:
  Sampler(int cgroup_dirfd, SamplerConfig config);
  // Any backend's run cgroup (CgroupBackend::dirs()): v1 files map onto the same fields.
  Sampler(const CgroupDirs& dirs, SamplerConfig config);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void start();
  SamplerStats stop();
  // The most recent sample (t_ns == 0 before the first one). Safe from any thread.
  Sample latest() const;
  // Samples taken so far (for progress displays and tests). Safe from any thread.
  uint64_t samples_taken() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Takes one sample right now with the same code as the sampling thread (for snapshots and
// tests). Files are opened and closed on each call.
Sample sample_once(int cgroup_dirfd, unsigned groups = kSampleAll, pid_t net_pid = -1);
Sample sample_once(const CgroupDirs& dirs, unsigned groups = kSampleAll, pid_t net_pid = -1);

// ---- samples.bin (docs/formats/samples-bin.md) ----
// Header (little-endian), then records of `record_size` bytes each: the u64 fields named in
// the header, in that order. Version 2 stores only the fields of the groups sampled
// (sample_fields_for(groups)); version 1 stored every field of struct Sample.
//   offset 0  char[8]  magic "CGPSMPL1"
//   offset 8  u32      format version (2)
//   offset 12 u32      header size in bytes (records start here)
//   offset 16 u32      record size in bytes (8 * field count)
//   offset 20 u32      field count
//   offset 24 u32      SampleGroup mask sampled
//   offset 28 u32      reserved (0)
//   offset 32 f64      configured rate in Hz
//   offset 40 u64      CLOCK_MONOTONIC ns at start (t_ns origin)
//   offset 48 u64      CLOCK_REALTIME ns at the same instant (to map t_ns to wall-clock time)
//   offset 56 char[]   field names, comma-separated, NUL-terminated, zero-padded to header size
// A file cut short (crash) ends with a partial record, which readers ignore.
inline constexpr char kSamplesMagic[8] = {'C', 'G', 'P', 'S', 'M', 'P', 'L', '1'};
inline constexpr uint32_t kSamplesVersion = 2;

struct SamplesHeader {
  uint32_t version = kSamplesVersion;
  uint32_t header_size = 0, record_size = 0, field_count = 0, groups = 0;
  double rate_hz = 0;
  uint64_t start_monotonic_ns = 0, start_realtime_ns = 0;
  std::vector<std::string> field_names;
  std::vector<unsigned> field_index;  // per stored field: its index among the Sample's fields
};

// Streams a samples.bin file. Throws Error (naming the file) if it is not a regular file (a FIFO
// or device is refused without blocking; with nofollow, a symbolic link too), on a bad header or
// a layout this build cannot read.
class SamplesReader {
 public:
  SamplesReader(int dirfd, const std::string& path, bool nofollow = false);
  const SamplesHeader& header() const { return header_; }
  // Next sample; false at the end (a trailing partial record is ignored). Fields the file does
  // not store are 0.
  bool next(Sample* out);

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  SamplesHeader header_;
  std::vector<uint64_t> record_;
};

// Whole file into memory (tests, small runs).
std::vector<Sample> read_samples(int dirfd, const std::string& path);

// Summaries of a samples file (what the writer thread computes during a run).
SampleSummary summarize_samples(int dirfd, const std::string& path);

// CSV of a samples file: a header line of column names (t_s first: seconds since the start,
// then the fields the file stores), then one line per sample. Throws Error naming the output on
// failure.
void write_samples_csv(int dirfd, const std::string& samples_path, std::FILE* out);
void write_samples_csv_file(int dirfd, const std::string& samples_path,
                            const std::string& csv_path);

}  // namespace cgprof
