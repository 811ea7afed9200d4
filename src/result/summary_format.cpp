// The terminal summary at the end of a run and the one-line live status during it.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>

#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/units.hpp"

namespace cgprof {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// "12.3 s", "450 ms", "80 us": seconds in the unit a human reads fastest.
std::string seconds(double s) {
  if (s == 0) return "0 s";
  if (s >= 1) return fmt("%.2f s", s);
  if (s >= 1e-3) return fmt("%.1f ms", s * 1e3);
  return fmt("%.1f us", s * 1e6);
}

std::string nanos(uint64_t ns) {
  return seconds(static_cast<double>(ns) / 1e9);
}

std::string count(uint64_t v) {
  return std::to_string(v);
}

std::string size(double bytes) {
  return format_size(static_cast<uint64_t>(bytes < 0 ? 0 : bytes));
}

class Table {
 public:
  // Values come from the command line, labels and files: control characters are escaped so they
  // cannot break the table or drive the terminal.
  void row(const std::string& label, const std::string& value) {
    rows_.push_back({label, escape_control(value)});
  }
  std::string str() const {
    size_t w = 0;
    for (const auto& r : rows_) w = std::max(w, r.first.size());
    std::string out;
    for (const auto& r : rows_) {
      out += "  " + r.first + std::string(w - r.first.size() + 2, ' ') + r.second + "\n";
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

}  // namespace

std::string format_enforcement(const RunResult& r) {
  std::map<std::string, std::string> by;  // "emulated" -> "cpu, memory"
  bool emulated = false;
  for (const Fidelity& f : r.fidelity) {
    if (f.kind != "limit") continue;
    emulated |= f.by == "emulated";
    std::string& names = by[f.by];
    names += (names.empty() ? "" : ", ") + f.name;
  }
  if (!emulated) return "";
  std::string s = "emulated without a cgroup: " + by["emulated"];
  for (const auto& [who, names] : by)
    if (who != "emulated") s += "; " + who + ": " + names;
  return s + " (run.json cgroup.limits and cgroup.metrics say how)";
}

namespace {

std::string exit_text(const ExitInfo& e) {
  std::string s;
  if (e.signal) {
    s = "killed by signal " + std::to_string(*e.signal);
  } else if (e.exit_code) {
    s = "exited " + std::to_string(*e.exit_code);
  } else {
    s = "status " + std::to_string(e.status);
  }
  s += " (status " + std::to_string(e.status) + ")";
  if (e.oom_killed) s += ", OOM-killed";
  if (e.interrupted) s += ", interrupted";
  if (e.killed_by == "stop_timeout") s += ", killed after the stop timeout";
  if (e.killed_by == "second_signal") s += ", killed at the second signal";
  if (!e.error.empty()) s += ", cgprof error: " + e.error;
  return s;
}

}  // namespace

std::string format_summary(const RunResult& r) {
  const RunTotals& t = r.totals;
  Table tab;
  std::string cmd;
  for (const auto& a : r.command) cmd += (cmd.empty() ? "" : " ") + a;
  tab.row("run", r.run_id + (cmd.empty() ? "" : "  " + cmd));
  std::string dev = r.device_name.empty() ? "(no profile)" : r.device_name;
  if (r.quota_cores) dev += fmt(", quota %.2f cores", *r.quota_cores);
  // "memory.max", or the emulated backend's "memory.max (emulated: watchdog)".
  auto mem_limit = r.limits_written.lower_bound("memory.max");
  if (mem_limit != r.limits_written.end() && mem_limit->first.rfind("memory.max", 0) != 0)
    mem_limit = r.limits_written.end();
  if (mem_limit != r.limits_written.end() && mem_limit->second != "max") {
    uint64_t v = 0;
    const std::string& s = mem_limit->second;
    if (parse_u64(s.data(), s.data() + s.size(), &v)) dev += ", memory " + format_size(v);
  }
  tab.row("device", dev);
  std::string enforcement = format_enforcement(r);
  if (!enforcement.empty()) tab.row("limits", enforcement);
  for (const std::string& n : r.notices) tab.row("notice", n);
  tab.row("exit", exit_text(r.exit) + (r.exit.oom_killed && !enforcement.empty() ? " (emulated)" : ""));
  tab.row("wall time", seconds(r.wall_seconds));
  std::string cpu = seconds(t.cpu_total_seconds) + " (user " + seconds(t.cpu_user_seconds) +
                    ", system " + seconds(t.cpu_system_seconds) + ")";
  tab.row("CPU time", cpu);
  std::string util = fmt("avg %.2f cores", t.avg_cores);
  if (t.avg_quota_percent) util += fmt(" (%.0f%% of quota)", *t.avg_quota_percent);
  util += fmt(", peak %.2f cores", t.peak_cores_100ms);
  if (t.peak_quota_percent) util += fmt(" (%.0f%%)", *t.peak_quota_percent);
  util += " over 100 ms";
  tab.row("CPU use", util);
  if (t.nr_periods > 0) {
    tab.row("throttled", count(t.nr_throttled) + " of " + count(t.nr_periods) + " periods" +
                             fmt(" (%.1f%%), ", t.throttled_percent_of_periods) +
                             seconds(t.throttled_seconds));
  }
  tab.row("memory", "peak " + format_size(t.memory_peak_bytes) + " (" + t.memory_peak_source +
                        "), avg " + size(t.memory_avg_bytes) + ", anon peak " +
                        format_size(t.anon_peak_bytes) + ", file peak " +
                        format_size(t.file_peak_bytes));
  const MemoryEvents& e = t.memory_events;
  if (e.oom_kill || e.oom || e.max || e.high) {
    tab.row("memory events", "oom_kill " + count(e.oom_kill) + ", oom " + count(e.oom) + ", max " +
                                 count(e.max) + ", high " + count(e.high));
  }
  tab.row("page faults", count(t.pgfault) + " (" + count(t.pgmajfault) + " major)");
  tab.row("I/O", "read " + format_size(t.io_read_bytes) + " (" + count(t.io_read_ops) +
                     " ops), write " + format_size(t.io_write_bytes) + " (" +
                     count(t.io_write_ops) + " ops)");
  if (t.net_measured) {
    tab.row("network", "rx " + format_size(t.net_rx_bytes) + ", tx " + format_size(t.net_tx_bytes) +
                           " (lo rx " + format_size(t.net_lo_rx_bytes) + ")");
  }
  tab.row("pids", "peak " + count(t.pids_peak));
  if (t.psi_measured) {
    tab.row("stalled (some)", "cpu " + seconds(t.cpu_pressure.some_seconds) + ", memory " +
                                  seconds(t.memory_pressure.some_seconds) + ", io " +
                                  seconds(t.io_pressure.some_seconds));
  }
  const SamplerStats& s = r.sampler;
  if (s.samples > 0) {
    tab.row("sampler", count(s.samples) + fmt(" samples at %.0f Hz", s.achieved_rate_hz) +
                           fmt(" (set %.0f), ", s.rate_hz) + count(s.missed_deadlines) +
                           " missed, " + count(s.dropped) + " dropped");
    tab.row("sampler cost",
            fmt("%.2f us CPU/sample", s.cpu_ns_per_sample / 1e3) +
                fmt(" (%.2f%% of a core), jitter p50 ", s.overhead_percent_of_core) +
                nanos(s.jitter_p50_ns) + " p99 " + nanos(s.jitter_p99_ns) + " max " +
                nanos(s.jitter_max_ns));
  }
  std::string out = tab.str();
  if (r.phases) out += format_phase_table(*r.phases);
  return out;
}

std::string format_phase_table(const PhasesResult& p) {
  if (p.phases.empty() && p.marks == 0) return "";
  constexpr size_t kMaxRows = 30;
  std::vector<std::vector<std::string>> rows = {{"phase", "count", "wall total", "mean", "p50",
                                                 "p90", "p99", "max", "CPU", "peak memory"}};
  size_t shown = 0;
  for (const PhaseStats& s : p.phases) {
    if (!s.overflow && shown++ >= kMaxRows) continue;  // the overflow bucket is always shown
    std::string name = s.name.size() > 24 ? s.name.substr(0, 23) + "~" : s.name;
    if (s.closed_at_exit) name += "*";
    rows.push_back({name, count(s.count), seconds(s.wall_seconds), seconds(s.wall.mean),
                    seconds(s.wall.p50), seconds(s.wall.p90), seconds(s.wall.p99),
                    seconds(s.wall.max), s.cpu_seconds ? seconds(*s.cpu_seconds) : "-",
                    s.memory_peak_bytes ? format_size(*s.memory_peak_bytes) : "-"});
  }
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], row[c].size());
  std::string out = "phases (wall time per occurrence; * = still open at exit, closed there)\n";
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(w[c] - row[c].size(), ' ');
      line += " " + (c == 0 ? row[c] + pad : pad + row[c]);  // names left, numbers right
    }
    out += line + "\n";
  }
  if (shown > kMaxRows)
    out += "  ... " + count(shown - kMaxRows) + " more phases (run.json, phases.csv)\n";
  out += "  marks: " + count(p.marks) + " received, " + count(p.dropped_marks) + " dropped, " +
         count(p.truncated_names) + " names truncated, " + count(p.overflow_marks) +
         " beyond " + count(kMaxPhaseNames) + " names" +
         (p.attribution == "samples" ? "" : "; no samples: wall time only") + "\n";
  return out;
}

std::string format_live_status(const Sample& prev, const Sample& cur,
                               std::optional<double> quota_cores, double elapsed_seconds) {
  std::string out = fmt("%7.1fs", elapsed_seconds);
  double dt = cur.t_ns > prev.t_ns ? (cur.t_ns - prev.t_ns) / 1e9 : 0;
  auto rate = [&](uint64_t a, uint64_t b) { return dt > 0 && b >= a ? (b - a) / dt : 0.0; };
  if (cur.valid & kFileCpuStat) {
    double cores = rate(prev.cpu_usage_usec, cur.cpu_usage_usec) / 1e6;
    out += fmt("  cpu %5.2f cores", cores);
    if (quota_cores && *quota_cores > 0) out += fmt(" (%3.0f%%)", cores / *quota_cores * 100);
    if (cur.cpu_nr_throttled > prev.cpu_nr_throttled) out += " throttled";
  }
  if (cur.valid & kFileMemoryCurrent) out += "  mem " + format_size(cur.memory_current);
  if (cur.valid & kFileIoStat) {
    out += "  io r " + size(rate(prev.io_rbytes, cur.io_rbytes)) + "/s w " +
           size(rate(prev.io_wbytes, cur.io_wbytes)) + "/s";
  }
  if (cur.valid & kFileNetDev) {
    out += "  net rx " + size(rate(prev.net_rx_bytes, cur.net_rx_bytes)) + "/s";
  }
  if (cur.valid & kFilePidsCurrent) out += "  pids " + std::to_string(cur.pids_current);
  if (cur.memory_events_oom_kill > 0) out += "  OOM-KILL";
  return out;
}

}  // namespace cgprof
