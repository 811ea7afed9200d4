// Phase attribution from a sample stream: counters interpolated at the ends of each occurrence.
// It reads only Sample fields and their valid bits, so any backend's samples will do.
#include <algorithm>

#include "cgprof/phases.hpp"

namespace cgprof {

// Cumulative counters at one instant, interpolated between the samples around it.
struct PhaseAttributor::Counter {
  double cpu = 0, thr = 0, rd = 0, wr = 0;
  bool cpu_ok = false, io_ok = false;

  static Counter at(uint64_t t, const Sample* a, const Sample* b) {
    Counter c;
    auto mix = [&](uint64_t Sample::*f, uint64_t bit, double* out) {
      bool va = a && (a->valid & bit), vb = b && (b->valid & bit);
      if (va && vb && b->t_ns > a->t_ns) {
        double x = static_cast<double>(std::clamp(t, a->t_ns, b->t_ns) - a->t_ns) /
                   static_cast<double>(b->t_ns - a->t_ns);
        *out = static_cast<double>(a->*f) +
               (static_cast<double>(b->*f) - static_cast<double>(a->*f)) * x;
      } else if (va || vb) {
        *out = static_cast<double>((va ? a : b)->*f);
      } else {
        return false;
      }
      return true;
    };
    c.cpu_ok = mix(&Sample::cpu_usage_usec, kFileCpuStat, &c.cpu);
    mix(&Sample::cpu_throttled_usec, kFileCpuStat, &c.thr);
    c.io_ok = mix(&Sample::io_rbytes, kFileIoStat, &c.rd);
    mix(&Sample::io_wbytes, kFileIoStat, &c.wr);
    return c;
  }
};

PhaseAttributor::PhaseAttributor(std::vector<PhaseOccurrence>& occurrences)
    : occ_(occurrences) {}

void PhaseAttributor::add(const Sample& s) {
  const Sample* a = have_prev_ ? &prev_ : nullptr;
  while (next_ < occ_.size()) {
    PhaseOccurrence& o = occ_[next_];
    uint64_t t = next_end_ ? o.end_ns : o.start_ns;
    if (t > s.t_ns) break;
    Counter c = Counter::at(t, a, &s);
    if (!next_end_) {
      start_cpu_ = c.cpu;
      start_thr_ = c.thr;
      start_rd_ = c.rd;
      start_wr_ = c.wr;
      start_cpu_ok_ = c.cpu_ok;
      start_io_ok_ = c.io_ok;
      cur_peak_.reset();
      next_end_ = true;
      continue;
    }
    if (start_cpu_ok_ && c.cpu_ok) {
      o.cpu_seconds = std::max(0.0, c.cpu - start_cpu_) / 1e6;
      o.throttled_seconds = std::max(0.0, c.thr - start_thr_) / 1e6;
    }
    if (start_io_ok_ && c.io_ok) {
      o.io_read_bytes = static_cast<uint64_t>(std::max(0.0, c.rd - start_rd_) + 0.5);
      o.io_write_bytes = static_cast<uint64_t>(std::max(0.0, c.wr - start_wr_) + 0.5);
    }
    // No sample inside the occurrence: the memory in use when it started, else right after.
    if (cur_peak_) {
      o.memory_peak_bytes = cur_peak_;
    } else if (have_last_mem_) {
      o.memory_peak_bytes = last_mem_;
    } else if (s.valid & kFileMemoryCurrent) {
      o.memory_peak_bytes = s.memory_current;
    }
    ++next_;
    next_end_ = false;
  }
  if (s.valid & kFileMemoryCurrent) {
    if (next_end_) cur_peak_ = std::max(cur_peak_.value_or(0), s.memory_current);
    last_mem_ = s.memory_current;
    have_last_mem_ = true;
  }
  prev_ = s;
  have_prev_ = true;
}

void PhaseAttributor::finish() {
  if (!have_prev_) return;  // no samples: nothing to attribute
  // Boundaries after the last sample: the counters stood at its values.
  Sample last = prev_;
  last.t_ns = ~uint64_t{0};
  add(last);
}

}  // namespace cgprof
