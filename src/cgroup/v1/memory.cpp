// cgroup v1 memory: limit, swap (set); usage, peak, memory.stat, OOM kills, failcnt (stat).
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"
#include "src/cgroup/v1/controllers.hpp"
#include "src/cgroup/v1/v1_files.hpp"

namespace cgprof {
using namespace v1_detail;

bool parse_memory_stat_v1(const char* data, size_t len, MemoryStat* out) {
  // The cgroup's own counters (the run cgroup has no children, so total_* are the same).
  struct Key {
    std::string_view name;
    uint64_t MemoryStat::*field;
    unsigned bit;  // MemoryStat::present bit, as parse_memory_stat numbers them
  };
  static constexpr Key kKeys[] = {{"rss", &MemoryStat::anon, 0},
                                  {"cache", &MemoryStat::file, 1},
                                  {"shmem", &MemoryStat::shmem, 3},
                                  {"pgfault", &MemoryStat::pgfault, 4},
                                  {"pgmajfault", &MemoryStat::pgmajfault, 5}};
  return for_each_key_value(data, len, [&](std::string_view k, bool ok, uint64_t v) {
    for (const Key& key : kKeys) {
      if (k != key.name) continue;
      if (!ok) return false;
      out->*key.field = v;
      out->present |= 1u << key.bit;
    }
    return true;
  });
}

bool parse_memory_oom_control(const char* data, size_t len, MemoryEvents* out, bool* under_oom) {
  return for_each_key_value(data, len, [&](std::string_view k, bool ok, uint64_t v) {
    if (k == "oom_kill") {
      if (!ok) return false;
      out->oom_kill = v;
      out->present |= 1u << 4;
    } else if (k == "under_oom") {
      if (!ok) return false;
      if (under_oom) *under_oom = v != 0;
    }
    return true;
  });
}

namespace v1 {

MemoryCounters memory_stat(int fd) {
  MemoryCounters m;
  if (auto t = try_read_cgroup_file(fd, "memory.stat"))
    m.has_stat = parse_memory_stat_v1(t->data(), t->size(), &m.stat) || m.stat.present;
  if (auto t = try_read_cgroup_file(fd, "memory.oom_control")) {
    m.has_events = parse_memory_oom_control(t->data(), t->size(), &m.events, nullptr) ||
                   m.events.present;
  }
  if (auto f = try_read_cgroup_value(fd, "memory.failcnt")) {
    m.events.max = *f;
    m.events.present |= 1u << 2;
    m.has_events = true;
  }
  m.current = try_read_cgroup_value(fd, "memory.usage_in_bytes");
  m.peak = try_read_cgroup_value(fd, "memory.max_usage_in_bytes");
  return m;
}

}  // namespace v1

namespace v1_detail {

void memory_set(int leaf_fd, const Limits& l, LimitsWritten* w) {
  if (l.memory_high) {
    w->notices.push_back("memory.high " + std::to_string(*l.memory_high) +
                         " has no cgroup v1 equivalent and is not applied; "
                         "memory.limit_in_bytes still applies");
  }
  put_limit(leaf_fd, "memory.limit_in_bytes",
            l.memory_max ? std::to_string(*l.memory_max) : "-1", w);
  if (file_exists_at(leaf_fd, "memory.memsw.limit_in_bytes")) {
    // memsw counts memory + swap: the v2 swap limit added to the memory limit.
    bool limited = l.memory_max && l.swap_max;
    put_limit(leaf_fd, "memory.memsw.limit_in_bytes",
              limited ? std::to_string(*l.memory_max + *l.swap_max) : "-1", w);
  } else if (l.swap_max && *l.swap_max == 0) {
    put_limit(leaf_fd, "memory.swappiness", "0", w);
    w->notices.push_back(
        "memory.memsw.limit_in_bytes is missing (kernel without swap accounting, boot with "
        "swapaccount=1): swap is not limited; memory.swappiness is 0 so the workload swaps only "
        "when the host must");
  } else if (l.swap_max) {
    w->notices.push_back(
        "memory.memsw.limit_in_bytes is missing (kernel without swap accounting, boot with "
        "swapaccount=1): the swap limit is not applied");
  }
}

}  // namespace v1_detail
}  // namespace cgprof
