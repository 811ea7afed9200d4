#include "limit_options.hpp"

namespace cgprof::cli {

void add_limit_options(CLI::App* cmd, LimitOverrides& o, bool with_device) {
  const char* group = "Device and limits (override the profile)";
  if (with_device)
    cmd->add_option("--device", o.device,
                    "Device profile: a name (see `cgprof devices`) or a .toml file; default host")
        ->type_name("NAME|FILE")
        ->group(group);
  cmd->add_option("--cpus", o.cpus, "CPU quota in host CPUs (replaces cores x speed), e.g. 1.5")
      ->type_name("N")
      ->group(group);
  cmd->add_option("--cpuset-cpus,--cpuset", o.cpuset, "Host CPUs to run on, e.g. 0-1 or 0,2")
      ->type_name("LIST")
      ->group(group);
  cmd->add_option("--cpu-period", o.cpu_period,
                  "CFS period in microseconds (or 50ms); the quota is spent within each period")
      ->type_name("US")
      ->group(group);
  cmd->add_option("-m,--memory", o.memory, "Memory limit, e.g. 512m, 2GiB; max for none")
      ->type_name("SIZE")
      ->group(group);
  cmd->add_option("--memory-swap", o.memory_swap,
                  "Memory plus swap, as in docker (e.g. 1g with -m 512m = 512 MiB swap); -1 for "
                  "unlimited swap")
      ->type_name("SIZE")
      ->group(group);
  cmd->add_option("--pids-limit", o.pids_limit, "Process/thread limit; -1 for none")
      ->type_name("N")
      ->group(group);
  cmd->add_option("--device-read-bps", o.device_read_bps,
                  "Read rate limit DEV:RATE (DEV: rootfs, /dev/sda or 8:0), e.g. rootfs:45MB/s")
      ->type_name("DEV:RATE")
      ->group(group);
  cmd->add_option("--device-write-bps", o.device_write_bps,
                  "Write rate limit DEV:RATE, e.g. rootfs:20MB/s; RATE max removes the limit")
      ->type_name("DEV:RATE")
      ->group(group);
  cmd->add_option("--device-read-iops", o.device_read_iops, "Read IOPS limit DEV:N")
      ->type_name("DEV:N")
      ->group(group);
  cmd->add_option("--device-write-iops", o.device_write_iops, "Write IOPS limit DEV:N")
      ->type_name("DEV:N")
      ->group(group);
  // Repeatable, one value per occurrence: a greedy vector option would swallow the IMAGE of
  // `cgprof run --device-read-bps rootfs:1mb IMAGE`.
  for (const char* name :
       {"--device-read-bps", "--device-write-bps", "--device-read-iops", "--device-write-iops"})
    cmd->get_option(name)->allow_extra_args(false);
}

}  // namespace cgprof::cli
