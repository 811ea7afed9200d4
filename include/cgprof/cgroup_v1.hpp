// cgroup v1 (hybrid and legacy hosts, as root): the controller hierarchies, the run cgroup in
// each (V1RunCgroup), one source file per controller under src/cgroup/v1/ with the write of its
// limits ("set") and the read of its counters ("stat"), as runc's fs/ package does.
//
// v1 counters are mapped onto the v2 structs of stat_parsers.hpp, so totals, samples and
// reports are the same for both backends (docs/ARCHITECTURE.md has the table):
//   cpuacct.usage (ns)                 -> CpuStat.usage_usec (/1000)
//   cpuacct.stat user/system (ticks)   -> CpuStat.user_usec/system_usec (x 1e6/USER_HZ)
//   cpu.stat nr_periods, nr_throttled  -> the same; throttled_time (ns) -> throttled_usec
//   memory.usage_in_bytes              -> memory.current
//   memory.max_usage_in_bytes          -> memory.peak
//   memory.stat rss, cache, shmem, pgfault, pgmajfault -> anon, file, shmem, pgfault, pgmajfault
//   memory.oom_control oom_kill        -> MemoryEvents.oom_kill
//   memory.failcnt                     -> MemoryEvents.max (times the limit was hit)
//   blkio.throttle.io_service_bytes[_recursive], io_serviced[_recursive] -> IoStat
//   pids.current, pids.peak            -> the same
// v1 has no PSI and no memory.events low/high/oom: those stay absent, never 0.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgprof/cgroup.hpp"
#include "cgprof/stat_parsers.hpp"

namespace cgprof {

// ---- discovery (hierarchy.cpp) ----

// The v1 controllers cgprof uses; a hierarchy with none of them is left alone.
inline constexpr const char* kV1Controllers[] = {"cpu",   "cpuacct", "cpuset", "memory",
                                                 "blkio", "pids",    "freezer"};

struct V1Hierarchy {
  std::string mount_point;               // "/sys/fs/cgroup/cpu,cpuacct"
  std::vector<std::string> controllers;  // as /proc/self/cgroup names them: {"cpu", "cpuacct"}
  std::string self;                      // our cgroup relative to the mount ("" = its root)
  std::string name() const;              // "cpu,cpuacct"
  bool has(std::string_view controller) const;
};

// The controller hierarchies of /proc/self/cgroup that hold a controller cgprof uses, each with
// the mount it is reachable through (mountinfo) and our cgroup in it. Named hierarchies
// ("name=systemd") and the v2 entry ("0::") are ignored. A hierarchy that is not mounted is left
// out. Throws Error if our cgroup lies outside the mount (another cgroup namespace).
std::vector<V1Hierarchy> parse_v1_hierarchies(std::string_view mountinfo,
                                              std::string_view proc_self_cgroup);

// ---- parsers (pure; src/cgroup/v1/<controller>.cpp; rules of stat_parsers.hpp) ----

// cpuacct.stat: "user T\nsystem T\n" in USER_HZ ticks -> user_usec, system_usec (bits 1, 2).
bool parse_cpuacct_stat(const char* data, size_t len, uint64_t usec_per_tick, CpuStat* out);
// cpu.stat of v1: nr_periods, nr_throttled, throttled_time (ns) -> bits 3, 4, 5.
bool parse_cpu_stat_v1(const char* data, size_t len, CpuStat* out);
// memory.stat of v1: rss -> anon, cache -> file, shmem, pgfault, pgmajfault (kernel: absent).
bool parse_memory_stat_v1(const char* data, size_t len, MemoryStat* out);
// memory.oom_control: "oom_kill N" -> oom_kill (present bit 4); under_oom -> *under_oom.
bool parse_memory_oom_control(const char* data, size_t len, MemoryEvents* out, bool* under_oom);
// blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Read N" lines (Write, Discard; Sync,
// Async and Total are sums and skipped; the last "Total N" line too). Adds into *io: bytes into
// rbytes/wbytes/dbytes, ops into rios/wios/dios, per device and in `total`.
enum class BlkioCounter { kBytes, kOps };
bool parse_blkio_throttle(const char* data, size_t len, BlkioCounter what, IoStat* io);

// ---- counters of a run cgroup (the "stat" half of each controller file) ----
namespace v1 {
// cpuacct.usage + cpuacct.stat (cpuacct_fd) and cpu.stat (cpu_fd); false if neither readable.
bool cpu_stat(int cpu_fd, int cpuacct_fd, CpuStat* out);
struct MemoryCounters {
  bool has_stat = false, has_events = false;
  MemoryStat stat;
  MemoryEvents events;  // oom_kill from memory.oom_control, max from memory.failcnt
  std::optional<uint64_t> current, peak;
};
MemoryCounters memory_stat(int memory_fd);
// io_service_bytes and io_serviced (the _recursive variants where present).
bool blkio_stat(int blkio_fd, IoStat* out);
void pids_stat(int pids_fd, std::optional<uint64_t>* current, std::optional<uint64_t>* peak);
}  // namespace v1

// ---- the run cgroup (src/cgroup/v1/run_cgroup_v1.cpp) ----

// In every hierarchy holding a controller cgprof uses: <our cgroup>/cgprof/<run_cgroup_name()>,
// limits written per controller, the container placed into all of them (join_fds) before it
// runs anything. kill(): freezer (freeze, SIGKILL every task, thaw), so nothing escapes by
// forking; destroy() removes every directory it created, in every hierarchy. Root only (v1 has
// no delegation): anyone else gets one line saying so and naming --no-cgroup.
class V1RunCgroup final : public CgroupBackend {
 public:
  static std::unique_ptr<V1RunCgroup> create(const RunCgroupOptions& opts);
  ~V1RunCgroup() override;

  int version() const override { return 1; }
  CgroupDirs dirs() const override;
  std::vector<std::pair<std::string, std::string>> paths() const override;
  const LimitsWritten& limits_written() const override { return written_; }
  int clone_into_fd() const override { return -1; }
  std::vector<int> join_fds() const override;
  int kill_fd() const override { return -1; }
  void kill() override;
  void destroy() override;

  struct Leaf {
    V1Hierarchy hierarchy;
    UniqueFd mount;   // O_PATH of the hierarchy's mount
    UniqueFd dir;     // O_PATH of the run cgroup
    std::string rel;  // run cgroup relative to the mount
    std::string path;  // absolute
    bool created = false;
  };

 private:
  V1RunCgroup() = default;
  int fd_of(std::string_view controller) const;
  void destroy_noexcept() noexcept;

  std::vector<Leaf> leaves_;
  LimitsWritten written_;
  bool live_ = false;
};

}  // namespace cgprof
