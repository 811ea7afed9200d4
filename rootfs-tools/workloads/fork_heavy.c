/* fork-heavy: create many processes. Default mode forks short-lived children (optionally
 * exec'ing a program), a few at a time, and reports the rate. --bomb keeps every child alive
 * until MAX processes exist or fork() fails (as under a pids limit), then reaps them all. */
#include <getopt.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wl_common.h"

#define EXIT_FORK_FAILED 3

static void usage(FILE* out) {
  fprintf(
      out,
      "Usage: fork-heavy [-n COUNT] [-j PARALLEL] [-x PROGRAM] [-q]\n"
      "       fork-heavy --bomb MAX [-H HOLD] [-q]\n"
      "Create many processes and report how many and how fast.\n"
      "\n"
      "  -n, --count N        children to create in total (default 1000)\n"
      "  -j, --parallel N     children alive at once (default 1)\n"
      "  -x, --exec PROGRAM   each child execs PROGRAM (no arguments) instead of exiting\n"
      "  -b, --bomb MAX       keep every child alive until MAX children exist or fork()\n"
      "                       fails (e.g. under a pids limit); then kill and reap them all\n"
      "  -H, --hold T         in --bomb mode, hold the children for T before reaping\n"
      "  -q, --quiet          print only the final line\n"
      "  -h, --help           show this help\n"
      "\n"
      "Output: fork-heavy: mode=spawn|bomb created=N failed=F errno=NAME wall_s=T forks_per_s=R\n"
      "Exit status 3 when a fork() failed, 0 otherwise.\n");
}

static pid_t spawn_child(const char* exec_path, int hold_forever) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (hold_forever) {
    /* Die with the parent, so a killed fork-heavy leaves nothing behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) pause();
  }
  if (exec_path) {
    char* const args[] = {(char*)exec_path, NULL};
    execv(exec_path, args);
    _exit(127);
  }
  _exit(0);
}

static const char* errno_name(int e) {
  switch (e) {
    case 0:
      return "none";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case ENOSYS:
      return "ENOSYS";
    default:
      return "other";
  }
}

int main(int argc, char** argv) {
  static const struct option opts[] = {
      {"count", required_argument, 0, 'n'}, {"parallel", required_argument, 0, 'j'},
      {"exec", required_argument, 0, 'x'},  {"bomb", required_argument, 0, 'b'},
      {"hold", required_argument, 0, 'H'},  {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
  uint64_t count = 1000, parallel = 1, bomb = 0;
  double hold = 0;
  const char* exec_path = NULL;
  int quiet = 0, c;
  while ((c = getopt_long(argc, argv, "n:j:x:b:H:qh", opts, NULL)) != -1) {
    switch (c) {
      case 'n':
        if (wl_parse_uint(optarg, &count) || count == 0)
          wl_die_usage("fork-heavy", "--count expects a positive number, got", optarg);
        break;
      case 'j':
        if (wl_parse_uint(optarg, &parallel) || parallel == 0 || parallel > 100000)
          wl_die_usage("fork-heavy", "--parallel expects 1..100000, got", optarg);
        break;
      case 'x':
        exec_path = optarg;
        break;
      case 'b':
        if (wl_parse_uint(optarg, &bomb) || bomb == 0 || bomb > 1000000)
          wl_die_usage("fork-heavy", "--bomb expects 1..1000000, got", optarg);
        break;
      case 'H':
        if (wl_parse_seconds(optarg, &hold))
          wl_die_usage("fork-heavy", "--hold expects a time like 1s, got", optarg);
        break;
      case 'q':
        quiet = 1;
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind != argc) wl_die_usage("fork-heavy", "unexpected argument", argv[optind]);
  setvbuf(stdout, NULL, _IOLBF, 0);

  uint64_t created = 0, failed = 0;
  int fork_errno = 0;
  double t0 = wl_now();
  if (bomb) {
    pid_t* pids = calloc(bomb, sizeof *pids);
    if (!pids) {
      perror("fork-heavy: calloc");
      return 1;
    }
    while (created < bomb) {
      pid_t pid = spawn_child(NULL, 1);
      if (pid < 0) {
        fork_errno = errno;
        failed++;
        break;
      }
      pids[created++] = pid;
    }
    if (!quiet)
      fprintf(stderr, "fork-heavy: %llu children alive%s%s\n", (unsigned long long)created,
              failed ? ", fork failed: " : "", failed ? strerror(fork_errno) : "");
    if (hold > 0) {
      struct timespec ts = {(time_t)hold, (long)((hold - (double)(time_t)hold) * 1e9)};
      while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
      }
    }
    for (uint64_t i = 0; i < created; i++) kill(pids[i], SIGKILL);
    for (uint64_t i = 0; i < created; i++) waitpid(pids[i], NULL, 0);
    free(pids);
  } else {
    uint64_t alive = 0;
    while (created < count) {
      while (alive >= parallel) {
        if (wait(NULL) > 0)
          alive--;
        else if (errno != EINTR)
          break;
      }
      pid_t pid = spawn_child(exec_path, 0);
      if (pid < 0) {
        fork_errno = errno;
        failed++;
        break;
      }
      created++;
      alive++;
    }
    while (alive > 0 && (wait(NULL) > 0 || errno == EINTR)) alive--;
  }
  double wall = wl_now() - t0;
  printf("fork-heavy: mode=%s created=%llu failed=%llu errno=%s wall_s=%.6f forks_per_s=%.1f\n",
         bomb ? "bomb" : "spawn", (unsigned long long)created, (unsigned long long)failed,
         errno_name(fork_errno), wall, wall > 0 ? (double)created / wall : 0.0);
  return failed ? EXIT_FORK_FAILED : 0;
}
