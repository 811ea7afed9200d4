// cgroup v1 blkio: throttling per disk (set); bytes and operations per disk (stat).
#include <cstring>

#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"
#include "src/cgroup/v1/controllers.hpp"
#include "src/cgroup/v1/v1_files.hpp"

namespace cgprof {
using namespace v1_detail;

bool parse_blkio_throttle(const char* data, size_t len, BlkioCounter what, IoStat* io) {
  bool ok = true;
  bool complete = for_each_complete_line(data, len, [&](const char* p, const char* line_end) {
    // "MAJ:MIN OP VALUE"; the last line "Total VALUE" has no device.
    uint64_t major = 0, minor = 0, value = 0;
    const char* q = parse_u64(p, line_end, &major);
    if (q == nullptr || q >= line_end || *q != ':') return;
    q = parse_u64(q + 1, line_end, &minor);
    if (q == nullptr || q >= line_end || *q != ' ') {
      ok = false;
      return;
    }
    const char* op = q + 1;
    const char* sp =
        static_cast<const char*>(std::memchr(op, ' ', static_cast<size_t>(line_end - op)));
    if (sp == nullptr || parse_u64(sp + 1, line_end, &value) != line_end) {
      ok = false;
      return;
    }
    std::string_view opname(op, static_cast<size_t>(sp - op));
    bool bytes = what == BlkioCounter::kBytes;
    uint64_t IoDeviceStat::*field = nullptr;
    if (opname == "Read") field = bytes ? &IoDeviceStat::rbytes : &IoDeviceStat::rios;
    if (opname == "Write") field = bytes ? &IoDeviceStat::wbytes : &IoDeviceStat::wios;
    if (opname == "Discard") field = bytes ? &IoDeviceStat::dbytes : &IoDeviceStat::dios;
    if (field == nullptr) return;  // Sync, Async, Total: sums of the others
    IoDeviceStat* dev = nullptr;
    for (uint32_t i = 0; i < io->device_count; ++i)
      if (io->devices[i].major == major && io->devices[i].minor == minor) dev = &io->devices[i];
    if (dev == nullptr && io->device_count < kMaxIoDevices) {
      dev = &io->devices[io->device_count++];
      dev->major = static_cast<uint32_t>(major);
      dev->minor = static_cast<uint32_t>(minor);
    } else if (dev == nullptr && opname == "Read" && bytes) {
      ++io->devices_omitted;
    }
    if (dev) dev->*field += value;
    io->total.*field += value;
  });
  return complete && ok;
}

namespace v1 {

bool blkio_stat(int fd, IoStat* out) {
  *out = IoStat{};
  bool any = false;
  const std::pair<const char*, const char*> kFiles[] = {
      {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"},
      {"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"}};
  for (const auto& [recursive, plain] : kFiles) {
    auto t = try_read_cgroup_file(fd, recursive);
    if (!t) t = try_read_cgroup_file(fd, plain);
    if (!t) continue;
    BlkioCounter what = recursive == kFiles[0].first ? BlkioCounter::kBytes : BlkioCounter::kOps;
    any |= parse_blkio_throttle(t->data(), t->size(), what, out);
  }
  return any;
}

}  // namespace v1

namespace v1_detail {

void blkio_set(int leaf_fd, const Limits& l, const std::string& rootfs, int sys_dirfd,
               LimitsWritten* w) {
  if (l.io.empty()) return;
  for (const DiskIoLimit& d : io_limits_per_disk(l.io, rootfs, sys_dirfd, &w->notices)) {
    const std::string dev = std::to_string(d.major) + ":" + std::to_string(d.minor);
    const std::pair<const char*, const std::optional<uint64_t>*> kKeys[] = {
        {"blkio.throttle.read_bps_device", &d.limit.read_bps},
        {"blkio.throttle.write_bps_device", &d.limit.write_bps},
        {"blkio.throttle.read_iops_device", &d.limit.read_iops},
        {"blkio.throttle.write_iops_device", &d.limit.write_iops}};
    for (const auto& [file, value] : kKeys) {
      if (!*value || **value == 0) continue;
      with_context("io limit on " + d.name,
                   [&] { put_limit(leaf_fd, file, dev + " " + std::to_string(**value), w); });
    }
  }
}

}  // namespace v1_detail
}  // namespace cgprof
