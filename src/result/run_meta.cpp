// Host information, the reference score and new run metadata (the counter snapshots that the
// totals consume are the cgroup module's: src/cgroup/counters.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sys.hpp"
#include "cgprof_config.h"

namespace cgprof {
HostInfo read_host_info() {
  HostInfo h;
  utsname u;
  if (::uname(&u) == 0) {
    h.kernel = u.release;
    h.hostname = u.nodename;
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  h.cores = n > 0 ? static_cast<unsigned>(n) : 0;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t b = line.find_first_not_of(" \t", colon + 1);
        h.cpu_model = b == std::string::npos ? "" : line.substr(b);
      }
      break;
    }
  }
  return h;
}

ReferenceScore measure_reference_score() {
  // Chunks of a fixed loop: xorshift64 (integer shifts and xors) feeding a dependent
  // multiply-add chain, so neither the compiler nor the CPU can skip or overlap much of it. The
  // rate is per CPU second of this thread, so time spent preempted on a busy host does not count;
  // the median chunk ignores the first, slower chunks while the core clocks up.
  constexpr uint64_t kChunk = 1 << 16;
  constexpr int64_t kCpuBudgetNs = 50'000'000, kWallBudgetNs = 250'000'000;
  auto thread_cpu_ns = [] { return static_cast<int64_t>(clock_ns(CLOCK_THREAD_CPUTIME_ID)); };
  uint64_t a = 0x9E3779B97F4A7C15ull;
  double f = 1.0;
  std::vector<double> rates;
  const int64_t cpu0 = thread_cpu_ns(), wall0 = static_cast<int64_t>(monotonic_ns());
  int64_t cpu = cpu0;
  while (cpu - cpu0 < kCpuBudgetNs && static_cast<int64_t>(monotonic_ns()) - wall0 < kWallBudgetNs) {
    for (uint64_t i = 0; i < kChunk; ++i) {
      a ^= a << 13;
      a ^= a >> 7;
      a ^= a << 17;
      f = f * 0.9999999 + static_cast<double>(a & 0xff) * 1e-7;
    }
    const int64_t now = thread_cpu_ns();
    if (now > cpu) rates.push_back(static_cast<double>(kChunk) / 1e6 / (static_cast<double>(now - cpu) / 1e9));
    cpu = now;
  }
  volatile double sink = f + static_cast<double>(a & 1);  // keeps the loop's result alive
  (void)sink;
  ReferenceScore s;
  s.name = "cgprof-ref-1";
  s.cpu_seconds = static_cast<double>(cpu - cpu0) / 1e9;
  if (!rates.empty()) {
    std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
    s.rate = rates[rates.size() / 2];
  }
  return s;
}

std::string new_run_id() {
  time_t now = ::time(nullptr);
  tm utc;
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string(stamp) + "-" + suffix;
}

std::string utc_timestamp_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

RunResult new_run_result() {
  RunResult r;
  r.cgprof_version = CGPROF_VERSION;
  r.run_id = new_run_id();
  r.started_at = utc_timestamp_now();
  r.host = read_host_info();
  const char* ref = std::getenv("CGPROF_REFERENCE_SCORE");
  if (!ref || std::string(ref) != "0") r.host.reference = measure_reference_score();
  return r;
}

}  // namespace cgprof
