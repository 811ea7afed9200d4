/* Shared helpers for the static test workloads: size/duration parsing and clocks.
 * Kept header-only so each workload is one self-contained static executable. */
#ifndef CGPROF_WL_COMMON_H
#define CGPROF_WL_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double wl_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) of the whole process, all threads, in seconds. */
static inline double wl_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void wl_die_usage(const char* prog, const char* msg, const char* arg) {
  fprintf(stderr, "%s: %s '%s' (see %s --help)\n", prog, msg, arg ? arg : "", prog);
  exit(2);
}

/* "4096", "64k", "64m", "1.5g", "64KiB", "64MB" -> bytes (binary multiples, like docker). */
static inline int wl_parse_size(const char* s, uint64_t* out) {
  char* end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno != 0 || v < 0) return -1;
  double mult = 1;
  switch (*end) {
    case '\0':
      break;
    case 'b':
    case 'B':
      mult = 1;
      end++;
      break;
    case 'k':
    case 'K':
      mult = 1024.0;
      end++;
      break;
    case 'm':
    case 'M':
      mult = 1024.0 * 1024;
      end++;
      break;
    case 'g':
    case 'G':
      mult = 1024.0 * 1024 * 1024;
      end++;
      break;
    case 't':
    case 'T':
      mult = 1024.0 * 1024 * 1024 * 1024;
      end++;
      break;
    default:
      return -1;
  }
  if (mult > 1) {
    if (*end == 'i' && (end[1] == 'B' || end[1] == 'b'))
      end += 2;
    else if (*end == 'B' || *end == 'b')
      end++;
  }
  if (*end != '\0') return -1;
  *out = (uint64_t)(v * mult);
  return 0;
}

/* "10", "2.5s", "500ms", "1m" -> seconds. */
static inline int wl_parse_seconds(const char* s, double* out) {
  char* end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno != 0 || v < 0) return -1;
  if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
    *out = v;
  else if (strcmp(end, "ms") == 0)
    *out = v / 1e3;
  else if (strcmp(end, "us") == 0)
    *out = v / 1e6;
  else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    *out = v * 60;
  else
    return -1;
  return 0;
}

static inline int wl_parse_uint(const char* s, uint64_t* out) {
  char* end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || s[0] == '-') return -1;
  *out = v;
  return 0;
}

static inline void wl_format_size(uint64_t n, char* buf, size_t len) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, len, "%llu B", (unsigned long long)n);
  else
    snprintf(buf, len, "%.2f %s", v, units[u]);
}

/* Value of "Key:   123 kB" from /proc/self/status, in bytes; 0 if absent. */
static inline uint64_t wl_proc_status_kb(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t v = 0;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      v = strtoull(line + klen + 1, NULL, 10) * 1024;
      break;
    }
  }
  fclose(f);
  return v;
}

#endif
