// What a Limits value becomes in cgroup v2 files, for `devices show` and the cgroup module.
#include <cmath>
#include <cstdio>

#include "cgprof/device.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

std::string number_or_max(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : "max";
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string cpu_max_value(const Limits& l) {
  std::string period = std::to_string(l.cpu_period_us);
  auto q = l.quota_cores();
  if (!q) return "max " + period;
  auto quota_us = std::llround(*q * static_cast<double>(l.cpu_period_us));
  if (quota_us < static_cast<long long>(kMinCpuQuotaUs)) quota_us = kMinCpuQuotaUs;
  return std::to_string(quota_us) + " " + period;
}

std::vector<CgroupFileValue> cgroup_files(const Limits& l, unsigned host_cpus) {
  std::vector<CgroupFileValue> out;
  if (l.cpuset) {
    out.push_back({"cpuset.cpus", *l.cpuset, "explicit host CPU list"});
  } else if (l.cores && host_cpus > 0 && *l.cores < host_cpus) {
    std::string cpus = *l.cores == 1 ? "0" : "0-" + std::to_string(*l.cores - 1);
    out.push_back({"cpuset.cpus", cpus,
                   "the device's " + std::to_string(*l.cores) + " cores on a " +
                       std::to_string(host_cpus) + "-CPU host"});
  }

  std::string cpu_note;
  if (l.cpus)
    cpu_note = "--cpus " + fixed(*l.cpus, 2) + " host cores";
  else if (l.cores)
    cpu_note = std::to_string(*l.cores) + " cores x speed " + fixed(l.core_speed, 3) + " = " +
               fixed(*l.quota_cores(), 3) + " host cores";
  else
    cpu_note = "no CPU quota";
  if (auto q = l.quota_cores(); q && host_cpus > 0 && *q > host_cpus)
    cpu_note += "; more than the host's " + std::to_string(host_cpus) + " CPUs, so not limiting";
  out.push_back({"cpu.max", cpu_max_value(l), cpu_note});

  out.push_back({"memory.max", number_or_max(l.memory_max),
                 l.memory_max ? format_size(*l.memory_max) : "no memory limit"});
  if (l.memory_high)
    out.push_back({"memory.high", std::to_string(*l.memory_high),
                   format_size(*l.memory_high) + ": reclaim and throttle above this"});
  out.push_back({"memory.swap.max", number_or_max(l.swap_max),
                 l.swap_max ? (*l.swap_max ? format_size(*l.swap_max) : "no swap") : "unlimited"});
  out.push_back({"pids.max", number_or_max(l.pids_max), l.pids_max ? "" : "no limit"});

  for (const IoDeviceLimit& d : l.io) {
    std::string v = d.device;
    if (d.read_bps) v += " rbps=" + std::to_string(*d.read_bps);
    if (d.write_bps) v += " wbps=" + std::to_string(*d.write_bps);
    if (d.read_iops) v += " riops=" + std::to_string(*d.read_iops);
    if (d.write_iops) v += " wiops=" + std::to_string(*d.write_iops);
    out.push_back({"io.max", v,
                   d.device == "rootfs" ? "\"rootfs\" becomes MAJ:MIN of the device backing the "
                                          "run's root filesystem"
                                        : ""});
  }
  return out;
}

}  // namespace cgprof
