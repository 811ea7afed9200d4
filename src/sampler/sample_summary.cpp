// Sample groups, field names, the jitter histogram and the running sample summary.
#include <algorithm>
#include <cstddef>

#include "cgprof/error.hpp"
#include "cgprof/sampler.hpp"

namespace cgprof {

const char* const kSampleFieldNames[kSampleFieldCount] = {
    "t_ns",
    "valid",
    "cpu_usage_usec",
    "cpu_user_usec",
    "cpu_system_usec",
    "cpu_nr_periods",
    "cpu_nr_throttled",
    "cpu_throttled_usec",
    "cpu_read_ns",
    "memory_current",
    "memory_anon",
    "memory_file",
    "memory_kernel",
    "memory_shmem",
    "memory_pgfault",
    "memory_pgmajfault",
    "memory_events_high",
    "memory_events_max",
    "memory_events_oom",
    "memory_events_oom_kill",
    "io_rbytes",
    "io_wbytes",
    "io_rios",
    "io_wios",
    "pids_current",
    "cpu_some_usec",
    "cpu_full_usec",
    "memory_some_usec",
    "memory_full_usec",
    "io_some_usec",
    "io_full_usec",
    "net_rx_bytes",
    "net_tx_bytes",
    "net_rx_packets",
    "net_tx_packets",
};

namespace {
#define CGPROF_FIELD(f) static_cast<unsigned>(offsetof(Sample, f) / sizeof(uint64_t))
// Each group's fields are consecutive in struct Sample: first and last of each.
struct GroupSpan {
  unsigned group, first, last;
};
constexpr GroupSpan kGroupSpans[] = {
    {kSampleCpu, CGPROF_FIELD(cpu_usage_usec), CGPROF_FIELD(cpu_read_ns)},
    {kSampleMemory, CGPROF_FIELD(memory_current), CGPROF_FIELD(memory_events_oom_kill)},
    {kSampleIo, CGPROF_FIELD(io_rbytes), CGPROF_FIELD(io_wios)},
    {kSamplePids, CGPROF_FIELD(pids_current), CGPROF_FIELD(pids_current)},
    {kSamplePsi, CGPROF_FIELD(cpu_some_usec), CGPROF_FIELD(io_full_usec)},
    {kSampleNet, CGPROF_FIELD(net_rx_bytes), CGPROF_FIELD(net_tx_packets)},
};
#undef CGPROF_FIELD
}  // namespace

unsigned sample_field_group(unsigned field) {
  for (const GroupSpan& g : kGroupSpans)
    if (field >= g.first && field <= g.last) return g.group;
  return 0;
}

std::vector<unsigned> sample_fields_for(unsigned groups) {
  std::vector<unsigned> out;
  for (unsigned i = 0; i < kSampleFieldCount; ++i) {
    unsigned g = sample_field_group(i);
    if (g == 0 || (g & groups)) out.push_back(i);
  }
  return out;
}

namespace {
struct GroupName {
  const char* name;
  unsigned bit;
};
constexpr GroupName kGroups[] = {{"cpu", kSampleCpu}, {"memory", kSampleMemory},
                                 {"io", kSampleIo},   {"pids", kSamplePids},
                                 {"psi", kSamplePsi}, {"net", kSampleNet}};
constexpr const char* kValidGroups = "cpu, memory, io, pids, psi, net, all";
}  // namespace

unsigned parse_sample_groups(std::string_view text) {
  unsigned groups = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view word = text.substr(pos, comma - pos);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word.empty()) {
      throw Error("--sample \"" + std::string(text) +
                  "\": empty group name; expected a comma-separated list of " + kValidGroups);
    }
    unsigned bit = 0;
    if (word == "all") bit = kSampleAll;
    for (const GroupName& g : kGroups)
      if (word == g.name) bit = g.bit;
    if (bit == 0) {
      throw Error("--sample: unknown group \"" + std::string(word) +
                  "\"; valid groups: " + kValidGroups);
    }
    groups |= bit;
    pos = comma + 1;
  }
  return groups;
}

std::string format_sample_groups(unsigned groups) {
  std::string out;
  for (const GroupName& g : kGroups) {
    if (!(groups & g.bit)) continue;
    if (!out.empty()) out += ',';
    out += g.name;
  }
  return out;
}

// ---- JitterHistogram: buckets 0..15 are exact; above, 16 sub-buckets per power of two.
unsigned JitterHistogram::bucket_of(uint64_t ns) {
  if (ns < kSub) return static_cast<unsigned>(ns);
  unsigned e = 63 - static_cast<unsigned>(__builtin_clzll(ns));  // e >= 4
  unsigned sub = static_cast<unsigned>(ns >> (e - 4)) - kSub;
  return kSub + (e - 4) * kSub + sub;
}

uint64_t JitterHistogram::bucket_upper(unsigned b) {
  if (b < kSub) return b;
  unsigned e = (b - kSub) / kSub + 4;
  uint64_t sub = (b - kSub) % kSub;
  uint64_t lower = (kSub + sub) << (e - 4);
  uint64_t width = uint64_t{1} << (e - 4);
  return lower + (width - 1);
}

void JitterHistogram::add(uint64_t ns) {
  ++counts_[bucket_of(ns)];
  ++count_;
  if (ns > max_) max_ = ns;
}

uint64_t JitterHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  double target_d = p * static_cast<double>(count_);
  uint64_t target = static_cast<uint64_t>(target_d);
  if (static_cast<double>(target) < target_d) ++target;
  if (target == 0) target = 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= target) return std::min(bucket_upper(b), max_);
  }
  return max_;
}

// ---- SampleSummarizer
namespace {
constexpr uint64_t kWindowNs = 100'000'000;
constexpr size_t kWindowPoints = 8192;  // covers 100 ms up to ~80 kHz
}  // namespace

SampleSummarizer::SampleSummarizer() : window_(kWindowPoints) {}

// CPU use between two points in cores, over the longest span the two reads may have been apart
// (from before the first read to after the second): a sampler preempted between its timestamp
// and its read makes the rate come out low rather than high. (The kernel's tick-batched
// accounting can still add time from before a window to it: docs/run-json.md.)
double SampleSummarizer::cores_between(const Point& a, const Point& b) {
  const uint64_t span = b.end_ns - a.t_ns;
  if (span == 0) return 0;
  return static_cast<double>(b.usage_usec - std::min(b.usage_usec, a.usage_usec)) * 1000.0 /
         static_cast<double>(span);
}

void SampleSummarizer::add(const Sample& s) {
  if (sum_.samples == 0) sum_.first_t_ns = s.t_ns;
  ++sum_.samples;
  sum_.last_t_ns = s.t_ns;

  if (s.valid & kFileMemoryCurrent) {
    if (have_mem_ && s.t_ns > mem_last_t_) {
      long double dt = static_cast<long double>(s.t_ns - mem_last_t_);
      mem_area_ += dt * (static_cast<long double>(mem_last_) + s.memory_current) / 2;
    }
    if (!have_mem_) mem_first_t_ = s.t_ns;
    have_mem_ = true;
    mem_last_t_ = s.t_ns;
    mem_last_ = s.memory_current;
    sum_.memory_max_bytes = std::max(sum_.memory_max_bytes, s.memory_current);
  }
  if (s.valid & kFileMemoryStat) {
    sum_.anon_max_bytes = std::max(sum_.anon_max_bytes, s.memory_anon);
    sum_.file_max_bytes = std::max(sum_.file_max_bytes, s.memory_file);
  }
  if (s.valid & kFilePidsCurrent) sum_.pids_max = std::max(sum_.pids_max, s.pids_current);

  if (s.valid & kFileCpuStat) {
    Point pt{s.t_ns, s.t_ns + s.cpu_read_ns, s.cpu_usage_usec};
    if (!have_cpu_) first_cpu_ = pt;
    have_cpu_ = true;
    last_cpu_ = pt;
    if (size_ == window_.size()) {  // full: the window shrinks below 100 ms at > 80 kHz
      head_ = (head_ + 1) % window_.size();
      --size_;
    }
    window_[(head_ + size_) % window_.size()] = pt;
    ++size_;
    // Keep the newest point that is still >= 100 ms old as the window start.
    while (size_ >= 2) {
      const Point& second = window_[(head_ + 1) % window_.size()];
      if (pt.t_ns - second.t_ns < kWindowNs) break;
      head_ = (head_ + 1) % window_.size();
      --size_;
    }
    const Point& front = window_[head_];
    if (pt.t_ns - front.t_ns >= kWindowNs) {
      sum_.peak_cores_100ms = std::max(sum_.peak_cores_100ms, cores_between(front, pt));
      sum_.peak_window_complete = true;
    }
  }
}

SampleSummary SampleSummarizer::summary() const {
  SampleSummary out = sum_;
  if (have_mem_) {
    out.memory_avg_bytes = mem_last_t_ > mem_first_t_
                               ? static_cast<double>(mem_area_ / (mem_last_t_ - mem_first_t_))
                               : static_cast<double>(mem_last_);
  }
  if (!out.peak_window_complete && have_cpu_ && last_cpu_.t_ns > first_cpu_.t_ns) {
    out.peak_cores_100ms = cores_between(first_cpu_, last_cpu_);
  }
  return out;
}

}  // namespace cgprof
