#include "cgprof/signal_forwarder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"

namespace cgprof::sandbox {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr size_t kCount = sizeof kForwarded / sizeof kForwarded[0];
struct sigaction g_old[kCount];

bool is_stop_signal(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

std::atomic<bool> g_stop_policy{false};
std::atomic<int> g_target{-1};     // pidfd of the container's init, once it exists
std::atomic<unsigned> g_pending{0};  // signals that came before it (bit per signal number)
std::atomic<int> g_stops{0};       // stop signals received
std::atomic<int> g_first_stop{0};
std::atomic<int> g_kill_fd{-1};
std::atomic<int> g_killed{static_cast<int>(StopKill::kNone)};
std::atomic<int> g_wake_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<unsigned>::is_always_lock_free);

void send(int pidfd, int sig) {
  ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
}

void forward(int sig) {
  int pidfd = g_target.load();
  if (pidfd >= 0) {
    send(pidfd, sig);
  } else {
    g_pending.fetch_or(1u << sig);
  }
}

extern "C" void on_signal(int sig) {
  int saved = errno;
  if (g_stop_policy.load() && is_stop_signal(sig)) {
    if (g_stops.fetch_add(1) == 0) {
      g_first_stop.store(sig);
      forward(sig);
    } else {
      SignalForwarder::kill_run(StopKill::kSecondSignal);
    }
  } else {
    forward(sig);
  }
  int wake = g_wake_fd.load();
  if (wake >= 0) {
    ssize_t n = ::write(wake, "x", 1);
    (void)n;
  }
  errno = saved;
}

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

SignalForwarder::SignalForwarder(Policy policy) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2", "signal wake pipe");
  wake_rd_ = fds[0];
  wake_wr_ = fds[1];
  g_stop_policy = policy == Policy::kStop;
  g_target = -1;
  g_pending = 0;
  g_stops = 0;
  g_first_stop = 0;
  g_kill_fd = -1;
  g_killed = static_cast<int>(StopKill::kNone);
  g_wake_fd = wake_wr_;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) sigaddset(&sa.sa_mask, sig);  // one handler at a time
  for (size_t i = 0; i < kCount; ++i) ::sigaction(kForwarded[i], &sa, &g_old[i]);
}

SignalForwarder::~SignalForwarder() {
  for (size_t i = 0; i < kCount; ++i) ::sigaction(kForwarded[i], &g_old[i], nullptr);
  g_target = -1;
  g_kill_fd = -1;
  g_wake_fd = -1;
  ::close(wake_rd_);
  ::close(wake_wr_);
}

void SignalForwarder::set_target(int pidfd) {
  g_target = pidfd;
  // What came while the container was starting is passed on now (init keeps it pending until
  // the workload runs). A second stop signal in that window already killed the run.
  unsigned pending = g_pending.exchange(0);
  for (int sig : kForwarded)
    if (pending & (1u << sig)) send(pidfd, sig);
  // Killed before it existed (a second stop signal while starting): cgroup.kill does not reach
  // processes that join later, so kill it again now that it runs.
  if (killed() != StopKill::kNone) kill_run(killed());
}

void SignalForwarder::set_kill_fd(int fd) {
  g_kill_fd = fd;
}

void SignalForwarder::kill_run(StopKill why) {
  int expected = static_cast<int>(StopKill::kNone);
  g_killed.compare_exchange_strong(expected, static_cast<int>(why));
  int fd = g_kill_fd.load();
  if (fd >= 0) {
    ssize_t n = ::write(fd, "1", 1);
    (void)n;
    return;
  }
  int pidfd = g_target.load();
  if (pidfd >= 0) send(pidfd, SIGKILL);  // its pid namespace dies with it
}

int SignalForwarder::stop_signal() const {
  return g_first_stop.load();
}

StopKill SignalForwarder::killed() const {
  return static_cast<StopKill>(g_killed.load());
}

}  // namespace cgprof::sandbox
