// CLI overrides on top of a device profile, spelled and interpreted as docker does.
#include <cctype>
#include <cmath>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

[[noreturn]] void bad_option(std::string_view option, std::string_view value,
                             std::string_view expected) {
  std::string msg(option);
  msg += ": expected ";
  msg += expected;
  msg += ", got \"";
  msg += value;
  msg += '"';
  throw Error(std::move(msg));
}

bool means_unlimited(std::string_view v) {
  return v == "max" || v == "-1";
}

bool valid_io_device(std::string_view dev) {
  if (dev == "rootfs") return true;
  if (dev.size() > 5 && dev.substr(0, 5) == "/dev/") return true;
  size_t colon = dev.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == dev.size()) return false;
  for (size_t i = 0; i < dev.size(); ++i)
    if (i != colon && !std::isdigit(static_cast<unsigned char>(dev[i]))) return false;
  return true;
}

IoDeviceLimit& io_entry(Limits& l, const std::string& dev) {
  for (IoDeviceLimit& d : l.io)
    if (d.device == dev) return d;
  IoDeviceLimit d;
  d.device = dev;
  l.io.push_back(d);
  return l.io.back();
}

// --device-read-bps DEV:RATE and friends. A value of "max" removes that limit.
void apply_io(Limits& l, std::string_view option, const std::vector<std::string>& values,
              std::optional<uint64_t> IoDeviceLimit::*member, bool is_rate) {
  const char* expected = is_rate ? "DEVICE:RATE like /dev/sda:10mb or rootfs:45MB/s"
                                 : "DEVICE:IOPS like /dev/sda:1000 or rootfs:500";
  for (const std::string& v : values) {
    size_t colon = v.rfind(':');
    if (colon == std::string::npos) bad_option(option, v, expected);
    std::string dev = v.substr(0, colon);
    std::string_view amount = std::string_view(v).substr(colon + 1);
    if (!valid_io_device(dev)) bad_option(option, v, expected);
    std::optional<uint64_t> limit;
    if (amount != "max") {
      if (is_rate) {
        limit = parse_rate(amount);
      } else {
        uint64_t n = 0;
        const char* end = amount.data() + amount.size();
        if (parse_u64(amount.data(), end, &n) == end) limit = n;
      }
      if (!limit || *limit == 0) bad_option(option, v, expected);
    }
    io_entry(l, dev).*member = limit;
  }
  // Entries left with no limit at all would only write an empty io.max line.
  std::erase_if(l.io, [](const IoDeviceLimit& d) {
    return !d.read_bps && !d.write_bps && !d.read_iops && !d.write_iops;
  });
}

}  // namespace

bool LimitOverrides::empty() const {
  return !cpus && !cpuset && !cpu_period && !memory && !memory_swap && !pids_limit &&
         device_read_bps.empty() && device_write_bps.empty() && device_read_iops.empty() &&
         device_write_iops.empty();
}

Limits merge_overrides(const Limits& profile, const LimitOverrides& o) {
  Limits l = profile;

  if (o.cpu_period) {
    // docker's --cpu-period is microseconds; a unit ("50ms") is accepted too.
    auto us = parse_duration_us(*o.cpu_period);
    if (!us || *us < kMinCpuPeriodUs || *us > kMaxCpuPeriodUs)
      bad_option("--cpu-period", *o.cpu_period,
                 "a period from 1000 to 1000000 microseconds (or \"1ms\" to \"1s\")");
    l.cpu_period_us = *us;
  }
  if (o.cpus) {
    auto cpus = parse_decimal(*o.cpus);
    if (!cpus || *cpus <= 0 || *cpus > kMaxCores)
      bad_option("--cpus", *o.cpus, "a positive number of host CPUs like 1.5");
    l.cpus = *cpus;
  }
  if (auto q = l.quota_cores();
      (o.cpus || o.cpu_period) && q && *q * static_cast<double>(l.cpu_period_us) < kMinCpuQuotaUs) {
    const bool blame_cpus = o.cpus.has_value();
    bad_option(blame_cpus ? "--cpus" : "--cpu-period", blame_cpus ? *o.cpus : *o.cpu_period,
               "a value giving at least 1000 us of CPU time per period (the kernel's minimum "
               "quota)");
  }
  if (o.cpuset) {
    auto list = try_parse_cpu_ranges(*o.cpuset);
    if (!list || list->empty())
      bad_option("--cpuset-cpus", *o.cpuset,
                 "a host CPU list like 0-3 or 0,2 (CPUs 0 to " + std::to_string(kMaxCpuId) + ")");
    l.cpuset = format_cpu_ranges(*list);
  }

  if (o.memory) {
    if (means_unlimited(*o.memory)) {
      l.memory_max.reset();
    } else {
      auto bytes = parse_size(*o.memory);
      if (!bytes || *bytes < kMinMemoryBytes)
        bad_option("--memory", *o.memory, "a size of at least 4m like 512m or 2GiB (at most 8 EiB), or max");
      l.memory_max = *bytes;
    }
    // memory.high only means something below memory.max.
    if (l.memory_high && l.memory_max && *l.memory_high >= *l.memory_max) l.memory_high.reset();
  }
  if (o.memory_swap) {
    if (means_unlimited(*o.memory_swap)) {
      l.swap_max.reset();
    } else {
      auto total = parse_size(*o.memory_swap);
      if (!total)
        bad_option("--memory-swap", *o.memory_swap, "a size like 2g (memory plus swap) or -1");
      if (!l.memory_max)
        throw Error(
            "--memory-swap: needs a memory limit (--memory or the profile's memory.limit), "
            "since it is memory plus swap");
      if (*total < *l.memory_max)
        bad_option("--memory-swap", *o.memory_swap,
                   "memory plus swap, at least the memory limit of " + format_size(*l.memory_max));
      l.swap_max = *total - *l.memory_max;
    }
  }

  if (o.pids_limit) {
    if (means_unlimited(*o.pids_limit) || *o.pids_limit == "0") {
      l.pids_max.reset();  // docker: 0 and -1 both mean unlimited
    } else {
      uint64_t n = 0;
      const char* end = o.pids_limit->data() + o.pids_limit->size();
      if (parse_u64(o.pids_limit->data(), end, &n) != end)
        bad_option("--pids-limit", *o.pids_limit, "a process count like 256, or -1 for no limit");
      l.pids_max = n;
    }
  }

  apply_io(l, "--device-read-bps", o.device_read_bps, &IoDeviceLimit::read_bps, true);
  apply_io(l, "--device-write-bps", o.device_write_bps, &IoDeviceLimit::write_bps, true);
  apply_io(l, "--device-read-iops", o.device_read_iops, &IoDeviceLimit::read_iops, false);
  apply_io(l, "--device-write-iops", o.device_write_iops, &IoDeviceLimit::write_iops, false);
  return l;
}

DeviceProfile resolve_device(const LimitOverrides& overrides) {
  DeviceProfile p = find_device_profile(overrides.device.empty() ? "host" : overrides.device);
  p.limits = merge_overrides(p.limits, overrides);
  return p;
}

}  // namespace cgprof
