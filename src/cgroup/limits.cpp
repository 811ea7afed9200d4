// What both backends write for a Limits value: the CPU quota, the cpuset, the io limits per disk
// and the block devices behind them (pure where possible, unit-tested).
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <map>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

// The kernel's minimum cpu.max quota (1 ms).
constexpr uint64_t kMinQuotaUs = 1000;

const char* fs_name(unsigned long type) {
  switch (type) {
    case 0x794c7630:
      return "overlay";
    case 0x01021994:
      return "tmpfs";
    case 0x01021997:
      return "9p";
    case 0x9123683e:
      return "btrfs";
    case 0x6969:
      return "nfs";
    case 0x65735546:
      return "fuse";
    case 0x858458f6:
      return "ramfs";
    case 0xef53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x2fc12fc1:
      return "zfs";
    case 0x5346544e:
      return "ntfs";
    default:
      return nullptr;
  }
}

std::string dev_name(unsigned major, unsigned minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

bool parse_maj_min(std::string_view s, unsigned* major, unsigned* minor) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  const char* p = s.data();
  const char* end = p + s.size();
  uint64_t a, b;
  p = parse_u64(p, end, &a);
  if (!p || p == end || *p != ':') return false;
  p = parse_u64(p + 1, end, &b);
  if (!p || p != end || a > 0xfffff || b > 0xfffff) return false;
  *major = static_cast<unsigned>(a);
  *minor = static_cast<unsigned>(b);
  return true;
}

}  // namespace

std::vector<std::string> controllers_for(const Limits& l) {
  std::vector<std::string> c;
  if (l.quota_cores()) c.push_back("cpu");
  if (l.cpuset) c.push_back("cpuset");
  if (l.memory_max || l.memory_high || l.swap_max) c.push_back("memory");
  if (!l.io.empty()) c.push_back("io");
  if (l.pids_max) c.push_back("pids");
  return c;
}

std::string cgroup_cpu_max(const Limits& l) {
  std::optional<double> q = l.quota_cores();
  std::string period = std::to_string(l.cpu_period_us);
  if (!q) return "max " + period;
  double us = std::llround(*q * static_cast<double>(l.cpu_period_us));
  uint64_t quota = us < kMinQuotaUs ? kMinQuotaUs : static_cast<uint64_t>(us);
  return std::to_string(quota) + " " + period;
}

std::string cpuset_cpus_value(const Limits& l, std::string_view parent_effective,
                              std::vector<std::string>* notices) {
  std::vector<unsigned> avail = parse_cpu_ranges(parent_effective);
  if (l.cpuset) {
    std::vector<unsigned> want =
        with_context("--cpuset", [&] { return parse_cpu_ranges(*l.cpuset); });
    if (want.empty()) throw Error("--cpuset: the CPU list is empty");
    for (unsigned c : want) {
      if (std::find(avail.begin(), avail.end(), c) == avail.end()) {
        throw Error("--cpuset " + *l.cpuset + ": CPU " + std::to_string(c) +
                    " is not available here (available: " + format_cpu_ranges(avail) + ")");
      }
    }
    return format_cpu_ranges(want);
  }
  if (!l.cores || *l.cores == 0) return "";
  if (*l.cores > avail.size()) {
    if (notices) {
      notices->push_back("the device has " + std::to_string(*l.cores) + " cores but only " +
                         std::to_string(avail.size()) + " host CPUs are available (" +
                         format_cpu_ranges(avail) +
                         "): the workload runs on all of them; the CPU quota still applies");
    }
    return format_cpu_ranges(avail);
  }
  return format_cpu_ranges(std::vector<unsigned>(avail.begin(), avail.begin() + *l.cores));
}

std::string io_max_line(unsigned major, unsigned minor, const IoDeviceLimit& lim) {
  std::string s = dev_name(major, minor);
  auto add = [&](const char* key, const std::optional<uint64_t>& v) {
    if (v && *v > 0) s += std::string(" ") + key + "=" + std::to_string(*v);
  };
  add("rbps", lim.read_bps);
  add("wbps", lim.write_bps);
  add("riops", lim.read_iops);
  add("wiops", lim.write_iops);
  return s;
}

std::pair<unsigned, unsigned> whole_disk(unsigned major, unsigned minor, int sys_dirfd) {
  std::string dir = "dev/block/" + dev_name(major, minor);
  if (!file_exists_at(sys_dirfd, (dir + "/partition").c_str())) return {major, minor};
  // sysfs puts a partition inside its disk's directory; ".." after the symlink is the disk.
  std::string text = read_file_at(sys_dirfd, dir + "/../dev");
  unsigned ma, mi;
  if (!parse_maj_min(text, &ma, &mi))
    throw Error("/sys/" + dir + "/../dev: expected MAJ:MIN, got \"" + text + "\"");
  return {ma, mi};
}

std::optional<BlockDevice> block_device_of_path(const std::string& path, int sys_dirfd,
                                                std::string* why_not) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw_errno("stat", path);
  unsigned ma = ::major(st.st_dev), mi = ::minor(st.st_dev);
  struct statfs sf;
  const char* fs =
      ::statfs(path.c_str(), &sf) == 0 ? fs_name(static_cast<unsigned long>(sf.f_type)) : nullptr;
  std::string fs_text = fs ? fs : "a file system";
  // Anonymous devices (major 0) are what overlay, tmpfs, 9p, fuse and btrfs report.
  if (ma == 0 || !file_exists_at(sys_dirfd, ("dev/block/" + dev_name(ma, mi)).c_str())) {
    if (why_not) {
      *why_not = path + " is on " + fs_text + " (device " + dev_name(ma, mi) +
                 ") with no block device behind it, so io limits on the rootfs cannot apply; name "
                 "the disk instead, e.g. --device-read-bps /dev/sda:RATE";
    }
    return std::nullopt;
  }
  auto [dma, dmi] = whole_disk(ma, mi, sys_dirfd);
  return BlockDevice{dma, dmi,
                     "rootfs " + path + " on " + fs_text + " (" + dev_name(dma, dmi) + ")"};
}

BlockDevice resolve_block_device(const std::string& name, int sys_dirfd) {
  unsigned ma, mi;
  if (!parse_maj_min(name, &ma, &mi)) {
    struct stat st;
    if (::stat(name.c_str(), &st) != 0) {
      throw Error::from_errno("io limit: block device", name, errno)
          .context("name a block device such as /dev/sda or MAJ:MIN");
    }
    if (!S_ISBLK(st.st_mode)) {
      throw Error("io limit: " + name +
                  " is not a block device; name one such as /dev/sda or "
                  "MAJ:MIN");
    }
    ma = ::major(st.st_rdev);
    mi = ::minor(st.st_rdev);
  }
  auto [dma, dmi] = whole_disk(ma, mi, sys_dirfd);
  return BlockDevice{dma, dmi, name};
}

std::vector<DiskIoLimit> io_limits_per_disk(const std::vector<IoDeviceLimit>& io,
                                            const std::string& rootfs, int sys_dirfd,
                                            std::vector<std::string>* notices) {
  // One entry per disk, merging everything the profile and the user said about it.
  std::map<std::pair<unsigned, unsigned>, std::pair<IoDeviceLimit, std::string>> per_disk;
  for (const IoDeviceLimit& lim : io) {
    std::optional<BlockDevice> dev;
    if (lim.device == "rootfs") {
      std::string why;
      dev = block_device_of_path(rootfs, sys_dirfd, &why);
      if (!dev) {
        notices->push_back(why);
        continue;
      }
    } else {
      dev = resolve_block_device(lim.device, sys_dirfd);
    }
    auto& [merged, name] = per_disk[{dev->major, dev->minor}];
    name = dev->name;
    auto take = [](std::optional<uint64_t>& dst, const std::optional<uint64_t>& src) {
      if (src) dst = src;
    };
    take(merged.read_bps, lim.read_bps);
    take(merged.write_bps, lim.write_bps);
    take(merged.read_iops, lim.read_iops);
    take(merged.write_iops, lim.write_iops);
  }
  std::vector<DiskIoLimit> out;
  for (const auto& [dev, entry] : per_disk)
    out.push_back({dev.first, dev.second, entry.first, entry.second});
  return out;
}

}  // namespace cgprof
