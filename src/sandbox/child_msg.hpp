// The messages cgprof's container setup and the container init send to cgprof over pipes.
// Shared by libcgprof and the freestanding init (src/sandbox/init/), so plain types only.
#pragma once

#include <stdint.h>

namespace cgprof::sandbox {

// Smaller than PIPE_BUF, so each write is atomic.
struct ChildMsg {
  enum Kind : int32_t { kAboutToExec = 1, kExecFailed = 2, kSetupFailed = 3, kExited = 4 };
  int32_t kind = 0;
  int32_t code = 0;    // exit code (setup/exec failure) or si_code (exited)
  int32_t value = 0;   // errno (failures) or si_status (exited)
  int32_t notice = 0;  // bit 0: overlay unavailable, read-only fallback used
  int64_t ts_ns = 0;   // CLOCK_MONOTONIC
  char text[488] = {};
};
static_assert(sizeof(ChildMsg) == 512, "ChildMsg must stay one atomic pipe write");

// The fds the container init is exec'd with, besides 0-2. Nothing else is open in it.
inline constexpr int kInitReportFd = 3;  // -> cgprof: kAboutToExec / kExecFailed of the workload
inline constexpr int kInitStatusFd = 4;  // -> cgprof: kExited, cross-checked with init's own exit

}  // namespace cgprof::sandbox
