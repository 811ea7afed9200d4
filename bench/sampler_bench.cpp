// Per-sample CPU cost of the Sampler against the physical floor (a loop that only preads the
// same open files, on the same absolute-deadline timer, and a tight pread loop without a timer),
// plus achieved rate, jitter, RSS, and the cost of one docker-stats-style poll (open, read,
// close and parse every file each time, as runc/containerd's cgroup stats path does).
//
//   sampler_bench --make-cgroup /sys/fs/cgroup [--seconds S] [--rates 1000,10000] [--groups G]
//   sampler_bench --cgroup DIR ...
//   sampler_bench --make-v1-cgroup ...   (root, on a host with cgroup v1 controllers)
//
// --make-cgroup creates ROOT/cgprof-bench-PID with a light workload in it (64 MiB touched,
// 1 ms busy / 1 ms asleep), and removes it at the end. --make-v1-cgroup does the same with cgprof's
// v1 backend (a run cgroup in every v1 hierarchy, no limits): the sampler then reads the v1 files
// (cpuacct.usage, memory.stat, blkio.throttle.*, ...) and the floor preads the same files.
// Prints a table and BENCH json lines.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"

using namespace cgprof;

namespace {

uint64_t clock_ns(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

double rss_mib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atof(line + 6);
  std::fclose(f);
  return kib / 1024.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct FloorResult {
  double cpu_ns_per_iter = 0;
  double achieved_hz = 0;
};

alignas(64) char g_buf[32768];

// The physical floor: pread every open file, nothing else. rate_hz == 0: tight loop.
FloorResult pread_floor(const std::vector<int>& fds, double rate_hz, double seconds) {
  uint64_t period = rate_hz > 0 ? static_cast<uint64_t>(1e9 / rate_hz) : 0;
  uint64_t start = clock_ns(CLOCK_MONOTONIC), end = start + static_cast<uint64_t>(seconds * 1e9);
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // as the sampling thread does
  uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  uint64_t next = start, iters = 0, now = start;
  volatile ssize_t sink = 0;
  while (now < end) {
    if (period) {
      timespec ts{static_cast<time_t>(next / 1000000000u), static_cast<long>(next % 1000000000u)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      next += period;
      now = clock_ns(CLOCK_MONOTONIC);
      if (now > next + period) next += (now - next) / period * period;  // skip, as the sampler
    }
    for (int fd : fds) sink = sink + ::pread(fd, g_buf, sizeof g_buf, 0);
    ++iters;
    if (!period || (iters & 63) == 0) now = clock_ns(CLOCK_MONOTONIC);
  }
  uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  FloorResult r;
  r.cpu_ns_per_iter = static_cast<double>(cpu) / iters;
  r.achieved_hz = iters / ((clock_ns(CLOCK_MONOTONIC) - start) / 1e9);
  return r;
}

// The same floor on a periodic timerfd instead of clock_nanosleep (one blocking read() per
// period; it returns how many periods passed, so lateness needs no clock reading).
FloorResult timerfd_floor(const std::vector<int>& fds, double rate_hz, double seconds) {
  UniqueFd tfd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  if (!tfd) throw_errno("timerfd_create");
  const uint64_t period = static_cast<uint64_t>(1e9 / rate_hz);
  uint64_t start = clock_ns(CLOCK_MONOTONIC), end = start + static_cast<uint64_t>(seconds * 1e9);
  itimerspec its{};
  its.it_interval.tv_sec = static_cast<time_t>(period / 1000000000u);
  its.it_interval.tv_nsec = static_cast<long>(period % 1000000000u);
  uint64_t first = start + period;
  its.it_value.tv_sec = static_cast<time_t>(first / 1000000000u);
  its.it_value.tv_nsec = static_cast<long>(first % 1000000000u);
  if (::timerfd_settime(tfd.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
    throw_errno("timerfd_settime");
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  uint64_t iters = 0, periods = 0;
  volatile ssize_t sink = 0;
  while (periods * period < end - start) {
    uint64_t expirations = 0;
    if (::read(tfd.get(), &expirations, sizeof expirations) != sizeof expirations) break;
    periods += expirations;
    for (int fd : fds) sink = sink + ::pread(fd, g_buf, sizeof g_buf, 0);
    ++iters;
  }
  uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  FloorResult r;
  r.cpu_ns_per_iter = static_cast<double>(cpu) / iters;
  r.achieved_hz = iters / ((clock_ns(CLOCK_MONOTONIC) - start) / 1e9);
  return r;
}

// One docker-stats-style poll: open, read to EOF into a growing string, close, parse; for every
// file (read_counters does exactly this).
double docker_style_poll_ns(const CgroupDirs& dirs, int polls) {
  uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  uint64_t sink = 0;
  for (int i = 0; i < polls; ++i) sink += read_counters(dirs).cpu.usage_usec;
  uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  if (sink == 1) std::puts("");
  return static_cast<double>(cpu) / polls;
}

// The light, steady workload of a bench cgroup: 64 MiB touched, 1 ms busy / 1 ms asleep.
[[noreturn]] void light_workload() {
  std::vector<char> mem(64u << 20, 1);
  volatile uint64_t x = 0;
  for (;;) {
    uint64_t t = clock_ns(CLOCK_MONOTONIC);
    while (clock_ns(CLOCK_MONOTONIC) - t < 1000000) x = x + mem[x % mem.size()];
    ::usleep(1000);
  }
}

// A cgroup with a light, steady workload in it, removed at the end.
class BenchCgroup {
 public:
  explicit BenchCgroup(const std::string& root) {
    path_ = root + "/cgprof-bench-" + std::to_string(::getpid());
    if (::mkdir(path_.c_str(), 0755) != 0) throw_errno("mkdir", path_);
    // Controllers, where this is a v2 root with them (harmless failure elsewhere).
    int sc = ::open((root + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC);
    if (sc >= 0) {
      for (const char* c : {"+cpu", "+memory", "+io", "+pids"}) (void)!::write(sc, c, strlen(c));
      ::close(sc);
    }
    child_ = ::fork();
    if (child_ == 0) {
      std::string pid = std::to_string(::getpid());
      int fd = ::open((path_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, pid.data(), pid.size()) < 0) ::_exit(3);
      ::close(fd);
      light_workload();
    }
    ::usleep(200000);  // let it join and allocate
  }
  ~BenchCgroup() {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
    for (int i = 0; i < 50 && ::rmdir(path_.c_str()) != 0; ++i) ::usleep(20000);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  pid_t child_ = -1;
};

// The same light workload in a cgprof v1 run cgroup (every hierarchy), removed at the end.
class BenchV1Cgroup {
 public:
  BenchV1Cgroup() {
    RunCgroupOptions opts;
    opts.manager = CgroupManager::kV1;
    cg_ = V1RunCgroup::create(opts);
    int go[2];
    if (::pipe(go) != 0) throw_errno("pipe");
    child_ = ::fork();
    if (child_ == 0) {
      char c;
      ::close(go[1]);
      if (::read(go[0], &c, 1) != 1) ::_exit(3);
      light_workload();
    }
    ::close(go[0]);
    for (int fd : cg_->join_fds()) write_file_at(fd, "cgroup.procs", std::to_string(child_));
    (void)!::write(go[1], "G", 1);
    ::close(go[1]);
    ::usleep(200000);  // let it allocate
  }
  ~BenchV1Cgroup() {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
  }
  const CgroupBackend& cgroup() const { return *cg_; }

 private:
  std::unique_ptr<V1RunCgroup> cg_;
  pid_t child_ = -1;
};

// The directory a v1 file of the sampler lives in ("cpuacct.usage" -> the cpuacct hierarchy).
int v1_dir_of(const CgroupDirs& d, const std::string& file) {
  std::string c = file.substr(0, file.find('.'));
  if (c == "cpuacct") return d.cpuacct;
  if (c == "cpu") return d.cpu;
  if (c == "memory") return d.memory;
  if (c == "blkio") return d.blkio;
  if (c == "pids") return d.pids;
  throw Error("sampler_bench: no hierarchy for " + file);
}

void bench_line(const char* metric, double value, const char* unit, const char* peer,
                double peer_value, double ratio, const char* goal) {
  std::printf(
      "BENCH {\"metric\": \"%s\", \"value\": %.4g, \"unit\": \"%s\", \"peer\": \"%s\", "
      "\"peer_value\": %.4g, \"ratio\": %.4g, \"goal\": \"%s\"}\n",
      metric, value, unit, peer, peer_value, ratio, goal);
}

}  // namespace

int main(int argc, char** argv) {
  std::string cgroup, make_root, label = "", groups_text = "all";
  double seconds = 3;
  std::vector<double> rates = {1000, 10000};
  int rounds = 3;
  bool make_v1 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sampler_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (a == "--cgroup")
      cgroup = val();
    else if (a == "--make-cgroup")
      make_root = val();
    else if (a == "--make-v1-cgroup")
      make_v1 = true;
    else if (a == "--seconds")
      seconds = std::atof(val().c_str());
    else if (a == "--rounds")
      rounds = std::atoi(val().c_str());
    else if (a == "--groups")
      groups_text = val();
    else if (a == "--label")
      label = val();
    else if (a == "--rates") {
      rates.clear();
      std::string r = val();
      for (size_t p = 0; p < r.size();) {
        size_t c = r.find(',', p);
        if (c == std::string::npos) c = r.size();
        rates.push_back(std::atof(r.substr(p, c - p).c_str()));
        p = c + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: sampler_bench (--cgroup DIR | --make-cgroup ROOT | --make-v1-cgroup) "
                   "[--seconds S] "
                   "[--rounds N] [--rates 1000,10000] [--groups all] [--label TEXT]\n");
      return 2;
    }
  }
  try {
    unsigned groups = parse_sample_groups(groups_text);
    std::unique_ptr<BenchCgroup> made;
    if (!make_root.empty()) {
      made = std::make_unique<BenchCgroup>(make_root);
      cgroup = made->path();
    }
    std::unique_ptr<BenchV1Cgroup> made_v1;
    UniqueFd dir;
    CgroupDirs dirs;
    if (make_v1) {
      made_v1 = std::make_unique<BenchV1Cgroup>();
      dirs = made_v1->cgroup().dirs();
      cgroup = made_v1->cgroup().limits_written().cgroup + " (cgroup v1, every hierarchy)";
    } else {
      if (cgroup.empty())
        throw Error("sampler_bench: give --cgroup DIR, --make-cgroup ROOT or --make-v1-cgroup");
      dir = open_at(AT_FDCWD, cgroup, O_RDONLY | O_DIRECTORY);
      dirs = CgroupDirs{2, dir.get()};
    }

    // The files the Sampler opens, opened the same way for the floor loops.
    std::vector<std::string> files;
    {
      Sampler probe(dirs, SamplerConfig{1000, groups, -1, "", 0});
      files = probe.stop().files;
    }
    std::vector<UniqueFd> owned;
    std::vector<int> fds;
    for (const auto& f : files) {
      int at = dirs.version == 1 ? v1_dir_of(dirs, f) : dir.get();
      owned.push_back(open_at(at, f, O_RDONLY));
      fds.push_back(owned.back().get());
    }
    std::string file_list;
    for (const auto& f : files) file_list += (file_list.empty() ? "" : " ") + f;
    std::printf("cgroup %s%s\nfiles (%zu): %s\n", cgroup.c_str(),
                label.empty() ? "" : (" [" + label + "]").c_str(), files.size(), file_list.c_str());

    std::string tag = label.empty() ? "" : ", " + label;
    FloorResult tight = pread_floor(fds, 0, 1.0);
    std::printf("tight pread loop (no timer): %.2f us per pass over %zu files\n",
                tight.cpu_ns_per_iter / 1e3, fds.size());
    // Where the floor goes: each file alone (the kernel's cost of generating it).
    std::printf("per file (tight pread loop):");
    for (size_t i = 0; i < fds.size(); ++i) {
      FloorResult one = pread_floor({fds[i]}, 0, 0.3);
      std::printf(" %s %.2f us%s", files[i].c_str(), one.cpu_ns_per_iter / 1e3,
                  i + 1 < fds.size() ? "," : "\n");
    }
    double poll_ns = docker_style_poll_ns(dirs, 2000);
    std::printf("docker-stats-style poll (open+read+close+parse every file): %.2f us CPU\n",
                poll_ns / 1e3);

    char tmpl[] = "/tmp/cgprof-sampler-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) throw_errno("mkdtemp");
    std::string out = tmpl;
    double sampler_10k_ns = 0;
    for (double rate : rates) {
      std::vector<double> s_ns, f_ns, s_hz, f_hz, s_p99, s_over, f_over, rss_growth, w_over, t_ns;
      std::vector<double> tfd_ns, tfd_floor_ns;
      double rss_end = 0;
      uint64_t dropped = 0, missed = 0, samples = 0;
      for (int round = 0; round < rounds; ++round) {
        // Timer alone, floor and sampler alternate, so host-load drift affects all alike.
        t_ns.push_back(pread_floor({}, rate, seconds / 2).cpu_ns_per_iter);
        tfd_ns.push_back(timerfd_floor({}, rate, seconds / 2).cpu_ns_per_iter);
        tfd_floor_ns.push_back(timerfd_floor(fds, rate, seconds / 2).cpu_ns_per_iter);
        FloorResult f = pread_floor(fds, rate, seconds);
        f_ns.push_back(f.cpu_ns_per_iter);
        f_hz.push_back(f.achieved_hz);
        f_over.push_back(f.cpu_ns_per_iter * f.achieved_hz / 1e9 * 100);
        SamplerStats st;
        {
          Sampler s(dirs, SamplerConfig{rate, groups, -1, out, 0});
          s.start();
          ::usleep(100000);  // threads started, ring and buffers touched
          double rss0 = rss_mib();
          ::usleep(static_cast<useconds_t>(seconds * 1e6));
          rss_end = rss_mib();
          st = s.stop();
          rss_growth.push_back((rss_end - rss0) / seconds);
        }
        s_ns.push_back(st.cpu_ns_per_sample);
        s_hz.push_back(st.achieved_rate_hz);
        s_p99.push_back(st.jitter_p99_ns / 1e3);
        s_over.push_back(st.overhead_percent_of_core);
        w_over.push_back(st.writer_cpu_seconds / st.elapsed_seconds * 100);
        dropped += st.dropped;
        missed += st.missed_deadlines;
        samples += st.samples;
      }
      double sn = median(s_ns), fn = median(f_ns);
      if (rate == 10000) sampler_10k_ns = sn;
      std::printf(
          "\n@%.0f Hz (%d rounds of %.1f s, medians)\n"
          "  sampler:   %8.2f us CPU/sample  %8.1f Hz achieved  %6.3f%% of a core  p99 jitter "
          "%.1f us\n"
          "  pread floor (same timer): %8.2f us CPU/pass  %8.1f Hz  %6.3f%% of a core\n"
          "  timer alone (sleep+wake, no reads): %.2f us CPU/pass (timerfd: %.2f us; pread floor "
          "on timerfd %.2f us)\n"
          "  writer thread %.3f%% of a core; ratio sampler/floor: %.2f   samples %llu, missed "
          "%llu, dropped %llu\n"
          "  RSS during the run %.1f MiB, growth %.3f MiB/s (ring and buffers are preallocated)\n",
          rate, rounds, seconds, sn / 1e3, median(s_hz), median(s_over), median(s_p99), fn / 1e3,
          median(f_hz), median(f_over), median(t_ns) / 1e3, median(tfd_ns) / 1e3,
          median(tfd_floor_ns) / 1e3, median(w_over), sn / fn, (unsigned long long)samples,
          (unsigned long long)missed, (unsigned long long)dropped, rss_end, median(rss_growth));
      char metric[160];
      std::snprintf(metric, sizeof metric, "CPU per sample @%.0f Hz%s", rate, tag.c_str());
      bench_line(metric, sn / 1e3, "us", "pread loop, same files and timer", fn / 1e3, sn / fn,
                 "<= 1.5");
      std::snprintf(metric, sizeof metric, "sampler overhead @%.0f Hz%s", rate, tag.c_str());
      bench_line(metric, median(s_over), "% of a core", "pread loop", median(f_over),
                 median(s_over) / std::max(1e-9, median(f_over)),
                 rate >= 10000 ? "value < 5" : "value < 0.5");
      std::snprintf(metric, sizeof metric, "sleep+wake share of a sample @%.0f Hz%s", rate,
                    tag.c_str());
      bench_line(metric, median(t_ns) / 1e3, "us", "sampler CPU per sample", sn / 1e3,
                 median(t_ns) / sn, "info: timer cost, not reads");
      std::snprintf(metric, sizeof metric, "timer alone, clock_nanosleep vs timerfd @%.0f Hz%s",
                    rate, tag.c_str());
      bench_line(metric, median(t_ns) / 1e3, "us", "periodic timerfd read", median(tfd_ns) / 1e3,
                 median(t_ns) / std::max(1.0, median(tfd_ns)), "info: < 1 keeps clock_nanosleep");
      std::snprintf(metric, sizeof metric, "achieved rate @%.0f Hz%s", rate, tag.c_str());
      bench_line(metric, median(s_hz), "Hz", "pread loop", median(f_hz),
                 median(s_hz) / median(f_hz), "ratio ~1");
      std::snprintf(metric, sizeof metric, "p99 interval jitter @%.0f Hz%s", rate, tag.c_str());
      bench_line(metric, median(s_p99), "us", "period", 1e6 / rate, median(s_p99) * rate / 1e6,
                 "ratio << 1");
      std::snprintf(metric, sizeof metric, "RSS of the process @%.0f Hz%s", rate, tag.c_str());
      // A 10-minute run: the RSS now plus 600 s of the growth rate measured during this one.
      double ten_min = rss_end + std::max(0.0, median(rss_growth)) * 600;
      bench_line(metric, rss_end, "MiB", "extrapolated to a 10-minute run", ten_min,
                 ten_min / std::max(1e-9, rss_end), "peer_value < 50");
    }
    if (sampler_10k_ns > 0) {
      char metric[160];
      std::snprintf(metric, sizeof metric, "docker-stats-style poll vs one sample%s", tag.c_str());
      bench_line(metric, sampler_10k_ns / 1e3, "us", "open+read+close+parse every file",
                 poll_ns / 1e3, sampler_10k_ns / poll_ns, "< 1");
    }
    std::filesystem::remove_all(out);
  } catch (const Error& e) {
    std::fprintf(stderr, "sampler_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
