// Ctrl-C, SIGTERM and SIGHUP during a profiled run, handled as `docker run` does: the first
// signal is forwarded to the workload (through the container's init, which passes it on) and
// starts a grace period (--stop-timeout); when that runs out, or at a second signal, the run's
// cgroup is killed. A signal that arrives while the container starts is passed on once it runs.
// SIGQUIT, SIGUSR1 and SIGUSR2 are passed on every time (sandbox::SignalForwarder, kStop).
#pragma once

#include "cgprof/run.hpp"
#include "cgprof/signal_forwarder.hpp"

namespace cgprof::run {

using sandbox::StopKill;

// A stop signal (SIGINT, SIGTERM, SIGHUP) asked this process to stop: the first one that reached
// a run, or an experiment between its runs (its own handler calls request_stop). Never reset: a
// run that starts afterwards ends at once as interrupted, and an experiment or a series stops.
void request_stop(int sig);  // async-signal-safe; the first signal is kept
int stop_requested();        // that signal, or 0

// Installs the handlers for its lifetime (one scope at a time per process).
class InterruptScope {
 public:
  // A stop requested before the scope (a Ctrl-C while an experiment resolved the run's image) is
  // taken as the first signal of the scope: it is passed on when the container runs.
  // `observer` is told when the grace period starts.
  explicit InterruptScope(RunObserver& observer);
  // Records the scope's stop signal for stop_requested().
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // How to kill the run: an fd of cgroup.kill (or -1: then SIGKILL to the container's init).
  void set_kill_fd(int fd) { forwarder_.set_kill_fd(fd); }
  // From now on signals are forwarded through this pidfd of the container's init. A signal
  // that came before (while the container started) is forwarded now.
  void set_container(int pidfd) { forwarder_.set_target(pidfd); }
  // The first stop signal received (0: none).
  int signal() const { return forwarder_.stop_signal(); }
  // Throws the Error that ends a run interrupted before it started (docker: 128+N).
  void check() const;

  // Blocks until the container's init has exited (its pidfd is readable). After the first
  // signal it waits at most stop_timeout_s more, then kills the cgroup (negative: no limit).
  // Tells the observer once when it starts the grace period. Returns how the run was stopped.
  StopKill wait_for_exit(int pidfd, double stop_timeout_s);
  // Whether (and why) the run's cgroup was killed so far.
  StopKill killed() const { return forwarder_.killed(); }

 private:
  sandbox::SignalForwarder forwarder_;
  RunObserver& observer_;
};

}  // namespace cgprof::run
