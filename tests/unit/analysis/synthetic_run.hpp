// A synthetic run for writer tests: every counter follows a known formula, so derived rates and
// gauges have exact expected values.
#pragma once

#include <cstdint>
#include <string>

#include "cgprof/report.hpp"

namespace cgprof::fixtures {

// `n` samples every `period_ns`, starting `start_offset_ns` after the origin:
//   cpu usage at `cores` cores, throttled 0.25 s/s in 25 % of the periods, memory.current = 1 MiB + 1 KiB·i,
//   anon = 3/4 of it, file = 1/4, read 1 MB/s, write 2 MB/s, cpu some 10 %, memory some 5 %,
//   io some 1 %, pids = 3.
inline report::ReportRun synthetic_run(const std::string& name, unsigned n = 101,
                                       uint64_t period_ns = 10'000'000, double cores = 1.5,
                                       uint64_t origin_ns = 5'000'000'000ull,
                                       uint64_t start_offset_ns = 1'000'000) {
  report::ReportRun run;
  run.name = name;
  run.start_monotonic_ns = origin_ns;
  run.start_realtime_ns = 1'700'000'000'000'000'000ull;
  run.result.run_id = name + "-id";
  run.result.device_name = "rpi4";
  run.result.device_source = "configs/devices/rpi4.toml";
  run.result.quota_cores = 2.0;
  run.result.limits_written = {{"cpu.max", "200000 100000"}, {"memory.max", "4194304"}};
  run.result.labels = {{"model", name}};
  run.result.command = {"python3", "infer.py"};
  run.result.wall_seconds = n * period_ns / 1e9;
  run.summary_text = "wall time  " + std::to_string(run.result.wall_seconds) + " s\n";
  for (unsigned i = 0; i < n; ++i) {
    Sample s{};
    const uint64_t t = origin_ns + start_offset_ns + i * period_ns;
    const double el_us = static_cast<double>(i * period_ns) / 1e3;
    s.t_ns = t;
    s.valid = kFileCpuStat | kFileMemoryCurrent | kFileMemoryStat | kFileIoStat | kFilePidsCurrent |
              kFileCpuPressure | kFileMemoryPressure | kFileIoPressure;
    s.cpu_usage_usec = static_cast<uint64_t>(el_us * cores);
    s.cpu_throttled_usec = static_cast<uint64_t>(el_us * 0.25);
    s.cpu_nr_periods = 4ull * i;  // 25 % of the periods throttled
    s.cpu_nr_throttled = i;
    s.memory_current = (1u << 20) + 1024ull * i;
    s.memory_anon = s.memory_current / 4 * 3;
    s.memory_file = s.memory_current / 4;
    s.io_rbytes = static_cast<uint64_t>(el_us * 1.0);  // 1 B/µs = 1 MB/s
    s.io_wbytes = static_cast<uint64_t>(el_us * 2.0);
    s.cpu_some_usec = static_cast<uint64_t>(el_us * 0.10);
    s.memory_some_usec = static_cast<uint64_t>(el_us * 0.05);
    s.io_some_usec = static_cast<uint64_t>(el_us * 0.01);
    s.pids_current = 3;
    run.samples.push_back(s);
  }
  return run;
}

}  // namespace cgprof::fixtures
