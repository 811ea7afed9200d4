// Parsers of /proc/PID/stat, statm and io: pure functions of bytes, no allocation.
#include <cstring>
#include <iterator>

#include "cgprof/cgroup_emulated.hpp"

namespace cgprof {
namespace {

// Skips spaces, then an optionally signed decimal; negative values read as 0 (counters only).
bool next_number(const char*& p, const char* end, uint64_t* out) {
  while (p < end && *p == ' ') ++p;
  bool neg = p < end && *p == '-';
  if (neg) ++p;
  if (p >= end || *p < '0' || *p > '9') return false;
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  *out = neg ? 0 : v;
  return true;
}

}  // namespace

bool parse_proc_pid_stat(const char* d, size_t n, ProcPidStat* out) {
  *out = ProcPidStat{};
  const char* end = d + n;
  const char* rp = nullptr;
  for (const char* p = d; p < end; ++p)
    if (*p == ')') rp = p;
  if (!rp || rp + 2 >= end) return false;
  const char* p = rp + 2;
  out->state = *p++;
  // Fields 4 (ppid) to 24 (rss); field numbers as in proc(5).
  uint64_t v[25] = {};
  for (int field = 4; field <= 24; ++field)
    if (!next_number(p, end, &v[field])) return false;
  out->minflt = v[10];
  out->cminflt = v[11];
  out->majflt = v[12];
  out->cmajflt = v[13];
  out->utime = v[14];
  out->stime = v[15];
  out->cutime = v[16];
  out->cstime = v[17];
  out->num_threads = v[20];
  out->starttime = v[22];
  out->rss_pages = v[24];
  return true;
}

bool parse_proc_statm(const char* d, size_t n, ProcStatm* out) {
  *out = ProcStatm{};
  const char* p = d;
  const char* end = d + n;
  return next_number(p, end, &out->size) && next_number(p, end, &out->resident) &&
         next_number(p, end, &out->shared);
}

bool parse_proc_io(const char* d, size_t n, ProcIo* out) {
  *out = ProcIo{};
  struct Key {
    const char* name;
    uint64_t ProcIo::*field;
  };
  static constexpr Key kKeys[] = {{"rchar", &ProcIo::rchar},
                                  {"wchar", &ProcIo::wchar},
                                  {"syscr", &ProcIo::syscr},
                                  {"syscw", &ProcIo::syscw},
                                  {"read_bytes", &ProcIo::read_bytes},
                                  {"write_bytes", &ProcIo::write_bytes},
                                  {"cancelled_write_bytes", &ProcIo::cancelled_write_bytes}};
  const char* end = d + n;
  unsigned found = 0;
  for (const char* line = d; line < end;) {
    const char* nl = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    if (!nl) return false;  // cut short
    const char* colon = static_cast<const char*>(std::memchr(line, ':', static_cast<size_t>(nl - line)));
    if (colon) {
      for (const Key& k : kKeys) {
        size_t len = std::strlen(k.name);
        if (static_cast<size_t>(colon - line) != len || std::memcmp(line, k.name, len) != 0) continue;
        const char* p = colon + 1;
        if (!next_number(p, nl, &(out->*k.field))) return false;
        ++found;
      }
    }
    line = nl + 1;
  }
  return found == std::size(kKeys);
}

}  // namespace cgprof
