// Per-name statistics of phase occurrences, and phases.csv (one line per occurrence).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cgprof/error.hpp"
#include "cgprof/phases.hpp"

namespace cgprof {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

template <class T>
void add_opt(std::optional<T>& sum, const std::optional<T>& v) {
  if (v) sum = sum.value_or(T{}) + *v;
}

std::string csv_name(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

Distribution distribution_of(std::vector<double>& v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  d.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - d.mean) * (x - d.mean);
  d.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  d.min = v.front();
  d.max = v.back();
  d.p50 = quantile(v, 0.50);
  d.p90 = quantile(v, 0.90);
  d.p99 = quantile(v, 0.99);
  return d;
}

PhasesResult summarize_phases(const MarkLog& log, const std::vector<PhaseOccurrence>& occ) {
  PhasesResult out;
  out.marks = log.received();
  out.dropped_marks = log.dropped();
  out.truncated_names = log.truncated_names();
  out.overflow_marks = log.overflow_marks();
  // Slot of each name in order of first occurrence; the overflow bucket goes last.
  std::vector<int> slot(log.names().size(), -1);
  std::vector<const PhaseOccurrence*> overflow;
  std::vector<std::vector<const PhaseOccurrence*>> by_slot;
  for (const PhaseOccurrence& o : occ) {
    if (o.name >= log.names().size()) {
      overflow.push_back(&o);
      continue;
    }
    if (slot[o.name] < 0) {
      slot[o.name] = static_cast<int>(by_slot.size());
      by_slot.emplace_back();
      out.phases.emplace_back().name = log.names()[o.name];
    }
    by_slot[static_cast<size_t>(slot[o.name])].push_back(&o);
  }
  if (!overflow.empty()) {
    by_slot.push_back(std::move(overflow));
    PhaseStats& p = out.phases.emplace_back();
    p.name = kOverflowPhaseName;
    p.overflow = true;
  }
  std::vector<double> walls, cpus;
  for (size_t i = 0; i < by_slot.size(); ++i) {
    PhaseStats& p = out.phases[i];
    walls.clear();
    cpus.clear();
    for (const PhaseOccurrence* o : by_slot[i]) {
      double wall = static_cast<double>(o->end_ns - o->start_ns) / 1e9;
      walls.push_back(wall);
      p.wall_seconds += wall;
      ++p.count;
      if (o->closed_at_exit) ++p.closed_at_exit;
      if (o->cpu_seconds) cpus.push_back(*o->cpu_seconds);
      add_opt(p.cpu_seconds, o->cpu_seconds);
      add_opt(p.throttled_seconds, o->throttled_seconds);
      add_opt(p.io_read_bytes, o->io_read_bytes);
      add_opt(p.io_write_bytes, o->io_write_bytes);
      if (o->memory_peak_bytes)
        p.memory_peak_bytes = std::max(p.memory_peak_bytes.value_or(0), *o->memory_peak_bytes);
    }
    p.wall = distribution_of(walls);
    if (!cpus.empty()) p.cpu = distribution_of(cpus);
  }
  return out;
}

std::string phase_occurrences_csv(const std::vector<PhaseOccurrence>& occ,
                                  const std::vector<std::string>& names, uint64_t origin_ns) {
  std::string out = "phase,start_s,end_s,wall_s,cpu_s,closed_at_exit\n";
  auto rel = [&](uint64_t t) {
    return (static_cast<double>(t) - static_cast<double>(origin_ns)) / 1e9;
  };
  char buf[160];
  for (const PhaseOccurrence& o : occ) {
    out += o.name < names.size() ? csv_name(names[o.name]) : csv_name(kOverflowPhaseName);
    char cpu[32] = "";
    if (o.cpu_seconds) std::snprintf(cpu, sizeof cpu, "%.6f", *o.cpu_seconds);
    std::snprintf(buf, sizeof buf, ",%.9f,%.9f,%.9f,%s,%d\n", rel(o.start_ns), rel(o.end_ns),
                  static_cast<double>(o.end_ns - o.start_ns) / 1e9, cpu, o.closed_at_exit ? 1 : 0);
    out += buf;
  }
  return out;
}

std::vector<PhaseSpan> parse_phase_occurrences_csv(std::string_view text,
                                                   const std::string& source) {
  std::vector<PhaseSpan> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (++line_no == 1 || line.empty()) continue;  // header
    auto fail = [&](const char* what) {
      throw Error(source + ": line " + std::to_string(line_no) + ": " + what +
                  " (expected phase,start_s,end_s,wall_s,cpu_s,closed_at_exit)");
    };
    PhaseSpan s;
    // The name may be quoted (it can hold commas); the other fields are numbers.
    size_t pos = 0;
    if (!line.empty() && line[0] == '"') {
      for (pos = 1; pos < line.size(); ++pos) {
        if (line[pos] != '"') {
          s.name += line[pos];
        } else if (pos + 1 < line.size() && line[pos + 1] == '"') {
          s.name += '"';
          ++pos;
        } else {
          break;
        }
      }
      if (pos >= line.size()) fail("unterminated quoted phase name");
      ++pos;
    } else {
      pos = std::min(line.find(','), line.size());
      s.name = std::string(line.substr(0, pos));
    }
    std::string rest(line.substr(std::min(pos, line.size())));
    double start = 0, end = 0, wall = 0;
    char cpu[40] = "";
    int flag = 0;
    if (std::sscanf(rest.c_str(), ",%lf,%lf,%lf,%39[^,],%d", &start, &end, &wall, cpu, &flag) ==
        5) {
      s.cpu_s = std::strtod(cpu, nullptr);
    } else if (std::sscanf(rest.c_str(), ",%lf,%lf,%lf,,%d", &start, &end, &wall, &flag) != 4) {
      fail("malformed line");
    }
    s.start_s = start;
    s.end_s = end;
    s.closed_at_exit = flag != 0;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cgprof
