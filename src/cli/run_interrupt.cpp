#include "run_interrupt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"

namespace cgprof::cli {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_old[3];

// Shared with the handler, which may run on any of cgprof's threads: lock-free atomics only.
std::atomic<int> g_count{0};  // signals received
std::atomic<int> g_first{0};  // the first one
std::atomic<int> g_kill_fd{-1};
std::atomic<int> g_pidfd{-1};  // the container's init, once it runs
std::atomic<int> g_wake_fd{-1};
std::atomic<int> g_killed{static_cast<int>(StopKill::kNone)};
std::atomic<bool> g_forwarded{false};  // the first signal has been passed on
static_assert(std::atomic<int>::is_always_lock_free);

// Async-signal-safe: cgroup.kill, or SIGKILL to init (its pid namespace dies with it).
void kill_run(StopKill why) {
  int expected = static_cast<int>(StopKill::kNone);
  g_killed.compare_exchange_strong(expected, static_cast<int>(why));
  int fd = g_kill_fd.load();
  if (fd >= 0) {
    ssize_t n = ::write(fd, "1", 1);
    (void)n;
    return;
  }
  int pidfd = g_pidfd.load();
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

// Passes the first signal to the container's init (which hands it to the workload), once:
// from the handler if the container is known, else from set_container().
void forward_first() {
  int pidfd = g_pidfd.load();
  if (pidfd < 0 || g_forwarded.exchange(true)) return;
  ::syscall(SYS_pidfd_send_signal, pidfd, g_first.load(), nullptr, 0);
}

extern "C" void on_interrupt(int sig) {
  int saved = errno;
  if (g_count.fetch_add(1) == 0) {
    g_first.store(sig);
    forward_first();
  } else {
    kill_run(StopKill::kSecondSignal);
  }
  int wake = g_wake_fd.load();
  if (wake >= 0) {
    ssize_t n = ::write(wake, "x", 1);
    (void)n;
  }
  errno = saved;
}

int64_t mono_ms() { return static_cast<int64_t>(monotonic_ns() / 1000000); }

}  // namespace

const char* to_string(StopKill k) {
  switch (k) {
    case StopKill::kNone:
      return "";
    case StopKill::kStopTimeout:
      return "stop_timeout";
    case StopKill::kSecondSignal:
      return "second_signal";
  }
  return "";
}

InterruptScope::InterruptScope() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2", "interrupt wake pipe");
  wake_rd_ = fds[0];
  wake_wr_ = fds[1];
  g_count = 0;
  g_first = 0;
  g_kill_fd = -1;
  g_pidfd = -1;
  g_killed = static_cast<int>(StopKill::kNone);
  g_forwarded = false;
  g_wake_fd = wake_wr_;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kSignals) sigaddset(&sa.sa_mask, sig);  // one handler at a time
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_old[i]);
}

InterruptScope::~InterruptScope() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_old[i], nullptr);
  g_kill_fd = -1;
  g_pidfd = -1;
  g_wake_fd = -1;
  ::close(wake_rd_);
  ::close(wake_wr_);
}

void InterruptScope::set_kill_fd(int fd) {
  g_kill_fd = fd;
}

void InterruptScope::set_container(int pidfd) {
  g_pidfd = pidfd;
  // A signal that came while the container was starting is passed on now (init keeps it pending
  // until the workload runs); a second one already killed the cgroup.
  if (g_count.load() > 0) forward_first();
}

int InterruptScope::signal() const {
  return g_first.load();
}

void InterruptScope::check() const {
  if (int sig = signal()) throw Error("interrupted by signal " + std::to_string(sig), 128 + sig);
}

StopKill InterruptScope::killed() const {
  return static_cast<StopKill>(g_killed.load());
}

StopKill InterruptScope::wait_for_exit(int pidfd, double stop_timeout_s) {
  int64_t deadline_ms = -1;  // set at the first signal
  bool told = false;
  while (true) {
    int timeout = -1;
    if (signal() != 0 && g_killed.load() == static_cast<int>(StopKill::kNone)) {
      if (deadline_ms < 0) {
        deadline_ms = stop_timeout_s < 0
                          ? INT64_MAX
                          : mono_ms() + static_cast<int64_t>(std::ceil(stop_timeout_s * 1000));
      }
      if (!told) {
        told = true;
        if (stop_timeout_s < 0) {
          std::fprintf(stderr,
                       "\r\033[Kcgprof: signal %d passed to the workload; waiting for it to "
                       "exit (again to kill it now)\n",
                       signal());
        } else {
          std::fprintf(stderr,
                       "\r\033[Kcgprof: signal %d passed to the workload; killing it in %g s "
                       "(again to kill it now)\n",
                       signal(), stop_timeout_s);
        }
      }
      if (deadline_ms != INT64_MAX) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0) {
          kill_run(StopKill::kStopTimeout);
          continue;
        }
        timeout = static_cast<int>(std::min<int64_t>(left, 1 << 30));
      }
    }
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {wake_rd_, POLLIN, 0}};
    int n = ::poll(fds, 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll", "container pidfd");
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents != 0) {
      char buf[64];
      while (::read(wake_rd_, buf, sizeof buf) > 0) {
      }
    }
  }
  return killed();
}

}  // namespace cgprof::cli
