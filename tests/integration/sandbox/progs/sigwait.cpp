// Reports the signals it gets: prints "ready", then "got N" for the first forwarded-type signal
// and exits 0 (so the test sees the signal arrived and was handled, not just a kill).
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <initializer_list>

int main() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  printf("ready\n");
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  printf("got %d\n", sig);
  fflush(stdout);
  return 0;
}
