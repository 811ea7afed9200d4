// Device profiles (TOML, see cgprof-device(5)), the CLI overrides merged on top of them
// (docker spellings, see cgprof-devices(1)), and the resource limits they resolve to.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cgprof {

// Bandwidth limits on one block device. `device` is "rootfs" (the device that backs the
// root filesystem of the run), a path such as "/dev/sda", or "MAJ:MIN".
struct IoDeviceLimit {
  std::string device = "rootfs";
  std::optional<uint64_t> read_bps, write_bps, read_iops, write_iops;

  bool operator==(const IoDeviceLimit&) const = default;
};

// What a run is allowed to use. Unset means "no limit". This is the one value the
// cgroup module turns into cgroup v2 files.
struct Limits {
  // CPU. The quota in host cores is `cpus` if set (docker --cpus), else cores * core_speed.
  std::optional<unsigned> cores;    // CPUs of the device -> size of cpuset.cpus
  double core_speed = 1.0;          // one device core relative to one host core
  std::optional<double> cpus;       // explicit quota in host cores
  uint64_t cpu_period_us = 100000;  // CFS period for cpu.max
  std::optional<std::string>
      cpuset;  // explicit host CPU list ("0-1,3"); overrides `cores` placement
  // Memory.
  std::optional<uint64_t> memory_max;   // memory.max
  std::optional<uint64_t> memory_high;  // memory.high
  std::optional<uint64_t> swap_max =
      0;  // memory.swap.max; devices have no swap; nullopt = unlimited
  // Processes.
  std::optional<uint64_t> pids_max;
  // Block I/O.
  std::vector<IoDeviceLimit> io;

  bool operator==(const Limits&) const = default;

  // Quota in host cores, or nullopt for no CPU quota.
  std::optional<double> quota_cores() const {
    if (cpus) return cpus;
    if (cores) return *cores * core_speed;
    return std::nullopt;
  }
};

// Bounds shared by the profile loader and the CLI overrides (the kernel's limits for cpu.max).
inline constexpr uint64_t kMinCpuPeriodUs = 1000;
inline constexpr uint64_t kMaxCpuPeriodUs = 1000000;
inline constexpr uint64_t kMinCpuQuotaUs = 1000;
inline constexpr uint64_t kMinMemoryBytes = 4ull << 20;  // below this nothing starts at all
inline constexpr unsigned kMaxCores = 4096;

// One fitted metric from `cgprof calibrate`: device_value ≈ slope * cgprof_value + intercept.
struct CalibrationFit {
  double slope = 1.0;
  double intercept = 0.0;
  double r2 = 0.0;
  double residual_stddev = 0.0;
  unsigned points = 0;
  // For prediction intervals that widen away from the fitted data: the mean of the cgprof
  // values fitted and their sum of squared deviations. 0 = unknown.
  double x_mean = 0.0;
  double x_sxx = 0.0;

  bool operator==(const CalibrationFit&) const = default;
};

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string source;  // file it was loaded from ("" for built-in defaults)
  std::string origin;  // where `source` was found: "file", "CGPROF_DEVICES_PATH", "user",
                       // "installed", "source tree", "built-in"
  std::vector<std::string> aliases;  // other names `--device` accepts for this profile
  Limits limits;
  std::map<std::string, CalibrationFit> calibration;  // metric name -> fit
};

// ---- Loading -------------------------------------------------------------------------------

// Parses and validates profile text. `source` names the file in error messages, which read
// `device profile SOURCE: line N: KEY: expected ..., got ...`.
DeviceProfile parse_device_profile(std::string_view toml_text, const std::string& source);

// Reads and parses one profile file (origin "file").
DeviceProfile load_device_profile(const std::string& path);

// The profile used when no --device is given: measure only, no limits (swap unlimited too).
DeviceProfile host_device_profile();

// ---- Lookup --------------------------------------------------------------------------------

// True if `arg` of --device names a file rather than a profile name: contains '/' or ends
// in ".toml".
bool is_device_file_argument(std::string_view arg);

struct DeviceSearchDir {
  std::string path;
  std::string origin;  // "CGPROF_DEVICES_PATH", "user", "installed", "source tree"
};

// In priority order: each entry of $CGPROF_DEVICES_PATH (colon-separated), the user's
// $XDG_CONFIG_HOME/cgprof/devices (~/.config/...), CGPROF_DATADIR/devices,
// <dir of executable>/../share/cgprof/devices, then the source tree's configs/devices.
// Directories that do not exist are left out; duplicates are removed.
std::vector<DeviceSearchDir> device_search_dirs();

struct DeviceListing {
  std::string path;                      // the .toml file
  std::string origin;                    // of its directory
  std::optional<DeviceProfile> profile;  // nullopt if the file does not load
  std::string error;                     // why it does not load
  bool shadowed = false;                 // an earlier directory has a profile of the same name
};

// Every *.toml in the search directories, in priority order (sorted by file name within one).
std::vector<DeviceListing> list_device_profiles(const std::vector<DeviceSearchDir>& dirs);
inline std::vector<DeviceListing> list_device_profiles() {
  return list_device_profiles(device_search_dirs());
}

// Resolves --device NAME|FILE. A file is loaded directly; a NAME is searched directory by
// directory: first NAME.toml, then a profile whose name or alias is NAME. Throws an Error
// listing the available names when nothing matches.
DeviceProfile find_device_profile(const std::string& name_or_file,
                                  const std::vector<DeviceSearchDir>& dirs);
inline DeviceProfile find_device_profile(const std::string& name_or_file) {
  return find_device_profile(name_or_file, device_search_dirs());
}

// ---- Calibration ---------------------------------------------------------------------------

// Writes `fits` into the [calibration.<metric>] tables of the profile at `path`, keeping the
// rest of the file (comments included) as it is. Metrics not in `fits` are kept unless
// `replace_all`. The result is validated before it atomically replaces the file.
void write_profile_calibration(const std::string& path,
                               const std::map<std::string, CalibrationFit>& fits,
                               bool replace_all = false);

// Rewrites `speed` in the [cpu] table of the profile at `path` (cpu.speed must exist), keeping
// the rest of the file and the comment on that line. For `cgprof calibrate`, which derives a
// better factor from the wall-time fit.
void write_profile_core_speed(const std::string& path, double speed);

// ---- CLI overrides (docker spellings) ------------------------------------------------------

// The option values exactly as the user typed them; merge_overrides parses and validates them.
struct LimitOverrides {
  std::string device;                          // --device NAME|FILE ("" = host profile)
  std::optional<std::string> cpus;             // --cpus 1.5
  std::optional<std::string> cpuset;           // --cpuset-cpus / --cpuset 0-1,3
  std::optional<std::string> cpu_period;       // --cpu-period 100000 | 50ms
  std::optional<std::string> memory;           // --memory / -m 512m | max
  std::optional<std::string> memory_swap;      // --memory-swap 1g (memory+swap) | -1 (unlimited)
  std::optional<std::string> pids_limit;       // --pids-limit 100 | -1 | 0 (unlimited)
  std::vector<std::string> device_read_bps;    // DEV:RATE, e.g. /dev/sda:10mb, rootfs:45MB/s
  std::vector<std::string> device_write_bps;   // DEV:RATE
  std::vector<std::string> device_read_iops;   // DEV:N
  std::vector<std::string> device_write_iops;  // DEV:N

  bool empty() const;
};

// Applies overrides on top of a profile's limits. --cpus replaces the quota but keeps the core
// count; --cpuset-cpus sets placement; --memory-swap is memory+swap as in docker (-1 =
// unlimited swap); a rate or IOPS of "max" removes that limit. Errors name the option.
Limits merge_overrides(const Limits& profile, const LimitOverrides& overrides);

// find_device_profile(o.device) (or host_device_profile() if empty) with overrides merged.
DeviceProfile resolve_device(const LimitOverrides& overrides);

}  // namespace cgprof
