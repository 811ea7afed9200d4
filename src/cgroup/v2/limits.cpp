// Writing a Limits value into a cgroup v2 leaf (cpuset, cpu.max, memory, pids, io.max).
#include <sys/stat.h>

#include <algorithm>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"

namespace cgprof {

LimitsWritten write_limits(int leaf_fd, int parent_fd, const Limits& l, const std::string& rootfs,
                           int sys_dirfd) {
  LimitsWritten w;
  std::vector<std::string> ctl = split_words(read_cgroup_file(leaf_fd, "cgroup.controllers"));
  auto enabled = [&](const char* c) { return std::find(ctl.begin(), ctl.end(), c) != ctl.end(); };
  w.controllers = ctl;
  auto put = [&](const std::string& file, const std::string& value) {
    with_context("writing the limits", [&] { write_cgroup_file(leaf_fd, file, value); });
    w.files.emplace_back(file, value);
  };

  // cpuset first: a CPU quota is easier to read once we know the CPUs it spreads over.
  if (l.cpuset || l.cores) {
    if (enabled("cpuset")) {
      std::string avail = read_cgroup_file(parent_fd, "cpuset.cpus.effective");
      std::string cpus = cpuset_cpus_value(l, avail, &w.notices);
      if (!cpus.empty()) {
        std::string mems = read_cgroup_file(parent_fd, "cpuset.mems.effective");
        while (!mems.empty() && mems.back() == '\n') mems.pop_back();
        put("cpuset.cpus", cpus);
        if (!mems.empty()) put("cpuset.mems", mems);
        w.cpuset_cpus = cpus;
      }
    } else {
      w.notices.push_back("the cpuset controller is unavailable: the device's " +
                          std::to_string(l.cores.value_or(0)) +
                          " cores are not pinned to host CPUs; the CPU quota still applies");
    }
  }
  if (enabled("cpu")) {
    std::string v = cgroup_cpu_max(l);
    put("cpu.max", v);
    if (l.quota_cores()) {
      w.cpu_quota_cores =
          static_cast<double>(std::stoull(v)) / static_cast<double>(l.cpu_period_us);
    }
  }
  if (enabled("memory")) {
    if (l.memory_high) put("memory.high", std::to_string(*l.memory_high));
    put("memory.max", l.memory_max ? std::to_string(*l.memory_max) : "max");
    if (file_exists_at(leaf_fd, "memory.swap.max")) {
      put("memory.swap.max", l.swap_max ? std::to_string(*l.swap_max) : "max");
    } else if (l.swap_max) {
      w.notices.push_back(
          "memory.swap.max is missing (kernel without swap accounting): the "
          "workload may use swap beyond memory.max");
    }
  }
  if (enabled("pids")) put("pids.max", l.pids_max ? std::to_string(*l.pids_max) : "max");
  if (!l.io.empty() && enabled("io")) {
    for (const DiskIoLimit& d : io_limits_per_disk(l.io, rootfs, sys_dirfd, &w.notices)) {
      std::string line = io_max_line(d.major, d.minor, d.limit);
      if (line.find('=') == std::string::npos) continue;
      with_context("io limit on " + d.name, [&] { put("io.max", line); });
    }
  }
  return w;
}

}  // namespace cgprof
