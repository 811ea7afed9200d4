// The sampling thread (absolute deadlines, pread, parse, push into an SPSC ring) and the writer
// thread (drain the ring to samples.bin, keep the running summary).
#include "cgprof/sampler.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <thread>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "collector.hpp"
#include "samples_file.hpp"

namespace cgprof {
namespace {

void sleep_until(uint64_t deadline_ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(deadline_ns / 1000000000u);
  ts.tv_nsec = static_cast<long>(deadline_ns % 1000000000u);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void sleep_for_ns(uint64_t ns) {
  sleep_until(clock_ns(CLOCK_MONOTONIC) + ns);
}

size_t round_up_pow2(size_t v) {
  size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// Stop responsiveness: at low rates, sleep in slices of at most this much.
constexpr uint64_t kMaxSleepSliceNs = 50'000'000;
constexpr uint64_t kWriterPollNs = 50'000'000;  // the ring holds >= 0.65 s of samples
constexpr size_t kPackRecords = 1024;           // records packed per write()

}  // namespace

struct Sampler::Impl {
  Impl(const CgroupDirs& dirs, SamplerConfig cfg)
      : config(std::move(cfg)), collector(dirs, config.groups, config.net_pid) {}

  SamplerConfig config;
  detail::Collector collector;
  uint64_t period_ns = 0;

  // SPSC ring: the sampling thread owns head, the writer thread owns tail.
  std::unique_ptr<Sample[]> ring;
  size_t mask = 0;
  alignas(64) std::atomic<uint64_t> head{0};
  alignas(64) std::atomic<uint64_t> tail{0};

  // Latest sample for latest(): a seqlock over atomic words (no torn reads, no locks).
  alignas(64) std::atomic<uint64_t> latest_seq{0};
  std::atomic<uint64_t> latest_words[kSampleFieldCount] = {};

  std::atomic<bool> stop_sampling{false};
  std::atomic<uint64_t> taken{0};
  std::atomic<bool> sampling_done{false};
  std::thread sampling_thread, writer_thread;
  bool running = false;

  UniqueFd out_fd;
  std::vector<unsigned> stored;      // the Sample fields a samples.bin record holds
  std::unique_ptr<uint64_t[]> pack;  // kPackRecords records being written
  bool net_at_start = false;
  NetDevStat net_start;
  uint64_t start_mono_ns = 0;

  // Written by the sampling thread, read after join.
  uint64_t samples = 0, misses = 0, dropped = 0, read_errors = 0;
  uint64_t first_deadline_ns = 0, end_ns = 0, cpu_ns = 0;
  JitterHistogram jitter;
  // Written by the writer thread, read after join.
  uint64_t write_errors = 0, bytes_written = 0, writer_cpu_ns = 0;
  SampleSummarizer summarizer;

  void publish_latest(const Sample& s) {
    const uint64_t* w = reinterpret_cast<const uint64_t*>(&s);
    uint64_t seq = latest_seq.load(std::memory_order_relaxed);
    latest_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (unsigned i = 0; i < kSampleFieldCount; ++i)
      latest_words[i].store(w[i], std::memory_order_relaxed);
    latest_seq.store(seq + 2, std::memory_order_release);
  }

  void sampling_loop() {
    // The default 50 us timer slack of normal threads would be half a period at 10 kHz.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t next = first_deadline_ns;
    uint64_t prev_t = 0;
    uint64_t h = 0;
    uint64_t tail_cache = 0;
    const size_t capacity = mask + 1;
    // Always at least one sample, even if stop() comes before this thread first runs.
    while (true) {
      uint64_t now = clock_ns(CLOCK_MONOTONIC);
      if (now < next) {
        if (next - now > kMaxSleepSliceNs) {
          if (samples > 0 && stop_sampling.load(std::memory_order_relaxed)) break;
          sleep_until(now + kMaxSleepSliceNs);
          continue;
        }
        sleep_until(next);
        now = clock_ns(CLOCK_MONOTONIC);
      }
      // Late by one period or more: skip the deadlines we missed instead of bursting.
      if (now - next >= period_ns) {
        uint64_t late = (now - next) / period_ns;
        misses += late;
        next += late * period_ns;
      }
      Sample s{};
      s.t_ns = now;
      read_errors += collector.collect(&s);
      ++samples;
      taken.store(samples, std::memory_order_relaxed);
      if (prev_t != 0) {
        uint64_t interval = now - prev_t;
        jitter.add(interval > period_ns ? interval - period_ns : period_ns - interval);
      }
      prev_t = now;
      if (h - tail_cache >= capacity) tail_cache = tail.load(std::memory_order_acquire);
      if (h - tail_cache >= capacity) {
        ++dropped;
      } else {
        ring[h & mask] = s;
        ++h;
        head.store(h, std::memory_order_release);
      }
      publish_latest(s);
      next += period_ns;
      if (stop_sampling.load(std::memory_order_relaxed)) break;
    }
    end_ns = clock_ns(CLOCK_MONOTONIC);
    cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    sampling_done.store(true, std::memory_order_release);
  }

  // Packs n samples into records of the stored fields only and appends them to samples.bin.
  void write_out(const Sample* first, size_t n) {
    if (!out_fd || write_errors != 0) return;  // after a failed write, keep only summaries
    while (n > 0) {
      const size_t chunk = std::min(n, kPackRecords);
      uint64_t* dst = pack.get();
      for (size_t r = 0; r < chunk; ++r) {
        const uint64_t* src = reinterpret_cast<const uint64_t*>(&first[r]);
        for (unsigned i : stored) *dst++ = src[i];
      }
      if (!write_all(reinterpret_cast<const char*>(pack.get()),
                     static_cast<size_t>(dst - pack.get()) * sizeof(uint64_t))) {
        return;
      }
      first += chunk;
      n -= chunk;
    }
  }

  bool write_all(const char* p, size_t left) {
    while (left > 0) {
      ssize_t w = ::write(out_fd.get(), p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ++write_errors;
        return false;
      }
      p += w;
      left -= static_cast<size_t>(w);
      bytes_written += static_cast<uint64_t>(w);
    }
    return true;
  }

  void writer_loop() {
    const uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t t = 0;
    while (true) {
      bool done = sampling_done.load(std::memory_order_acquire);
      uint64_t h = head.load(std::memory_order_acquire);
      if (h == t) {
        if (done) break;
        sleep_for_ns(kWriterPollNs);
        continue;
      }
      while (t < h) {
        size_t idx = t & mask;
        size_t n = std::min<uint64_t>(h - t, mask + 1 - idx);
        for (size_t i = 0; i < n; ++i) summarizer.add(ring[idx + i]);
        write_out(&ring[idx], n);
        t += n;
        tail.store(t, std::memory_order_release);
      }
    }
    writer_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  }
};

Sampler::Sampler(int cgroup_dirfd, SamplerConfig config)
    : Sampler(CgroupDirs{2, cgroup_dirfd}, std::move(config)) {}

Sampler::Sampler(const CgroupDirs& dirs, SamplerConfig config) {
  if (!(config.rate_hz > 0 && config.rate_hz <= 100000) || !std::isfinite(config.rate_hz)) {
    throw Error("--rate " + std::to_string(config.rate_hz) +
                ": sampling rate must be above 0 and at most 100000 Hz");
  }
  if ((config.groups & kSampleAll) == 0) {
    throw Error("--sample: no sample group selected; choose from cpu, memory, io, pids, psi, net");
  }
  impl_ = std::make_unique<Impl>(dirs, std::move(config));
  Impl& im = *impl_;
  if (im.collector.open_count() == 0) {
    throw Error("sampler: none of the requested stat files exist in the cgroup (missing: " + [&] {
      std::string s;
      for (auto& f : im.collector.absent()) s += (s.empty() ? "" : ", ") + f;
      return s;
    }() + "); are the controllers enabled in the parent's cgroup.subtree_control?");
  }
  im.period_ns = static_cast<uint64_t>(std::llround(1e9 / im.config.rate_hz));
  if (im.period_ns == 0) im.period_ns = 1;
  size_t cap = im.config.ring_capacity;
  if (cap == 0) {
    cap = static_cast<size_t>(im.config.rate_hz);
    cap = std::max<size_t>(1024, std::min<size_t>(65536, cap));
  }
  cap = round_up_pow2(std::max<size_t>(2, cap));
  im.ring.reset(new Sample[cap]);
  std::memset(static_cast<void*>(im.ring.get()), 0, cap * sizeof(Sample));  // fault pages in now
  im.mask = cap - 1;

  if (!im.config.output_dir.empty()) {
    const std::string& dir = im.config.output_dir;
    make_directories(dir);
    std::string path = dir + "/samples.bin";
    im.out_fd = open_at(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    im.stored = sample_fields_for(im.config.groups);
    im.pack.reset(new uint64_t[kPackRecords * im.stored.size()]());  // zeroed: faulted in now
  }
}

Sampler::~Sampler() {
  if (impl_ && impl_->running) stop();
}

void Sampler::start() {
  Impl& im = *impl_;
  if (im.running) throw Error("sampler: start() called twice");
  im.start_mono_ns = clock_ns(CLOCK_MONOTONIC);
  uint64_t real = clock_ns(CLOCK_REALTIME);
  if (im.out_fd) {
    std::string header =
        detail::encode_samples_header(im.config.groups, im.config.rate_hz, im.start_mono_ns, real);
    if (::write(im.out_fd.get(), header.data(), header.size()) !=
        static_cast<ssize_t>(header.size())) {
      throw_errno("write", im.config.output_dir + "/samples.bin");
    }
    im.bytes_written = header.size();
  }
  im.net_at_start = im.collector.read_net(&im.net_start);  // before the thread owns collector
  im.first_deadline_ns = im.start_mono_ns;
  im.writer_thread = std::thread([&im] { im.writer_loop(); });
  im.sampling_thread = std::thread([&im] { im.sampling_loop(); });
  im.running = true;
}

SamplerStats Sampler::stop() {
  Impl& im = *impl_;
  SamplerStats st;
  st.rate_hz = im.config.rate_hz;
  st.groups = im.config.groups;
  st.files = im.collector.files();
  st.absent_files = im.collector.absent();
  if (im.running) {
    im.stop_sampling.store(true, std::memory_order_relaxed);
    im.sampling_thread.join();
    im.writer_thread.join();
    im.running = false;
  }
  st.samples = im.samples;
  st.missed_deadlines = im.misses;
  st.dropped = im.dropped;
  st.read_errors = im.read_errors;
  st.write_errors = im.write_errors;
  st.elapsed_seconds =
      im.end_ns > im.first_deadline_ns ? (im.end_ns - im.first_deadline_ns) / 1e9 : 0.0;
  st.achieved_rate_hz = st.elapsed_seconds > 0 ? im.samples / st.elapsed_seconds : 0.0;
  st.jitter_p50_ns = im.jitter.percentile(0.50);
  st.jitter_p99_ns = im.jitter.percentile(0.99);
  st.jitter_max_ns = im.jitter.max();
  st.cpu_seconds = im.cpu_ns / 1e9;
  st.cpu_ns_per_sample = im.samples ? static_cast<double>(im.cpu_ns) / im.samples : 0.0;
  st.overhead_percent_of_core =
      st.elapsed_seconds > 0 ? st.cpu_seconds / st.elapsed_seconds * 100.0 : 0.0;
  st.writer_cpu_seconds = im.writer_cpu_ns / 1e9;
  st.bytes_written = im.bytes_written;
  st.samples_file = im.out_fd ? "samples.bin" : "";
  st.summary = im.summarizer.summary();
  // After the join the collector is ours again: one last read of the namespace's counters.
  NetDevStat net_end;
  if (im.net_at_start && im.collector.read_net(&net_end)) {
    st.summary.net_measured = true;
    st.summary.net_start = im.net_start;
    st.summary.net_end = net_end;
  }
  return st;
}

Sample Sampler::latest() const {
  const Impl& im = *impl_;
  Sample s;
  uint64_t* w = reinterpret_cast<uint64_t*>(&s);
  while (true) {
    uint64_t s1 = im.latest_seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    for (unsigned i = 0; i < kSampleFieldCount; ++i)
      w[i] = im.latest_words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (im.latest_seq.load(std::memory_order_relaxed) == s1) return s;
  }
}

uint64_t Sampler::samples_taken() const {
  return impl_->taken.load(std::memory_order_relaxed);
}

Sample sample_once(int cgroup_dirfd, unsigned groups, pid_t net_pid) {
  return sample_once(CgroupDirs{2, cgroup_dirfd}, groups, net_pid);
}

Sample sample_once(const CgroupDirs& dirs, unsigned groups, pid_t net_pid) {
  auto collector = std::make_unique<detail::Collector>(dirs, groups, net_pid);
  Sample s{};
  s.t_ns = clock_ns(CLOCK_MONOTONIC);
  collector->collect(&s);
  return s;
}

}  // namespace cgprof
