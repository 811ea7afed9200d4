// Clock readings in integer nanoseconds (vDSO clock_gettime: no system call for the monotonic
// clock), shared by the sampler, the launcher and the run's timing.
#pragma once

#include <time.h>

#include <cstdint>

namespace cgprof {

inline uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// CLOCK_MONOTONIC: every timestamp cgprof records (samples, exec start, exit) is on this clock.
inline uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

}  // namespace cgprof
