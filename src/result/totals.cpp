// Totals of a run from exact counter deltas; samples only supply peaks over windows and
// time-weighted averages, which no kernel counter gives.
#include <algorithm>
#include <cstdio>

#include "cgprof/result.hpp"

namespace cgprof {
namespace {

// Counters only grow; a smaller end value means a reset (recreated cgroup): count nothing.
uint64_t delta(uint64_t start, uint64_t end) {
  return end >= start ? end - start : 0;
}

std::string dev_name(const IoDeviceStat& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u:%u", d.major, d.minor);
  return buf;
}

}  // namespace

RunTotals compute_totals(const CounterSnapshot& start, const CounterSnapshot& end,
                         const SampleSummary& samples, double wall_seconds,
                         std::optional<double> quota_cores) {
  RunTotals t;
  if (quota_cores && *quota_cores <= 0) quota_cores.reset();

  // CPU
  if (end.has_cpu) {
    t.cpu_user_seconds = delta(start.cpu.user_usec, end.cpu.user_usec) / 1e6;
    t.cpu_system_seconds = delta(start.cpu.system_usec, end.cpu.system_usec) / 1e6;
    t.cpu_total_seconds = delta(start.cpu.usage_usec, end.cpu.usage_usec) / 1e6;
    t.nr_periods = delta(start.cpu.nr_periods, end.cpu.nr_periods);
    t.nr_throttled = delta(start.cpu.nr_throttled, end.cpu.nr_throttled);
    t.throttled_seconds = delta(start.cpu.throttled_usec, end.cpu.throttled_usec) / 1e6;
    t.throttled_percent_of_periods =
        t.nr_periods ? 100.0 * static_cast<double>(t.nr_throttled) / t.nr_periods : 0.0;
  }
  t.avg_cores = wall_seconds > 0 ? t.cpu_total_seconds / wall_seconds : 0.0;
  // Without samples over the run, the average is the best peak estimate we have.
  t.peak_cores_100ms = samples.samples >= 2 ? samples.peak_cores_100ms : t.avg_cores;
  if (quota_cores) {
    t.avg_quota_percent = t.avg_cores / *quota_cores * 100.0;
    t.peak_quota_percent = t.peak_cores_100ms / *quota_cores * 100.0;
  }

  // Memory
  if (end.memory_peak) {
    t.memory_peak_bytes = *end.memory_peak;
    t.memory_peak_source = end.memory_peak_file;
  } else {
    t.memory_peak_bytes = samples.memory_max_bytes;
    if (end.memory_current)
      t.memory_peak_bytes = std::max(t.memory_peak_bytes, *end.memory_current);
    t.memory_peak_source = "samples";
  }
  if (samples.samples > 0 && samples.memory_max_bytes > 0) {
    t.memory_avg_bytes = samples.memory_avg_bytes;
  } else if (start.memory_current && end.memory_current) {
    t.memory_avg_bytes = (static_cast<double>(*start.memory_current) + *end.memory_current) / 2;
  }
  t.anon_peak_bytes = std::max(samples.anon_max_bytes, end.memory.anon);
  t.file_peak_bytes = std::max(samples.file_max_bytes, end.memory.file);
  if (end.has_memory_stat) {
    t.pgfault = delta(start.memory.pgfault, end.memory.pgfault);
    t.pgmajfault = delta(start.memory.pgmajfault, end.memory.pgmajfault);
  }
  if (end.has_memory_events) {
    t.memory_events.low = delta(start.events.low, end.events.low);
    t.memory_events.high = delta(start.events.high, end.events.high);
    t.memory_events.max = delta(start.events.max, end.events.max);
    t.memory_events.oom = delta(start.events.oom, end.events.oom);
    t.memory_events.oom_kill = delta(start.events.oom_kill, end.events.oom_kill);
    t.memory_events.oom_group_kill = delta(start.events.oom_group_kill, end.events.oom_group_kill);
    t.memory_events.present = end.events.present;
  }

  // I/O: totals over all device lines; per device matched by MAJ:MIN.
  if (end.has_io) {
    t.io_read_bytes = delta(start.io.total.rbytes, end.io.total.rbytes);
    t.io_write_bytes = delta(start.io.total.wbytes, end.io.total.wbytes);
    t.io_read_ops = delta(start.io.total.rios, end.io.total.rios);
    t.io_write_ops = delta(start.io.total.wios, end.io.total.wios);
    t.io_discard_bytes = delta(start.io.total.dbytes, end.io.total.dbytes);
    t.io_discard_ops = delta(start.io.total.dios, end.io.total.dios);
    for (unsigned i = 0; i < end.io.device_count; ++i) {
      const IoDeviceStat& e = end.io.devices[i];
      IoDeviceStat s;  // zero if the device had no line at the start
      for (unsigned j = 0; j < start.io.device_count; ++j)
        if (start.io.devices[j].major == e.major && start.io.devices[j].minor == e.minor)
          s = start.io.devices[j];
      IoDeviceTotals d;
      d.device = dev_name(e);
      d.read_bytes = delta(s.rbytes, e.rbytes);
      d.write_bytes = delta(s.wbytes, e.wbytes);
      d.read_ops = delta(s.rios, e.rios);
      d.write_ops = delta(s.wios, e.wios);
      d.discard_bytes = delta(s.dbytes, e.dbytes);
      d.discard_ops = delta(s.dios, e.dios);
      t.io_devices.push_back(d);
    }
  }

  // Network: the namespace's counters from the snapshots; when the end snapshot could not read
  // them (the namespace's processes are gone), from the sampler's open file, which still can.
  // A start without net (namespace not up yet) counts from 0.
  const NetDevStat zero;
  const NetDevStat* net_a = nullptr;
  const NetDevStat* net_b = nullptr;
  if (end.has_net) {
    net_a = start.has_net ? &start.net : &zero;
    net_b = &end.net;
  } else if (samples.net_measured) {
    net_a = &samples.net_start;
    net_b = &samples.net_end;
  }
  if (net_b != nullptr) {
    t.net_measured = true;
    t.net_rx_bytes = delta(net_a->rx_bytes, net_b->rx_bytes);
    t.net_tx_bytes = delta(net_a->tx_bytes, net_b->tx_bytes);
    t.net_rx_packets = delta(net_a->rx_packets, net_b->rx_packets);
    t.net_tx_packets = delta(net_a->tx_packets, net_b->tx_packets);
    t.net_lo_rx_bytes = delta(net_a->lo_rx_bytes, net_b->lo_rx_bytes);
    t.net_lo_tx_bytes = delta(net_a->lo_tx_bytes, net_b->lo_tx_bytes);
  }

  // Processes
  if (end.pids_peak) {
    t.pids_peak = *end.pids_peak;
  } else {
    t.pids_peak = samples.pids_max;
    if (start.pids_current) t.pids_peak = std::max(t.pids_peak, *start.pids_current);
    if (end.pids_current) t.pids_peak = std::max(t.pids_peak, *end.pids_current);
  }

  // Pressure
  if (start.has_psi && end.has_psi) {
    t.psi_measured = true;
    auto stall = [](const Pressure& a, const Pressure& b) {
      PressureTotals p;
      p.some_seconds = delta(a.some.total_usec, b.some.total_usec) / 1e6;
      p.full_seconds = delta(a.full.total_usec, b.full.total_usec) / 1e6;
      return p;
    };
    t.cpu_pressure = stall(start.cpu_pressure, end.cpu_pressure);
    t.memory_pressure = stall(start.memory_pressure, end.memory_pressure);
    t.io_pressure = stall(start.io_pressure, end.io_pressure);
  }
  return t;
}

}  // namespace cgprof
