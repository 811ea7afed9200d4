// The run's cgroup, behind one interface (CgroupBackend) with two implementations: cgroup v2
// (RunCgroup: find the hierarchy, find a place we may write, create the run's leaf cgroup, write
// the limits of a Limits value into it, and kill + remove it on every exit path) and cgroup v1
// (hybrid and legacy hosts, as root: one run cgroup per controller hierarchy; cgroup_v1.hpp).
//
// Everything works relative to directory fds (the cgroup2 mount, /proc, /sys) so unit tests can
// hand in fixture trees; cgroup files are opened with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cgprof/device.hpp"
#include "cgprof/stat_parsers.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {

// ---- layout and backend choice (hierarchy.cpp) ----

// How the host mounts cgroups, from /proc/self/mountinfo.
enum class CgroupLayout {
  kNone,     // no cgroup file system at all
  kUnified,  // pure v2: a cgroup2 mount and no v1 controller hierarchy
  kHybrid,   // v1 controller hierarchies plus a cgroup2 mount (usually without controllers)
  kLegacy,   // v1 controller hierarchies only
};
CgroupLayout detect_cgroup_layout(std::string_view mountinfo);
const char* to_string(CgroupLayout layout);  // "none", "v2", "hybrid", "v1"

// --cgroup-manager: which backend a run uses.
// kEmulated: no cgroup at all, limits from user space (cgroup_emulated.hpp); auto falls back to it
// when no cgroup can be created.
enum class CgroupManager { kAuto, kV1, kV2, kEmulated };
// "auto", "v1", "v2", "emulated"; throws Error naming the word and the choices.
CgroupManager parse_cgroup_manager(std::string_view text);
// The backend for a layout: auto picks v1 when v1 controller hierarchies are mounted (hybrid:
// the controllers are bound there, so the v2 mount has none), else v2.
int cgroup_version_for(CgroupLayout layout, CgroupManager manager);

// ---- hierarchy discovery (hierarchy.cpp) ----

struct CgroupMount {
  std::string mount_point;  // "/sys/fs/cgroup"
  std::string root;         // root of the mount inside the hierarchy ("/" normally)
};

// The cgroup2 mount in /proc/self/mountinfo text (the one at /sys/fs/cgroup if several).
std::optional<CgroupMount> parse_cgroup2_mount(std::string_view mountinfo);

// True if mountinfo shows cgroup v1 controller hierarchies (a hybrid or legacy host).
bool has_cgroup1_controllers(std::string_view mountinfo);

// The v2 entry of /proc/self/cgroup ("0::/user.slice/x.scope" -> "/user.slice/x.scope").
std::optional<std::string> parse_cgroup_v2_path(std::string_view proc_self_cgroup);

struct CgroupHierarchy {
  std::string mount_point;  // absolute path of the cgroup2 mount
  std::string self;         // our cgroup relative to the mount: "" at the root, else "a/b"
  bool hybrid = false;      // v1 controllers are mounted as well
};

// Reads self/mountinfo and self/cgroup under proc_dirfd (a dirfd of /proc, or a fixture).
// Throws Error with a one-line explanation (and how to get a v2 cgroup) if there is none.
CgroupHierarchy discover_hierarchy(int proc_dirfd);

// ---- small helpers shared by the module (cgroup_fs.cpp) ----

// openat2(dirfd, path, flags, RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS); throws Error naming path.
UniqueFd open_beneath(int dirfd, const std::string& path, int flags);
// Whole-file read / write of a cgroup file below dirfd with open_beneath.
std::string read_cgroup_file(int dirfd, const std::string& path);
void write_cgroup_file(int dirfd, const std::string& path, std::string_view value);
// Moves pid into the cgroup of dirfd (writes cgroup.procs): how the sandbox places a container
// it could not clone into its cgroup (v1, or v2 without CLONE_INTO_CGROUP). Throws Error.
void move_into_cgroup(int cgroup_dirfd, pid_t pid);
// True if `name` exists below dirfd (a controller file a kernel may lack, a sysfs entry).
bool file_exists_at(int dirfd, const char* name);
// Whole counter file below dirfd, or nullopt if it does not exist or cannot be read (controller
// not enabled; dirfd -1: a controller that is not mounted).
std::optional<std::string> try_read_cgroup_file(int dirfd, const char* name);
// A single-number counter file ("max" -> UINT64_MAX); nullopt if absent or not a number.
std::optional<uint64_t> try_read_cgroup_value(int dirfd, const char* name);

// "cpu memory pids" -> {"cpu","memory","pids"}.
std::vector<std::string> split_words(std::string_view text);

// CPU lists ("0-3,6"): parse_cpu_ranges / format_cpu_ranges of sys.hpp.

// ---- placement (placement.cpp) ----

// What we know about one cgroup on the path from the root of the hierarchy to ours.
struct CgroupNode {
  std::string path;                      // relative to the mount, "" = root
  bool writable = false;                 // we may create children and write its control files
  bool has_processes = false;            // cgroup.procs is not empty
  std::vector<std::string> controllers;  // cgroup.controllers (available to it)
  std::vector<std::string> subtree;      // cgroup.subtree_control (enabled for its children)
  std::vector<pid_t> pids;               // cgroup.procs
};

// Reads the nodes from the root down to `self` (inclusive). `uid` decides writability: root may
// write everything; another uid needs to own the directory, cgroup.procs and cgroup.subtree_control
// with owner write permission (how systemd delegates a subtree).
std::vector<CgroupNode> read_cgroup_path(int mount_fd, const std::string& self, uid_t uid);

struct PlacementPlan {
  std::string base;                      // cgroup that gets the "cgprof" child ("" = root)
  std::string leaf;                      // "<base>/cgprof/<run-id>"
  std::vector<std::string> enable_in;    // cgroups (top-down) whose subtree_control we extend
  std::vector<std::string> controllers;  // enabled along the way (available ∩ wanted)
  std::vector<std::string> notices;      // controllers we wanted but cannot have, etc.
};

struct PlacementRequest {
  std::vector<std::string> required;  // controllers the limits need: missing -> Error
  std::vector<std::string> wanted;    // controllers for statistics: missing -> notice
  std::string run_id;
  uid_t uid = 0;
};

// Decides where the run's cgroup goes from the nodes root..self (pure: unit-testable).
// Root: "cgprof/<run-id>" under the parent of our cgroup (the root if we are at the root).
// Rootless: the same next to our cgroup, inside the delegated subtree. Throws Error with one line
// saying why no place is usable and how to get one.
PlacementPlan plan_placement(const std::vector<CgroupNode>& nodes, const PlacementRequest& req);

// ---- limits (limits.cpp) ----

// One block device for io.max, with where its name came from for messages.
struct BlockDevice {
  unsigned major = 0, minor = 0;
  std::string name;  // "/dev/vda", "rootfs (/var/lib/x on ext4)"
};

// The block device backing `path` (stat -> st_dev), mapped from a partition to its disk through
// sys_dirfd ("/sys"). nullopt and a reason if the file system has no block device (overlay, 9p,
// tmpfs, btrfs subvolume...).
std::optional<BlockDevice> block_device_of_path(const std::string& path, int sys_dirfd,
                                                std::string* why_not);
// A device the user named: "/dev/sda", "/dev/sda1" (mapped to sda) or "8:0".
BlockDevice resolve_block_device(const std::string& name, int sys_dirfd);
// MAJ:MIN of the whole disk if MAJ:MIN is a partition (io.max takes whole disks only).
std::pair<unsigned, unsigned> whole_disk(unsigned major, unsigned minor, int sys_dirfd);

// "QUOTA PERIOD" or "max PERIOD".
std::string cgroup_cpu_max(const Limits& limits);
// cpuset.cpus for the limits given the parent's cpuset.cpus.effective; empty = leave unset.
// Caps `cores` at what is available with a notice; throws Error for an explicit cpuset that is
// not a subset of the available CPUs.
std::string cpuset_cpus_value(const Limits& limits, std::string_view parent_effective,
                              std::vector<std::string>* notices);
// "MAJ:MIN rbps=N wbps=N riops=N wiops=N" (unset keys left out).
std::string io_max_line(unsigned major, unsigned minor, const IoDeviceLimit& lim);

// The io limits per whole disk, merging everything the profile and the user said about each
// ("rootfs" resolved to the disk under `rootfs`; a rootfs without one becomes a notice).
struct DiskIoLimit {
  unsigned major = 0, minor = 0;
  IoDeviceLimit limit;
  std::string name;  // for messages
};
std::vector<DiskIoLimit> io_limits_per_disk(const std::vector<IoDeviceLimit>& io,
                                            const std::string& rootfs, int sys_dirfd,
                                            std::vector<std::string>* notices);

// What was actually written into the cgroup, for run.json.
struct LimitsWritten {
  std::string cgroup;                                      // absolute path of the leaf
  std::vector<std::pair<std::string, std::string>> files;  // file -> value, in write order
  std::vector<std::string> notices;                        // limits not applied and why
  std::vector<std::string> controllers;                    // enabled for the leaf
  std::optional<double> cpu_quota_cores;                   // as written in cpu.max
  std::string cpuset_cpus;                                 // as written ("" = all)
};

// Controllers the limits need ("cpu", "cpuset", "memory", "io", "pids").
std::vector<std::string> controllers_for(const Limits& limits);

// Writes every limit into the leaf (leaf_fd: dirfd of the leaf; parent_fd: of its parent, for
// cpuset.*.effective). `rootfs` is the directory whose block device gets the "rootfs" io limits.
LimitsWritten write_limits(int leaf_fd, int parent_fd, const Limits& limits,
                           const std::string& rootfs, int sys_dirfd);

// ---- run cgroup owners and stale run cgroups (run_owner.cpp; backend-neutral) ----
//
// SIGKILL of cgprof runs no destructor, so its run cgroup stays. Each run cgroup's name therefore
// says which process owns it, and the next run that uses the same parent removes those whose
// owner is provably gone. A pid alone is not enough (pids are reused), so the name also holds the
// owner's start time and PID namespace.

struct RunOwner {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22: clock ticks after boot
  uint64_t pid_ns = 0;      // inode number of the PID namespace that `pid` belongs to
};

// "pid<PID>-start<START>-ns<PIDNS>-<8 hex digits of nonce>"; the nonce tells apart the cgroups
// of one process.
std::string run_cgroup_name(const RunOwner& owner, uint32_t nonce);
// The owner a name written by run_cgroup_name() says; nullopt for any other name (only the
// canonical spelling is accepted, so a cgroup someone else named is never taken for ours).
std::optional<RunOwner> parse_run_cgroup_name(std::string_view name);
// Field 22 (starttime) of /proc/PID/stat text; nullopt if malformed.
std::optional<uint64_t> parse_proc_stat_start_time(std::string_view stat);
// This process, from self/stat and self/ns/pid under proc_dirfd. Throws Error.
RunOwner current_run_owner(int proc_dirfd);

// What proc_dirfd/PID/stat says about a pid now.
struct ProcessProbe {
  enum class State {
    absent,   // no process has this pid (the kernel says ESRCH)
    present,  // a process has it, started at start_time
    unknown,  // hidden or unreadable: cannot tell
  };
  State state = State::unknown;
  uint64_t start_time = 0;
};
ProcessProbe probe_process(int proc_dirfd, pid_t pid);

enum class OwnerState { alive, gone, unknown };
// The staleness rule (pure): the owner is gone when no process has its pid, or when the process
// that has it started at another time (pid reuse). Another PID namespace's pid, or a pid we
// cannot read, is `unknown`, and an unknown owner's cgroup is kept.
OwnerState run_owner_state(const RunOwner& owner, uint64_t our_pid_ns, const ProcessProbe& now);

struct StaleRunCgroup {
  std::string name;  // directory name below the parent
  RunOwner owner;
};
// One readdir of parent_fd (a directory fd of the "cgprof" parent cgroup): the run cgroups whose
// owner is gone. Other names are ignored. Throws Error if the directory cannot be read.
std::vector<StaleRunCgroup> find_stale_run_cgroups(int parent_fd, int proc_dirfd,
                                                   uint64_t our_pid_ns);

// ---- the backend interface the run path uses ----

// Where a run cgroup's counters are: directory fds (O_PATH) per controller, borrowed from the
// backend. v2: `unified` only. v1: the run cgroup in each controller's hierarchy (-1 where the
// controller is not mounted); co-mounted controllers (cpu,cpuacct) share one fd.
// Version 0: the emulated backend (no cgroup): the container's procfs and the enforcer's counters.
struct EmulatedCounters;
struct CgroupDirs {
  int version = 2;
  int unified = -1;
  int cpu = -1, cpuacct = -1, cpuset = -1, memory = -1, blkio = -1, pids = -1, freezer = -1;
  int procfs = -1;                              // version 0: the container's /proc (-1 before start)
  const EmulatedCounters* emulated = nullptr;  // version 0
};

// Who enforces a limit or measures a metric, and how precisely (run.json "cgroup" "limits" and
// "metrics"; the summary and the HTML report).
struct Fidelity {
  std::string kind;       // "limit" or "metric"
  std::string name;       // "cpu", "cpuset", "memory", "pids", "io"
  std::string by;         // "kernel", "emulated" or "not enforced"
  std::string precision;  // one phrase
};

class CgroupBackend {
 public:
  virtual ~CgroupBackend() = default;
  virtual int version() const = 0;
  virtual CgroupDirs dirs() const = 0;
  // The run cgroup's absolute path per hierarchy: {"unified": ...} on v2, {"cpu": ...,
  // "memory": ..., ...} on v1 (co-mounted controllers under their joint name, "cpu,cpuacct").
  virtual std::vector<std::pair<std::string, std::string>> paths() const = 0;
  virtual const LimitsWritten& limits_written() const = 0;
  // v2: the leaf's fd for clone3(CLONE_INTO_CGROUP); -1 on v1.
  virtual int clone_into_fd() const = 0;
  // v1: the run cgroups (one per hierarchy) whose cgroup.procs must receive the container's pid
  // before it runs anything; empty on v2.
  virtual std::vector<int> join_fds() const = 0;
  // An fd that kills the cgroup from a signal handler by writing "1" (v2 cgroup.kill); -1 if
  // none (v1: killing the container's init ends its whole PID namespace instead).
  virtual int kill_fd() const = 0;
  virtual void kill() = 0;
  // Kills, waits until empty, removes every directory it created. Idempotent. Throws Error.
  virtual void destroy() = 0;
  // Per limit and metric: the kernel's (v1, v2) or emulated (backend.cpp has the kernel's).
  virtual std::vector<Fidelity> fidelity() const;
  // The container's init runs (host pid and pidfd): the emulated backend starts enforcing.
  virtual void attach(pid_t /*init_pid*/, int /*init_pidfd*/) {}
  // The container's init was reaped with this rusage (its own and every process it reaped).
  virtual void reaped(const struct rusage& /*ru*/) {}
};

// ---- counters (counters.cpp): the one place that opens a run cgroup's counter files ----
//
// The totals read a snapshot at the start and the end of a run; the sampler opens the files once
// (open_counter_files) and preads them at every tick. Nothing outside this module opens a
// controller file.

// One reading of every counter file of a cgroup (and of a network namespace through a pid).
struct CounterSnapshot {
  uint64_t t_ns = 0;  // CLOCK_MONOTONIC when read
  bool has_cpu = false, has_memory_stat = false, has_memory_events = false, has_io = false;
  bool has_psi = false, has_net = false;
  CpuStat cpu;
  MemoryStat memory;
  MemoryEvents events;
  IoStat io;
  Pressure cpu_pressure, memory_pressure, io_pressure;
  std::optional<uint64_t> memory_current, memory_peak, pids_current, pids_peak;
  const char* memory_peak_file = "memory.peak";  // v1: memory.max_usage_in_bytes
  NetDevStat net;
};

// Reads every counter present; absent files leave has_* false / nullopt. net_pid < 0: no net.
// Throws Error only if cgroup_dirfd is not a readable directory.
CounterSnapshot read_counters(int cgroup_dirfd, pid_t net_pid = -1);
// The same for any backend's run cgroup (v2: the call above; v1: each controller's "stat" of
// cgroup_v1.hpp, mapped onto the same fields; PSI stays absent).
CounterSnapshot read_counters(const CgroupDirs& dirs, pid_t net_pid = -1);

// The counter files a run cgroup offers for repeated reading, by format. v1 files are mapped onto
// the v2 fields (cgroup_v1.hpp has the table).
enum class CounterFile : std::uint8_t {
  kCpuStat, kMemoryCurrent, kMemoryStat, kMemoryEvents, kIoStat, kPidsCurrent,
  kCpuPressure, kMemoryPressure, kIoPressure,
  kV1CpuacctUsage, kV1CpuacctStat, kV1CpuStat, kV1MemoryUsage, kV1MemoryStat, kV1OomControl,
  kV1Failcnt, kV1BlkioBytes, kV1BlkioOps, kV1PidsCurrent,
};
// Which counter files: a mask of these (the same bits as the sampler's --sample groups).
enum CounterGroup : unsigned {
  kCountersCpu = 1u << 0,     // cpu.stat (v1: cpuacct.usage, cpuacct.stat, cpu.stat)
  kCountersMemory = 1u << 1,  // memory.current, memory.stat, memory.events (v1: usage_in_bytes,
                              // memory.stat, oom_control, failcnt)
  kCountersIo = 1u << 2,      // io.stat (v1: blkio.throttle.io_service_bytes, io_serviced)
  kCountersPids = 1u << 3,    // pids.current
  kCountersPsi = 1u << 4,     // cpu.pressure, memory.pressure, io.pressure (none on v1)
};
struct OpenedCounterFile {
  UniqueFd fd;  // O_RDONLY, for pread at offset 0
  CounterFile kind;
  std::string name;  // as opened ("blkio.throttle.io_serviced" where the _recursive one is absent)
};
struct CounterFiles {
  std::vector<OpenedCounterFile> opened;  // in a fixed order (v2: cpu, memory, io, pids, psi)
  std::vector<std::string> absent;        // files of the groups that the cgroup does not have
};
// Opens the counter files of `groups` in the run cgroup of `dirs`. A file the kernel lacks (or a
// controller not mounted or not enabled) is listed in `absent`; any other failure throws Error
// naming the file.
CounterFiles open_counter_files(const CgroupDirs& dirs, unsigned groups);

// ---- lifecycle (run_cgroup.cpp) ----

struct RunCgroupOptions {
  Limits limits;
  CgroupManager manager = CgroupManager::kAuto;
  std::string rootfs = "/";  // its block device gets the "rootfs" io limits
  std::vector<std::string> extra_controllers = {"cpu", "memory", "io", "pids"};  // statistics
  // Roots, for tests; the defaults are the real ones.
  std::string proc = "/proc";
  std::string sys = "/sys";
};

// The run's cgroup: created and limited by create(), killed and removed by destroy() or the
// destructor, whichever comes first, on every exit path. Its name is run_cgroup_name() of this
// process; before creating it, create() removes the stale run cgroups of the same parent (left by
// a cgprof killed with SIGKILL: their processes are killed first with cgroup.kill) and says so on
// stderr in one line ("cgprof: removed 1 stale run cgroup left by a killed cgprof (pid N)"), or
// prints a notice naming one it could not remove and goes on.
class RunCgroup final : public CgroupBackend {
 public:
  static RunCgroup create(const RunCgroupOptions& opts);

  RunCgroup(RunCgroup&&) noexcept;
  RunCgroup& operator=(RunCgroup&&) noexcept;
  ~RunCgroup() override;

  int dirfd() const { return dir_.get(); }  // O_PATH|O_DIRECTORY: for CLONE_INTO_CGROUP, openat
  const std::string& path() const { return path_; }  // absolute
  const LimitsWritten& limits_written() const override { return written_; }

  int version() const override { return 2; }
  CgroupDirs dirs() const override;
  std::vector<std::pair<std::string, std::string>> paths() const override;
  int clone_into_fd() const override { return dir_.get(); }
  std::vector<int> join_fds() const override { return {}; }

  // memory.peak in bytes, nullopt if the kernel lacks it (< 5.19).
  std::optional<uint64_t> memory_peak() const;
  // memory.events "oom_kill" count (0 if unavailable).
  uint64_t oom_kills() const;

  // Kills every process in the cgroup (cgroup.kill; else SIGKILL each pid until none is left).
  // Async-signal-safe variant for signal handlers: kill_fd() is an fd of cgroup.kill or -1.
  void kill() override;
  int kill_fd() const override { return kill_fd_.get(); }

  // kill, wait for cgroup.events "populated 0" (bounded), rmdir the leaf and, if empty, the
  // "cgprof" parent. Idempotent. Throws Error if the cgroup could not be removed.
  void destroy() override;

 private:
  RunCgroup() = default;
  void destroy_noexcept() noexcept;

  UniqueFd mount_;
  UniqueFd dir_;
  UniqueFd kill_fd_;
  std::string rel_;   // leaf relative to the mount
  std::string path_;  // absolute
  LimitsWritten written_;
  bool live_ = false;
};

// Waits until `cgroup.events` of dirfd says "populated 0", at most timeout_ms. True if empty.
bool wait_unpopulated(int cgroup_dirfd, int timeout_ms);

// The run's cgroup with the backend opts.manager picks for this host's layout (v2: RunCgroup;
// v1: V1RunCgroup of cgroup_v1.hpp). Throws Error (one line: why, and what to do).
std::unique_ptr<CgroupBackend> create_run_cgroup(const RunCgroupOptions& opts);

}  // namespace cgprof
