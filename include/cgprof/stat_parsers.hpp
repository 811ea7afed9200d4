// Parsers for cgroup v2 stat files and /proc/PID/net/dev: pure functions from bytes to a
// fixed struct. No allocation, no path, no exceptions: the sampler calls them at 10 kHz+.
//
// Common rules (all parsers):
//  - Only lines terminated by '\n' are parsed. The kernel always terminates its lines, so an
//    unterminated last line means the read was cut short (buffer too small); it is ignored and
//    the parser returns false.
//  - Unknown keys and unknown devices' extra fields are ignored (newer kernels add keys).
//  - A known key whose value is not a decimal integer makes the parser return false; the
//    other fields are still filled. Values that overflow saturate at UINT64_MAX.
//  - Fields never seen stay 0 and their bit in `present` stays clear.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cgprof {

// cpu.stat
struct CpuStat {
  uint64_t usage_usec = 0, user_usec = 0, system_usec = 0;
  uint64_t nr_periods = 0, nr_throttled = 0, throttled_usec = 0;
  uint32_t present = 0;  // bit i set if the i-th field above was found
};
bool parse_cpu_stat(const char* data, size_t len, CpuStat* out);

// memory.stat (bytes for sizes, counts for faults)
struct MemoryStat {
  uint64_t anon = 0, file = 0, kernel = 0, shmem = 0, pgfault = 0, pgmajfault = 0;
  uint32_t present = 0;
};
bool parse_memory_stat(const char* data, size_t len, MemoryStat* out);

// memory.events (counts)
struct MemoryEvents {
  uint64_t low = 0, high = 0, max = 0, oom = 0, oom_kill = 0, oom_group_kill = 0;
  uint32_t present = 0;
};
bool parse_memory_events(const char* data, size_t len, MemoryEvents* out);

// io.stat: one line per device, "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..".
inline constexpr unsigned kMaxIoDevices = 8;
struct IoDeviceStat {
  uint32_t major = 0, minor = 0;
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0, dbytes = 0, dios = 0;
};
struct IoStat {
  IoDeviceStat devices[kMaxIoDevices];
  uint32_t device_count = 0;     // entries used in devices[]
  uint32_t devices_omitted = 0;  // devices beyond kMaxIoDevices (still counted in `total`)
  IoDeviceStat total;            // sum over every device line (major = minor = 0)
};
bool parse_io_stat(const char* data, size_t len, IoStat* out);

// cpu.pressure / memory.pressure / io.pressure. Averages are percentages in hundredths
// ("avg10=1.23" -> 123), kept as integers so the hot path never parses floating point.
struct PressureLine {
  uint32_t avg10_centi = 0, avg60_centi = 0, avg300_centi = 0;
  uint64_t total_usec = 0;
};
struct Pressure {
  PressureLine some, full;
  uint32_t present = 0;  // bit 0: "some" line seen, bit 1: "full" line seen
};
bool parse_pressure(const char* data, size_t len, Pressure* out);

// Single-value files: memory.current, memory.peak, pids.current, memory.max ("max" ->
// UINT64_MAX). Leading/trailing whitespace allowed; anything else is an error.
bool parse_single_value(const char* data, size_t len, uint64_t* out);

// /proc/PID/net/dev: sums over interfaces other than "lo", and "lo" separately.
struct NetDevStat {
  uint64_t rx_bytes = 0, rx_packets = 0, tx_bytes = 0, tx_packets = 0;  // non-lo
  uint64_t lo_rx_bytes = 0, lo_rx_packets = 0, lo_tx_bytes = 0, lo_tx_packets = 0;
  uint32_t interfaces = 0;  // interface lines parsed, lo included
};
bool parse_net_dev(const char* data, size_t len, NetDevStat* out);

}  // namespace cgprof
