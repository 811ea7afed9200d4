/* cpu-burn: keep N threads busy on pure integer work, for a duration or a fixed amount of work.
 * The fixed-work mode is what emulation-fidelity measurements need: the same work takes
 * longer under a smaller CPU quota, so wall-time ratios read off the quota directly. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>

#include "wl_common.h"

/* One work unit: 2^20 rounds of a multiply-xorshift mix (a few ms on a modern core). */
#define ROUNDS_PER_UNIT (1u << 20)

static atomic_uint_fast64_t g_units_left; /* fixed-work mode: units not yet claimed */
static atomic_uint_fast64_t g_units_done;
static atomic_int g_stop;
static int g_fixed_work;

static uint64_t work_unit(uint64_t x) {
  for (unsigned i = 0; i < ROUNDS_PER_UNIT; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x *= 0x9E3779B97F4A7C15ull;
  }
  return x;
}

static void* burner(void* arg) {
  uint64_t x = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
  for (;;) {
    if (g_fixed_work) {
      uint_fast64_t left = atomic_load(&g_units_left);
      do {
        if (left == 0) return (void*)(uintptr_t)x;
      } while (!atomic_compare_exchange_weak(&g_units_left, &left, left - 1));
    } else if (atomic_load_explicit(&g_stop, memory_order_relaxed)) {
      return (void*)(uintptr_t)x;
    }
    x = work_unit(x);
    atomic_fetch_add_explicit(&g_units_done, 1, memory_order_relaxed);
  }
}

static void usage(FILE* out) {
  fprintf(out,
          "Usage: cpu-burn [-t THREADS] [-d DURATION | -w UNITS] [-q]\n"
          "Keep THREADS threads busy with integer work and report the work done.\n"
          "\n"
          "  -t, --threads N     number of busy threads (default 1)\n"
          "  -d, --duration T    run for T (\"10\", \"2.5s\", \"500ms\"; default 5s)\n"
          "  -w, --work UNITS    do exactly UNITS work units shared by all threads, then exit\n"
          "                      (one unit = 2^20 mixing rounds, a few ms of one core)\n"
          "  -q, --quiet         print only the final key=value line\n"
          "  -h, --help          show this help\n"
          "\n"
          "Output (one line): cpu-burn: threads=N units=U wall_s=W cpu_s=C units_per_s=R\n"
          "                   cpu_cores=C/W checksum=X\n");
}

int main(int argc, char** argv) {
  static const struct option opts[] = {
      {"threads", required_argument, 0, 't'}, {"duration", required_argument, 0, 'd'},
      {"work", required_argument, 0, 'w'},    {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  uint64_t threads = 1, work = 0;
  double duration = 5.0;
  int quiet = 0, have_duration = 0, c;
  while ((c = getopt_long(argc, argv, "t:d:w:qh", opts, NULL)) != -1) {
    switch (c) {
      case 't':
        if (wl_parse_uint(optarg, &threads) || threads == 0 || threads > 4096)
          wl_die_usage("cpu-burn", "--threads expects 1..4096, got", optarg);
        break;
      case 'd':
        if (wl_parse_seconds(optarg, &duration))
          wl_die_usage("cpu-burn", "--duration expects a time like 10s or 500ms, got", optarg);
        have_duration = 1;
        break;
      case 'w':
        if (wl_parse_uint(optarg, &work) || work == 0)
          wl_die_usage("cpu-burn", "--work expects a positive unit count, got", optarg);
        g_fixed_work = 1;
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
  if (optind != argc) wl_die_usage("cpu-burn", "unexpected argument", argv[optind]);
  if (have_duration && g_fixed_work)
    wl_die_usage("cpu-burn", "--duration and --work are exclusive;", "pick one");

  atomic_store(&g_units_left, work);
  if (!quiet) {
    if (g_fixed_work)
      fprintf(stderr, "cpu-burn: %llu threads, %llu work units\n", (unsigned long long)threads,
              (unsigned long long)work);
    else
      fprintf(stderr, "cpu-burn: %llu threads for %.3f s\n", (unsigned long long)threads, duration);
  }
  double cpu0 = wl_cpu_seconds(), t0 = wl_now();
  pthread_t* tids = calloc(threads, sizeof *tids);
  if (!tids) {
    perror("cpu-burn: calloc");
    return 1;
  }
  for (uint64_t i = 0; i < threads; i++) {
    int err = pthread_create(&tids[i], NULL, burner, (void*)(uintptr_t)(i + 1));
    if (err) {
      fprintf(stderr, "cpu-burn: pthread_create: %s\n", strerror(err));
      return 1;
    }
  }
  if (!g_fixed_work) {
    struct timespec ts = {(time_t)duration, (long)((duration - (double)(time_t)duration) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
    atomic_store(&g_stop, 1);
  }
  uint64_t checksum = 0;
  for (uint64_t i = 0; i < threads; i++) {
    void* r;
    pthread_join(tids[i], &r);
    checksum ^= (uint64_t)(uintptr_t)r;
  }
  free(tids);
  double wall = wl_now() - t0, cpu = wl_cpu_seconds() - cpu0;
  uint64_t done = atomic_load(&g_units_done);
  printf(
      "cpu-burn: threads=%llu units=%llu wall_s=%.6f cpu_s=%.6f units_per_s=%.1f "
      "cpu_cores=%.3f checksum=%016llx\n",
      (unsigned long long)threads, (unsigned long long)done, wall, cpu,
      wall > 0 ? (double)done / wall : 0.0, wall > 0 ? cpu / wall : 0.0,
      (unsigned long long)checksum);
  return 0;
}
