// Makes an orphan that exits after its parent is gone, so it becomes a child of PID 1, then
// waits for it to disappear from /proc. Prints "orphan reaped" when PID 1 reaped it, or
// "orphan zombie" if it is still a zombie after 10 s.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  return p && p[1] ? p[2] : '?';
}

int main() {
  int fds[2];
  if (pipe(fds) < 0) return 2;
  pid_t mid = fork();
  if (mid == 0) {
    pid_t orphan = fork();
    if (orphan == 0) {
      usleep(100 * 1000);  // outlive the middle process
      _exit(0);
    }
    write(fds[1], &orphan, sizeof orphan);
    _exit(0);
  }
  pid_t orphan = 0;
  read(fds[0], &orphan, sizeof orphan);
  waitpid(mid, nullptr, 0);
  for (int i = 0; i < 1000; ++i) {
    char s = state_of(orphan);
    if (s == 0) {
      printf("orphan reaped\n");
      return 0;
    }
    usleep(10 * 1000);
  }
  printf("orphan zombie (state %c)\n", state_of(orphan));
  return 1;
}
