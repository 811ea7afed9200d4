// Hand-written parsers for cgroup v2 stat files; see include/cgprof/stat_parsers.hpp for the
// rules. They run in the sampling loop, so they only scan bytes: no allocation, no locale.
#include "cgprof/stat_parsers.hpp"

#include <cstring>

#include "cgprof/units.hpp"

namespace cgprof {
namespace {

struct Line {
  const char* begin;
  const char* end;  // points at the '\n'
};

// Yields complete lines; sets *truncated if bytes remain after the last '\n'.
class LineReader {
 public:
  LineReader(const char* data, size_t len) : p_(data), end_(data + len) {}
  bool next(Line* line) {
    if (p_ >= end_) return false;
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', end_ - p_));
    if (nl == nullptr) {
      truncated_ = true;
      p_ = end_;
      return false;
    }
    line->begin = p_;
    line->end = nl;
    p_ = nl + 1;
    return true;
  }
  bool truncated() const { return truncated_; }

 private:
  const char* p_;
  const char* end_;
  bool truncated_ = false;
};

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

const char* skip_spaces(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

bool key_is(const char* k, size_t klen, const char* name, size_t nlen) {
  return klen == nlen && std::memcmp(k, name, nlen) == 0;
}

// "value" then optional spaces to the end of the line.
bool parse_line_value(const char* p, const char* end, uint64_t* out) {
  p = skip_spaces(p, end);
  const char* q = parse_u64(p, end, out);
  if (q == nullptr) return false;
  q = skip_spaces(q, end);
  return q == end;
}

struct KeyField {
  const char* name;
  size_t len;
};
#define CGPROF_KEY(s) \
  KeyField {          \
    s, sizeof(s) - 1  \
  }

// Flat keyed files ("key value\n" per line) with N known keys, written to out[i].
template <size_t N>
bool parse_flat_keyed(const char* data, size_t len, const KeyField (&keys)[N], uint64_t* out,
                      uint32_t* present) {
  LineReader lines(data, len);
  Line line;
  bool ok = true;
  while (lines.next(&line)) {
    const char* sp = line.begin;
    while (sp < line.end && !is_space(*sp)) ++sp;
    size_t klen = sp - line.begin;
    for (size_t i = 0; i < N; ++i) {
      if (!key_is(line.begin, klen, keys[i].name, keys[i].len)) continue;
      if (parse_line_value(sp, line.end, &out[i])) {
        *present |= 1u << i;
      } else {
        ok = false;
      }
      break;
    }
  }
  return ok && !lines.truncated();
}

// Fixed-point percentage "12.34" -> 1234 (extra decimals truncated, missing ones padded).
const char* parse_centi(const char* p, const char* end, uint32_t* out) {
  uint64_t whole = 0;
  const char* q = parse_u64(p, end, &whole);
  if (q == nullptr) return nullptr;
  uint64_t frac = 0;
  if (q < end && *q == '.') {
    ++q;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9') {
      if (digits < 2) frac = frac * 10 + static_cast<uint64_t>(*q - '0');
      ++digits;
      ++q;
    }
    if (digits == 0) return nullptr;
    if (digits == 1) frac *= 10;
  }
  uint64_t v = whole * 100 + frac;
  *out = v > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(v);
  return q;
}

}  // namespace

bool parse_cpu_stat(const char* data, size_t len, CpuStat* out) {
  static constexpr KeyField keys[] = {CGPROF_KEY("usage_usec"),   CGPROF_KEY("user_usec"),
                                      CGPROF_KEY("system_usec"),  CGPROF_KEY("nr_periods"),
                                      CGPROF_KEY("nr_throttled"), CGPROF_KEY("throttled_usec")};
  uint64_t v[6] = {};
  uint32_t present = 0;
  bool ok = parse_flat_keyed(data, len, keys, v, &present);
  out->usage_usec = v[0];
  out->user_usec = v[1];
  out->system_usec = v[2];
  out->nr_periods = v[3];
  out->nr_throttled = v[4];
  out->throttled_usec = v[5];
  out->present = present;
  return ok;
}

bool parse_memory_stat(const char* data, size_t len, MemoryStat* out) {
  static constexpr KeyField keys[] = {CGPROF_KEY("anon"),    CGPROF_KEY("file"),
                                      CGPROF_KEY("kernel"),  CGPROF_KEY("shmem"),
                                      CGPROF_KEY("pgfault"), CGPROF_KEY("pgmajfault")};
  uint64_t v[6] = {};
  uint32_t present = 0;
  bool ok = parse_flat_keyed(data, len, keys, v, &present);
  out->anon = v[0];
  out->file = v[1];
  out->kernel = v[2];
  out->shmem = v[3];
  out->pgfault = v[4];
  out->pgmajfault = v[5];
  out->present = present;
  return ok;
}

bool parse_memory_events(const char* data, size_t len, MemoryEvents* out) {
  static constexpr KeyField keys[] = {CGPROF_KEY("low"),      CGPROF_KEY("high"),
                                      CGPROF_KEY("max"),      CGPROF_KEY("oom"),
                                      CGPROF_KEY("oom_kill"), CGPROF_KEY("oom_group_kill")};
  uint64_t v[6] = {};
  uint32_t present = 0;
  bool ok = parse_flat_keyed(data, len, keys, v, &present);
  out->low = v[0];
  out->high = v[1];
  out->max = v[2];
  out->oom = v[3];
  out->oom_kill = v[4];
  out->oom_group_kill = v[5];
  out->present = present;
  return ok;
}

bool parse_io_stat(const char* data, size_t len, IoStat* out) {
  *out = IoStat{};
  LineReader lines(data, len);
  Line line;
  bool ok = true;
  while (lines.next(&line)) {
    const char* p = skip_spaces(line.begin, line.end);
    if (p == line.end) continue;
    uint64_t major = 0, minor = 0;
    p = parse_u64(p, line.end, &major);
    if (p == nullptr || p == line.end || *p != ':') {
      ok = false;
      continue;
    }
    p = parse_u64(p + 1, line.end, &minor);
    if (p == nullptr) {
      ok = false;
      continue;
    }
    IoDeviceStat dev;
    dev.major = static_cast<uint32_t>(major);
    dev.minor = static_cast<uint32_t>(minor);
    // "key=value" pairs separated by spaces; unknown keys (cost.*, newer fields) skipped.
    while (true) {
      p = skip_spaces(p, line.end);
      if (p >= line.end) break;
      const char* k = p;
      while (p < line.end && *p != '=' && !is_space(*p)) ++p;
      if (p >= line.end || *p != '=') {
        ok = false;
        while (p < line.end && !is_space(*p)) ++p;
        continue;
      }
      size_t klen = p - k;
      ++p;
      uint64_t v = 0;
      const char* q = parse_u64(p, line.end, &v);
      if (q == nullptr || (q < line.end && !is_space(*q))) {
        // Non-integer values exist for unknown keys (e.g. cost.vrate=12.50): skip them.
        while (p < line.end && !is_space(*p)) ++p;
        continue;
      }
      p = q;
      uint64_t* field = nullptr;
      if (key_is(k, klen, "rbytes", 6))
        field = &dev.rbytes;
      else if (key_is(k, klen, "wbytes", 6))
        field = &dev.wbytes;
      else if (key_is(k, klen, "rios", 4))
        field = &dev.rios;
      else if (key_is(k, klen, "wios", 4))
        field = &dev.wios;
      else if (key_is(k, klen, "dbytes", 6))
        field = &dev.dbytes;
      else if (key_is(k, klen, "dios", 4))
        field = &dev.dios;
      if (field != nullptr) *field = v;
    }
    out->total.rbytes += dev.rbytes;
    out->total.wbytes += dev.wbytes;
    out->total.rios += dev.rios;
    out->total.wios += dev.wios;
    out->total.dbytes += dev.dbytes;
    out->total.dios += dev.dios;
    if (out->device_count < kMaxIoDevices) {
      out->devices[out->device_count++] = dev;
    } else {
      ++out->devices_omitted;
    }
  }
  return ok && !lines.truncated();
}

bool parse_pressure(const char* data, size_t len, Pressure* out) {
  *out = Pressure{};
  LineReader lines(data, len);
  Line line;
  bool ok = true;
  while (lines.next(&line)) {
    const char* p = line.begin;
    PressureLine* dst = nullptr;
    uint32_t bit = 0;
    if (line.end - p >= 4 && std::memcmp(p, "some", 4) == 0) {
      dst = &out->some;
      bit = 1;
    } else if (line.end - p >= 4 && std::memcmp(p, "full", 4) == 0) {
      dst = &out->full;
      bit = 2;
    } else {
      continue;
    }
    p += 4;
    PressureLine pl;
    uint32_t seen = 0;
    bool line_ok = true;
    while (true) {
      p = skip_spaces(p, line.end);
      if (p >= line.end) break;
      const char* k = p;
      while (p < line.end && *p != '=' && !is_space(*p)) ++p;
      if (p >= line.end || *p != '=') {
        line_ok = false;
        break;
      }
      size_t klen = p - k;
      ++p;
      const char* q = nullptr;
      if (key_is(k, klen, "avg10", 5)) {
        q = parse_centi(p, line.end, &pl.avg10_centi);
        seen |= 1;
      } else if (key_is(k, klen, "avg60", 5)) {
        q = parse_centi(p, line.end, &pl.avg60_centi);
        seen |= 2;
      } else if (key_is(k, klen, "avg300", 6)) {
        q = parse_centi(p, line.end, &pl.avg300_centi);
        seen |= 4;
      } else if (key_is(k, klen, "total", 5)) {
        q = parse_u64(p, line.end, &pl.total_usec);
        seen |= 8;
      } else {
        q = p;
        while (q < line.end && !is_space(*q)) ++q;
      }
      if (q == nullptr || (q < line.end && !is_space(*q))) {
        line_ok = false;
        break;
      }
      p = q;
    }
    if (line_ok && (seen & 8)) {
      *dst = pl;
      out->present |= bit;
    } else {
      ok = false;
    }
  }
  return ok && !lines.truncated();
}

bool parse_single_value(const char* data, size_t len, uint64_t* out) {
  const char* p = data;
  const char* end = data + len;
  while (p < end && (is_space(*p) || *p == '\n')) ++p;
  const char* q;
  if (end - p >= 3 && std::memcmp(p, "max", 3) == 0) {
    *out = UINT64_MAX;
    q = p + 3;
  } else {
    q = parse_u64(p, end, out);
    if (q == nullptr) return false;
  }
  // A value cut short by a short read cannot be detected without the newline: require it.
  if (q >= end || *q != '\n') return false;
  while (q < end && (is_space(*q) || *q == '\n')) ++q;
  return q == end;
}

bool parse_net_dev(const char* data, size_t len, NetDevStat* out) {
  *out = NetDevStat{};
  LineReader lines(data, len);
  Line line;
  bool ok = true;
  while (lines.next(&line)) {
    // Header lines have '|' and no ':'; interface lines are "  name: 16 numbers".
    const char* colon =
        static_cast<const char*>(std::memchr(line.begin, ':', line.end - line.begin));
    if (colon == nullptr) continue;
    const char* name = skip_spaces(line.begin, colon);
    size_t name_len = colon - name;
    uint64_t v[16];
    const char* p = colon + 1;
    int n = 0;
    for (; n < 16; ++n) {
      p = skip_spaces(p, line.end);
      const char* q = parse_u64(p, line.end, &v[n]);
      if (q == nullptr) break;
      p = q;
    }
    if (n < 10) {  // need at least rx (8 fields) and tx bytes/packets
      ok = false;
      continue;
    }
    ++out->interfaces;
    if (key_is(name, name_len, "lo", 2)) {
      out->lo_rx_bytes += v[0];
      out->lo_rx_packets += v[1];
      out->lo_tx_bytes += v[8];
      out->lo_tx_packets += v[9];
    } else {
      out->rx_bytes += v[0];
      out->rx_packets += v[1];
      out->tx_bytes += v[8];
      out->tx_packets += v[9];
    }
  }
  return ok && !lines.truncated();
}

}  // namespace cgprof
