/* mem-alloc: allocate a target amount of anonymous memory, touch every page (so it is really
 * charged to the cgroup), optionally over a ramp time, then hold it. Progress goes to stdout
 * line by line so that a run killed by the OOM killer still shows how far it got. */
#include <getopt.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl_common.h"

static void usage(FILE* out) {
  fprintf(out,
          "Usage: mem-alloc -s SIZE [-H HOLD] [-r RAMP] [-p STEP] [--no-touch] [-q]\n"
          "Allocate SIZE bytes of anonymous memory, write to every page, hold it, exit.\n"
          "\n"
          "  -s, --size SIZE     amount to allocate (\"64m\", \"1.5GiB\", \"4096\"); required\n"
          "  -H, --hold T        keep the memory for T after touching it (\"2s\"; default 0)\n"
          "  -r, --ramp T        spread the touching evenly over T instead of going flat out\n"
          "  -p, --progress STEP print a progress line every STEP touched (default 64m)\n"
          "      --no-touch      only reserve address space; do not write to the pages\n"
          "  -q, --quiet         no progress lines, only the final line\n"
          "  -h, --help          show this help\n"
          "\n"
          "Output: progress lines \"mem-alloc: touched=BYTES\", then\n"
          "        mem-alloc: requested=BYTES touched=BYTES vm_hwm=BYTES vm_rss=BYTES\n"
          "                   touch_s=T hold_s=T\n"
          "Killed by the OOM killer, it exits with signal 9 (status 137 in a shell).\n");
}

int main(int argc, char** argv) {
  enum { OPT_NO_TOUCH = 1000 };
  static const struct option opts[] = {{"size", required_argument, 0, 's'},
                                       {"hold", required_argument, 0, 'H'},
                                       {"ramp", required_argument, 0, 'r'},
                                       {"progress", required_argument, 0, 'p'},
                                       {"no-touch", no_argument, 0, OPT_NO_TOUCH},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  uint64_t size = 0, step = 64ull << 20;
  double hold = 0, ramp = 0;
  int touch = 1, quiet = 0, have_size = 0, c;
  while ((c = getopt_long(argc, argv, "s:H:r:p:qh", opts, NULL)) != -1) {
    switch (c) {
      case 's':
        if (wl_parse_size(optarg, &size) || size == 0)
          wl_die_usage("mem-alloc", "--size expects a size like 64m or 1GiB, got", optarg);
        have_size = 1;
        break;
      case 'H':
        if (wl_parse_seconds(optarg, &hold))
          wl_die_usage("mem-alloc", "--hold expects a time like 2s, got", optarg);
        break;
      case 'r':
        if (wl_parse_seconds(optarg, &ramp))
          wl_die_usage("mem-alloc", "--ramp expects a time like 2s, got", optarg);
        break;
      case 'p':
        if (wl_parse_size(optarg, &step) || step == 0)
          wl_die_usage("mem-alloc", "--progress expects a size like 64m, got", optarg);
        break;
      case OPT_NO_TOUCH:
        touch = 0;
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
  if (optind != argc) wl_die_usage("mem-alloc", "unexpected argument", argv[optind]);
  if (!have_size) wl_die_usage("mem-alloc", "--size is required;", "e.g. -s 64m");
  setvbuf(stdout, NULL, _IOLBF, 0);

  long page = sysconf(_SC_PAGESIZE);
  unsigned char* mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    char buf[32];
    wl_format_size(size, buf, sizeof buf);
    fprintf(stderr, "mem-alloc: mmap of %s failed: %s\n", buf, strerror(errno));
    return 1;
  }
  uint64_t touched = 0, next_report = step;
  double t0 = wl_now();
  if (touch) {
    for (uint64_t off = 0; off < size; off += (uint64_t)page) {
      mem[off] = (unsigned char)(off >> 12) | 1; /* non-zero: no shared zero page */
      touched = off + (uint64_t)page < size ? off + (uint64_t)page : size;
      if (ramp > 0 && (off / (uint64_t)page) % 256 == 0) {
        double due = t0 + ramp * (double)touched / (double)size, now = wl_now();
        if (due > now) {
          struct timespec ts = {(time_t)(due - now),
                                (long)(((due - now) - (double)(time_t)(due - now)) * 1e9)};
          nanosleep(&ts, NULL);
        }
      }
      if (!quiet && touched >= next_report) {
        printf("mem-alloc: touched=%llu\n", (unsigned long long)touched);
        next_report += step;
      }
    }
  }
  double touch_s = wl_now() - t0;
  double h0 = wl_now();
  if (hold > 0) {
    struct timespec ts = {(time_t)hold, (long)((hold - (double)(time_t)hold) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
  }
  printf(
      "mem-alloc: requested=%llu touched=%llu vm_hwm=%llu vm_rss=%llu touch_s=%.6f hold_s=%.6f\n",
      (unsigned long long)size, (unsigned long long)touched,
      (unsigned long long)wl_proc_status_kb("VmHWM"),
      (unsigned long long)wl_proc_status_kb("VmRSS"), touch_s, wl_now() - h0);
  munmap(mem, size);
  return 0;
}
