// `cgprof devices show`: what a run would write into its cgroup for a device's limits, computed
// by the cgroup module's own functions, in its order (without creating a cgroup).
#include <fcntl.h>

#include <cstdio>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/run.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"

namespace cgprof::run {
namespace {

std::string fixed3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string host_cpu_list() { return format_cpu_ranges(own_cpu_affinity()); }

}  // namespace

unsigned host_cpu_count() { return static_cast<unsigned>(own_cpu_affinity().size()); }

std::vector<CgroupFilePreview> preview_cgroup_files(const Limits& l,
                                                    std::vector<std::string>* notices) {
  std::vector<CgroupFilePreview> out;
  if (l.cpuset || l.cores) {
    std::string cpus = cpuset_cpus_value(l, host_cpu_list(), notices);
    if (!cpus.empty())
      out.push_back(
          {"cpuset.cpus", cpus,
           l.cpuset ? "--cpuset" : "the device's " + std::to_string(*l.cores) + " cores"});
  }
  std::string cpu_note = "no CPU quota";
  if (l.cpus)
    cpu_note = "--cpus " + fixed3(*l.cpus) + " host CPUs";
  else if (l.cores)
    cpu_note = std::to_string(*l.cores) + " cores x speed " + fixed3(l.core_speed) + " = " +
               fixed3(*l.quota_cores()) + " host CPUs";
  if (auto q = l.quota_cores(); q && *q > host_cpu_count())
    cpu_note +=
        ", more than this host's " + std::to_string(host_cpu_count()) + ": not limiting here";
  out.push_back({"cpu.max", cgroup_cpu_max(l), cpu_note});
  if (l.memory_high)
    out.push_back({"memory.high", std::to_string(*l.memory_high), format_size(*l.memory_high)});
  out.push_back({"memory.max", l.memory_max ? std::to_string(*l.memory_max) : "max",
                 l.memory_max ? format_size(*l.memory_max) : "no limit"});
  out.push_back({"memory.swap.max", l.swap_max ? std::to_string(*l.swap_max) : "max",
                 !l.swap_max   ? "unlimited"
                 : *l.swap_max ? format_size(*l.swap_max)
                               : "no swap"});
  out.push_back(
      {"pids.max", l.pids_max ? std::to_string(*l.pids_max) : "max", l.pids_max ? "" : "no limit"});
  UniqueFd sys;
  for (const IoDeviceLimit& d : l.io) {
    if (d.device == "rootfs") {
      std::string line = io_max_line(0, 0, d);
      out.push_back({"io.max", "rootfs" + line.substr(line.find(' ')),
                     "rootfs: the disk under the run's root file system, as MAJ:MIN"});
      continue;
    }
    try {
      if (!sys) sys = open_at(AT_FDCWD, "/sys", O_RDONLY | O_DIRECTORY);
      BlockDevice dev = resolve_block_device(d.device, sys.get());
      out.push_back({"io.max", io_max_line(dev.major, dev.minor, d), d.device});
    } catch (const Error& e) {
      std::string line = io_max_line(0, 0, d);
      out.push_back({"io.max", d.device + line.substr(line.find(' ')), e.message()});
    }
  }
  return out;
}

}  // namespace cgprof::run
