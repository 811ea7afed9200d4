#include "interrupt.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"

namespace cgprof::run {
namespace {

int64_t mono_ms() { return static_cast<int64_t>(monotonic_ns() / 1000000); }

std::atomic<int> g_stop_requested{0};
static_assert(std::atomic<int>::is_always_lock_free);

}  // namespace

void request_stop(int sig) {
  int none = 0;
  g_stop_requested.compare_exchange_strong(none, sig);
}

int stop_requested() { return g_stop_requested.load(); }

InterruptScope::InterruptScope(RunObserver& observer)
    : forwarder_(sandbox::SignalForwarder::Policy::kStop), observer_(observer) {
  if (int sig = stop_requested()) ::raise(sig);  // handled now by the forwarder's handler
}

InterruptScope::~InterruptScope() {
  if (int sig = signal()) request_stop(sig);
}

void InterruptScope::check() const {
  if (int sig = signal()) throw Error("interrupted by signal " + std::to_string(sig), 128 + sig);
}

StopKill InterruptScope::wait_for_exit(int pidfd, double stop_timeout_s) {
  int64_t deadline_ms = -1;  // set at the first signal
  bool told = false;
  while (true) {
    int timeout = -1;
    if (signal() != 0 && killed() == StopKill::kNone) {
      if (deadline_ms < 0) {
        deadline_ms = stop_timeout_s < 0
                          ? INT64_MAX
                          : mono_ms() + static_cast<int64_t>(std::ceil(stop_timeout_s * 1000));
      }
      if (!told) {
        told = true;
        char grace[64];
        std::snprintf(grace, sizeof grace, "killing it in %g s", stop_timeout_s);
        observer_.message(RunObserver::Kind::info,
                          "signal " + std::to_string(signal()) + " passed to the workload; " +
                              (stop_timeout_s < 0 ? "waiting for it to exit" : grace) +
                              " (again to kill it now)");
      }
      if (deadline_ms != INT64_MAX) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0) {
          sandbox::SignalForwarder::kill_run(StopKill::kStopTimeout);
          continue;
        }
        timeout = static_cast<int>(std::min<int64_t>(left, 1 << 30));
      }
    }
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {forwarder_.wake_fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll", "container pidfd");
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents != 0) {
      char buf[64];
      while (::read(forwarder_.wake_fd(), buf, sizeof buf) > 0) {
      }
    }
  }
  return killed();
}

}  // namespace cgprof::run
