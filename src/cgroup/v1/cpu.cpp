// cgroup v1 cpu and cpuacct: CFS quota (set); cpuacct.usage, cpuacct.stat and cpu.stat (stat).
#include <unistd.h>

#include <cmath>

#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "src/cgroup/v1/controllers.hpp"
#include "src/cgroup/v1/v1_files.hpp"

namespace cgprof {
using namespace v1_detail;

bool parse_cpuacct_stat(const char* data, size_t len, uint64_t usec_per_tick, CpuStat* out) {
  return for_each_key_value(data, len, [&](std::string_view k, bool ok, uint64_t v) {
    uint64_t CpuStat::*field = k == "user" ? &CpuStat::user_usec
                               : k == "system" ? &CpuStat::system_usec
                                               : nullptr;
    if (!field) return true;
    if (!ok) return false;
    out->*field = v * usec_per_tick;
    out->present |= field == &CpuStat::user_usec ? 1u << 1 : 1u << 2;
    return true;
  });
}

bool parse_cpu_stat_v1(const char* data, size_t len, CpuStat* out) {
  return for_each_key_value(data, len, [&](std::string_view k, bool ok, uint64_t v) {
    if (k == "nr_periods" || k == "nr_throttled" || k == "throttled_time") {
      if (!ok) return false;
      if (k == "nr_periods") {
        out->nr_periods = v;
        out->present |= 1u << 3;
      } else if (k == "nr_throttled") {
        out->nr_throttled = v;
        out->present |= 1u << 4;
      } else {
        out->throttled_usec = v / 1000;
        out->present |= 1u << 5;
      }
    }
    return true;
  });
}

namespace v1 {

bool cpu_stat(int cpu_fd, int cpuacct_fd, CpuStat* out) {
  *out = CpuStat{};
  bool any = false;
  if (auto ns = try_read_cgroup_value(cpuacct_fd, "cpuacct.usage")) {
    out->usage_usec = *ns / 1000;
    out->present |= 1;
    any = true;
  }
  if (auto t = try_read_cgroup_file(cpuacct_fd, "cpuacct.stat")) {
    long hz = ::sysconf(_SC_CLK_TCK);
    any |= parse_cpuacct_stat(t->data(), t->size(), 1000000 / static_cast<uint64_t>(hz > 0 ? hz : 100), out);
  }
  if (auto t = try_read_cgroup_file(cpu_fd, "cpu.stat")) any |= parse_cpu_stat_v1(t->data(), t->size(), out);
  return any;
}

}  // namespace v1

namespace v1_detail {

void cpu_set(int leaf_fd, const Limits& l, LimitsWritten* w) {
  std::optional<double> q = l.quota_cores();
  if (!file_exists_at(leaf_fd, "cpu.cfs_quota_us")) {
    if (q) {
      w->notices.push_back(
          "cpu.cfs_quota_us is missing (kernel without CFS bandwidth control): the CPU quota of " +
          std::to_string(*q) + " cores is not applied");
    }
    return;
  }
  // cgroup_cpu_max() gives "QUOTA PERIOD" or "max PERIOD", the same numbers v2 writes.
  std::string v2 = cgroup_cpu_max(l);
  std::string quota = v2.substr(0, v2.find(' '));
  put_limit(leaf_fd, "cpu.cfs_period_us", std::to_string(l.cpu_period_us), w);
  put_limit(leaf_fd, "cpu.cfs_quota_us", quota == "max" ? "-1" : quota, w);
  if (q) {
    w->cpu_quota_cores =
        static_cast<double>(std::stoull(quota)) / static_cast<double>(l.cpu_period_us);
  }
}

}  // namespace v1_detail
}  // namespace cgprof
