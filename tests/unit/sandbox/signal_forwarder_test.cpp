// SignalForwarder on the real kernel: signals raised at this process reach a child through its
// pidfd, stop signals follow docker's first-forward, second-kills rule, and a signal that comes
// before the target exists is delivered once it does.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cgprof/signal_forwarder.hpp"

namespace cgprof::sandbox {
namespace {

// A child that reports every forwarded signal it receives as one byte on a pipe.
class Receiver {
 public:
  Receiver() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    int ready[2];
    EXPECT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      sigset_t set;
      sigemptyset(&set);
      for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
      sigprocmask(SIG_BLOCK, &set, nullptr);
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) _exit(2);
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) _exit(3);
        c = static_cast<char>(sig);
        if (::write(fds[1], &c, 1) != 1) _exit(4);
      }
    }
    ::close(fds[1]);
    ::close(ready[1]);
    char c;
    EXPECT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    got_ = fds[0];
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    EXPECT_GE(pidfd_, 0);
  }
  ~Receiver() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(got_);
    ::close(pidfd_);
  }
  int pidfd() const { return pidfd_; }
  // The next signal the child received (blocks).
  int next() {
    char c = 0;
    return ::read(got_, &c, 1) == 1 ? static_cast<unsigned char>(c) : -1;
  }
  // Whether the child received anything more (without blocking long).
  bool quiet() {
    ::fcntl(got_, F_SETFL, O_NONBLOCK);
    ::usleep(100000);
    char c;
    bool none = ::read(got_, &c, 1) < 0;
    ::fcntl(got_, F_SETFL, 0);
    return none;
  }

 private:
  pid_t pid_ = -1;
  int got_ = -1, pidfd_ = -1;
};

std::string drain(int fd) {
  std::string out;
  char buf[16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(SignalForwarder, PassAllForwardsEverySignalEveryTime) {
  Receiver child;
  SignalForwarder fw(SignalForwarder::Policy::kPassAll);
  fw.set_target(child.pidfd());
  for (int sig : {SIGINT, SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGQUIT, SIGUSR2}) {
    ::raise(sig);
    EXPECT_EQ(child.next(), sig);
  }
  EXPECT_EQ(fw.stop_signal(), 0) << "no stop rule in kPassAll";
  EXPECT_EQ(fw.killed(), StopKill::kNone);
}

TEST(SignalForwarder, StopPolicyForwardsTheFirstAndKillsAtTheSecond) {
  Receiver child;
  int kill_pipe[2];
  ASSERT_EQ(::pipe2(kill_pipe, O_CLOEXEC | O_NONBLOCK), 0);
  SignalForwarder fw(SignalForwarder::Policy::kStop);
  fw.set_kill_fd(kill_pipe[1]);
  fw.set_target(child.pidfd());
  ::raise(SIGTERM);
  EXPECT_EQ(child.next(), SIGTERM);
  EXPECT_EQ(fw.stop_signal(), SIGTERM);
  EXPECT_EQ(drain(kill_pipe[0]), "") << "the first stop signal does not kill";
  // Not a stop signal: passed on every time, kills nothing.
  ::raise(SIGUSR1);
  EXPECT_EQ(child.next(), SIGUSR1);
  EXPECT_EQ(fw.killed(), StopKill::kNone);
  ::raise(SIGINT);
  EXPECT_EQ(drain(kill_pipe[0]), "1") << "cgroup.kill written at the second stop signal";
  EXPECT_EQ(fw.killed(), StopKill::kSecondSignal);
  EXPECT_TRUE(child.quiet()) << "the second stop signal is not forwarded";
  EXPECT_EQ(fw.stop_signal(), SIGTERM) << "the first one is kept";
  ::close(kill_pipe[0]);
  ::close(kill_pipe[1]);
}

TEST(SignalForwarder, SignalsBeforeTheTargetExistsAreDeliveredOnce) {
  Receiver child;
  SignalForwarder fw(SignalForwarder::Policy::kStop);
  ::raise(SIGINT);
  ::raise(SIGUSR2);
  EXPECT_EQ(fw.stop_signal(), SIGINT);
  fw.set_target(child.pidfd());
  std::vector<int> got = {child.next(), child.next()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{SIGINT, SIGUSR2}));
  EXPECT_TRUE(child.quiet());
}

TEST(SignalForwarder, WithoutAKillFdTheSecondStopSignalKillsTheTarget) {
  Receiver child;
  SignalForwarder fw(SignalForwarder::Policy::kStop);
  fw.set_target(child.pidfd());
  ::raise(SIGHUP);
  EXPECT_EQ(child.next(), SIGHUP);
  ::raise(SIGHUP);
  siginfo_t si{};
  ASSERT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd()), &si,
                     WEXITED | WNOWAIT),
            0);
  EXPECT_EQ(si.si_code, CLD_KILLED);
  EXPECT_EQ(si.si_status, SIGKILL);
}

TEST(SignalForwarder, WakeFdIsReadableAfterASignalAndHandlersAreRestored) {
  struct sigaction before {};
  ::sigaction(SIGUSR1, nullptr, &before);
  {
    Receiver child;
    SignalForwarder fw(SignalForwarder::Policy::kPassAll);
    fw.set_target(child.pidfd());
    ::raise(SIGUSR1);
    EXPECT_EQ(child.next(), SIGUSR1);
    char c;
    EXPECT_EQ(::read(fw.wake_fd(), &c, 1), 1);
  }
  struct sigaction after {};
  ::sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace cgprof::sandbox
