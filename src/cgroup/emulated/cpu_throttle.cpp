// CFS-like accounting of a CPU quota over periods, from the CPU time the container consumed.
#include <algorithm>

#include "cgprof/cgroup_emulated.hpp"

namespace cgprof {
namespace {

// Checks are at least this far apart while the container runs (CPU times tick at 10 ms anyway).
constexpr uint64_t kMinCheckNs = 1'000'000;

}  // namespace

CpuThrottle::CpuThrottle(double quota_cores, uint64_t period_ns, unsigned max_cores,
                         uint64_t now_ns, uint64_t cpu_ns)
    : budget_ns_(static_cast<uint64_t>(quota_cores * static_cast<double>(period_ns))),
      period_ns_(period_ns),
      max_cores_(std::max(1u, max_cores)) {
  start_period(now_ns, cpu_ns);
}

void CpuThrottle::start_period(uint64_t start_ns, uint64_t cpu_ns) {
  period_start_ = start_ns;
  cpu_at_start_ = cpu_ns;
  budget_left_ = static_cast<int64_t>(budget_ns_) - debt_;
  counted_throttle_ = false;
}

CpuThrottle::Decision CpuThrottle::update(uint64_t now_ns, uint64_t cpu_ns) {
  // Close the periods that ended since the last check. All CPU seen since the current period
  // started belongs to it (the clock-tick counters lag by up to a tick, so "late" CPU is repaid
  // in the period that sees it; the long-run sum is what the quota bounds).
  while (now_ns >= period_start_ + period_ns_) {
    const uint64_t end = period_start_ + period_ns_;
    const int64_t used = static_cast<int64_t>(cpu_ns >= cpu_at_start_ ? cpu_ns - cpu_at_start_ : 0);
    if (used > 0 || throttled_) ++nr_periods_;
    debt_ = std::max<int64_t>(0, used - budget_left_);
    if (throttled_) {
      throttled_ns_ += end - std::max(throttled_since_, period_start_);
      throttled_since_ = end;
    }
    start_period(end, cpu_ns);
    if (throttled_ && budget_left_ > 0) throttled_ = false;
    if (throttled_ && !counted_throttle_) {
      ++nr_throttled_;  // a whole period spent repaying debt
      counted_throttle_ = true;
    }
  }
  const uint64_t period_end = period_start_ + period_ns_;
  if (throttled_) return {false, period_end};
  const int64_t used = static_cast<int64_t>(cpu_ns >= cpu_at_start_ ? cpu_ns - cpu_at_start_ : 0);
  const int64_t left = budget_left_ - used;
  if (left <= 0) {
    throttled_ = true;
    throttled_since_ = now_ns;
    if (!counted_throttle_) ++nr_throttled_;
    counted_throttle_ = true;
    return {false, period_end};
  }
  // The earliest the budget can run out: every allowed core busy.
  uint64_t wait = static_cast<uint64_t>(left) / max_cores_;
  return {true, std::min(period_end, now_ns + std::max(kMinCheckNs, wait))};
}

}  // namespace cgprof
