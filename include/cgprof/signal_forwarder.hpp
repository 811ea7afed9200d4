// Signals sent to cgprof are handed to the container's init, which passes them on to the
// workload (docker's sig-proxy). Two policies:
//   kPassAll  every signal is forwarded, every time (a plain `cgprof run --no-cgroup`);
//   kStop     the stop signals (SIGINT, SIGTERM, SIGHUP) follow `docker run`: the first is
//             forwarded, a second one kills the run (cgroup.kill, or SIGKILL to init); the
//             others (SIGQUIT, SIGUSR1, SIGUSR2) are forwarded every time.
// A signal that arrives before the container exists is kept and forwarded by set_target().
// The handler only touches lock-free atomics, so it may run on any of cgprof's threads. One
// forwarder per process at a time.
#pragma once

namespace cgprof::sandbox {

// How a run was killed after a stop signal (run.json exit.killed_by).
enum class StopKill {
  kNone,          // it exited by itself (or no stop signal came)
  kStopTimeout,   // the grace period (--stop-timeout) ran out
  kSecondSignal,  // a second stop signal
};
const char* to_string(StopKill k);  // "" | "stop_timeout" | "second_signal"

class SignalForwarder {
 public:
  enum class Policy { kPassAll, kStop };
  explicit SignalForwarder(Policy policy);  // installs the handlers
  ~SignalForwarder();                       // restores the previous ones
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  // The container's init (a pidfd); signals kept so far are forwarded now.
  void set_target(int pidfd);
  // kStop: how to kill the run, an fd of cgroup.kill (without one: SIGKILL to the target).
  void set_kill_fd(int fd);
  // kStop: kills the run now (async-signal-safe); the first reason given is kept.
  static void kill_run(StopKill why);

  int stop_signal() const;  // kStop: the first stop signal received (0: none)
  StopKill killed() const;
  // Readable after every signal (drain it); lets a poll loop notice one.
  int wake_fd() const { return wake_rd_; }

 private:
  int wake_rd_ = -1, wake_wr_ = -1;
};

}  // namespace cgprof::sandbox
