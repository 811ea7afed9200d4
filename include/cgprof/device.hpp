// Device profiles (TOML, see cgprof-device(5)) and the resource limits they resolve to.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cgprof {

// Bandwidth limits on one block device. `device` is "rootfs" (the device that backs the
// root filesystem of the run), a path such as "/dev/sda", or "MAJ:MIN".
struct IoDeviceLimit {
  std::string device = "rootfs";
  std::optional<uint64_t> read_bps, write_bps, read_iops, write_iops;
};

// What a run is allowed to use. Unset means "no limit". This is the one value the
// cgroup module turns into cgroup v2 files.
struct Limits {
  // CPU. The quota in host cores is `cpus` if set (docker --cpus), else cores * core_speed.
  std::optional<unsigned> cores;     // CPUs of the device -> size of cpuset.cpus
  double core_speed = 1.0;           // one device core relative to one host core
  std::optional<double> cpus;        // explicit quota in host cores
  uint64_t cpu_period_us = 100000;   // CFS period for cpu.max
  std::optional<std::string> cpuset; // explicit host CPU list ("0-1,3"); overrides `cores` placement
  // Memory.
  std::optional<uint64_t> memory_max;   // memory.max
  std::optional<uint64_t> memory_high;  // memory.high
  std::optional<uint64_t> swap_max = 0; // memory.swap.max; devices have no swap; nullopt = unlimited
  // Processes.
  std::optional<uint64_t> pids_max;
  // Block I/O.
  std::vector<IoDeviceLimit> io;

  // Quota in host cores, or nullopt for no CPU quota.
  std::optional<double> quota_cores() const {
    if (cpus) return cpus;
    if (cores) return *cores * core_speed;
    return std::nullopt;
  }
};

// One fitted metric from `cgprof calibrate`: device_value ≈ slope * cgprof_value + intercept.
struct CalibrationFit {
  double slope = 1.0;
  double intercept = 0.0;
  double r2 = 0.0;
  double residual_stddev = 0.0;
  unsigned points = 0;
};

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string source;  // file it was loaded from ("" for built-in defaults)
  Limits limits;
  std::map<std::string, CalibrationFit> calibration;  // metric name -> fit
};

}  // namespace cgprof
