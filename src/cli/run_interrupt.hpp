// Ctrl-C, SIGTERM and SIGHUP during a profiled run, handled as `docker run` does: the first
// signal is forwarded to the workload (through the container's init, which passes it on) and
// starts a grace period (--stop-timeout); when that runs out, or at a second signal, the run's
// cgroup is killed. A signal that arrives while the container starts is passed on once it runs.
#pragma once

#include <sys/types.h>

#include <string>

namespace cgprof::cli {

// How the workload ended after an interrupt (ExitInfo::killed_by).
enum class StopKill {
  kNone,          // it exited by itself (or no interrupt came)
  kStopTimeout,   // cgroup.kill when the grace period ran out
  kSecondSignal,  // cgroup.kill at a second signal
};
const char* to_string(StopKill k);  // "" | "stop_timeout" | "second_signal"

// Installs the handlers for its lifetime (one scope at a time per process).
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // How to kill the run: an fd of cgroup.kill (or -1: then SIGKILL to the container's init).
  void set_kill_fd(int fd);
  // From now on the first signal is forwarded through this pidfd of the container's init.
  // A signal that came before (while the container started) is forwarded now.
  void set_container(int pidfd);
  // The first signal received (0: none).
  int signal() const;
  // Throws the Error that ends a run interrupted before it started (docker: 128+N).
  void check() const;

  // Blocks until the container's init has exited (its pidfd is readable). After the first
  // signal it waits at most stop_timeout_s more, then kills the cgroup (negative: no limit).
  // Prints one line on stderr when it starts the grace period. Returns how the run was stopped.
  StopKill wait_for_exit(int pidfd, double stop_timeout_s);
  // Whether (and why) the run's cgroup was killed so far.
  StopKill killed() const;

 private:
  int wake_rd_ = -1, wake_wr_ = -1;  // the handler writes a byte to wake wait_for_exit()
};

}  // namespace cgprof::cli
