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

// One known key of a flat keyed file and the field of T it fills; its index in the table is
// its bit in T::present.
template <class T, class V = uint64_t>
struct KeyField {
  const char* name;
  size_t len;
  V T::*field;
};
template <class T, class V, size_t N>
constexpr KeyField<T, V> key(const char (&name)[N], V T::*field) {
  return KeyField<T, V>{name, N - 1, field};
}

// The field of T that a key names, or nullptr (unknown keys are skipped).
template <class T, class V, size_t N>
V T::*find_key(const KeyField<T, V> (&keys)[N], const char* k, size_t klen, size_t* index) {
  for (size_t i = 0; i < N; ++i) {
    if (key_is(k, klen, keys[i].name, keys[i].len)) {
      *index = i;
      return keys[i].field;
    }
  }
  return nullptr;
}

// Flat keyed files ("key value\n" per line) into the fields of *out named by `keys`.
template <class T, size_t N>
bool parse_flat_keyed(const char* data, size_t len, const KeyField<T> (&keys)[N], T* out) {
  *out = T{};
  LineReader lines(data, len);
  Line line;
  bool ok = true;
  while (lines.next(&line)) {
    const char* sp = line.begin;
    while (sp < line.end && !is_space(*sp)) ++sp;
    size_t i = 0;
    uint64_t T::*field = find_key(keys, line.begin, static_cast<size_t>(sp - line.begin), &i);
    if (field == nullptr) continue;
    if (parse_line_value(sp, line.end, &(out->*field))) {
      out->present |= 1u << i;
    } else {
      ok = false;
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
  static constexpr KeyField<CpuStat> keys[] = {
      key("usage_usec", &CpuStat::usage_usec),     key("user_usec", &CpuStat::user_usec),
      key("system_usec", &CpuStat::system_usec),   key("nr_periods", &CpuStat::nr_periods),
      key("nr_throttled", &CpuStat::nr_throttled), key("throttled_usec", &CpuStat::throttled_usec)};
  return parse_flat_keyed(data, len, keys, out);
}

bool parse_memory_stat(const char* data, size_t len, MemoryStat* out) {
  static constexpr KeyField<MemoryStat> keys[] = {
      key("anon", &MemoryStat::anon),       key("file", &MemoryStat::file),
      key("kernel", &MemoryStat::kernel),   key("shmem", &MemoryStat::shmem),
      key("pgfault", &MemoryStat::pgfault), key("pgmajfault", &MemoryStat::pgmajfault)};
  return parse_flat_keyed(data, len, keys, out);
}

bool parse_memory_events(const char* data, size_t len, MemoryEvents* out) {
  static constexpr KeyField<MemoryEvents> keys[] = {
      key("low", &MemoryEvents::low),
      key("high", &MemoryEvents::high),
      key("max", &MemoryEvents::max),
      key("oom", &MemoryEvents::oom),
      key("oom_kill", &MemoryEvents::oom_kill),
      key("oom_group_kill", &MemoryEvents::oom_group_kill)};
  return parse_flat_keyed(data, len, keys, out);
}

bool parse_io_stat(const char* data, size_t len, IoStat* out) {
  static constexpr KeyField<IoDeviceStat> kIoKeys[] = {
      key("rbytes", &IoDeviceStat::rbytes), key("wbytes", &IoDeviceStat::wbytes),
      key("rios", &IoDeviceStat::rios),     key("wios", &IoDeviceStat::wios),
      key("dbytes", &IoDeviceStat::dbytes), key("dios", &IoDeviceStat::dios)};
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
      size_t klen = static_cast<size_t>(p - k);
      ++p;
      uint64_t v = 0;
      const char* q = parse_u64(p, line.end, &v);
      if (q == nullptr || (q < line.end && !is_space(*q))) {
        // Non-integer values exist for unknown keys (e.g. cost.vrate=12.50): skip them.
        while (p < line.end && !is_space(*p)) ++p;
        continue;
      }
      p = q;
      size_t i = 0;
      if (uint64_t IoDeviceStat::*field = find_key(kIoKeys, k, klen, &i)) dev.*field = v;
    }
    for (const KeyField<IoDeviceStat>& f : kIoKeys) out->total.*f.field += dev.*f.field;
    if (out->device_count < kMaxIoDevices) {
      out->devices[out->device_count++] = dev;
    } else {
      ++out->devices_omitted;
    }
  }
  return ok && !lines.truncated();
}

bool parse_pressure(const char* data, size_t len, Pressure* out) {
  static constexpr KeyField<PressureLine, uint32_t> kAvgKeys[] = {
      key("avg10", &PressureLine::avg10_centi), key("avg60", &PressureLine::avg60_centi),
      key("avg300", &PressureLine::avg300_centi)};
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
    bool saw_total = false;
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
      size_t i = 0;
      if (key_is(k, klen, "total", 5)) {
        q = parse_u64(p, line.end, &pl.total_usec);
        saw_total = true;
      } else if (uint32_t PressureLine::*avg = find_key(kAvgKeys, k, klen, &i)) {
        q = parse_centi(p, line.end, &(pl.*avg));
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
    if (line_ok && saw_total) {
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
  // The columns summed: receive bytes and packets (0, 1), transmit bytes and packets (8, 9).
  struct NetColumn {
    int column;
    uint64_t NetDevStat::*field;     // interfaces other than lo
    uint64_t NetDevStat::*lo_field;  // lo
  };
  static constexpr NetColumn kNetColumns[] = {
      {0, &NetDevStat::rx_bytes, &NetDevStat::lo_rx_bytes},
      {1, &NetDevStat::rx_packets, &NetDevStat::lo_rx_packets},
      {8, &NetDevStat::tx_bytes, &NetDevStat::lo_tx_bytes},
      {9, &NetDevStat::tx_packets, &NetDevStat::lo_tx_packets}};
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
    const bool lo = key_is(name, name_len, "lo", 2);
    for (const NetColumn& c : kNetColumns) out->*(lo ? c.lo_field : c.field) += v[c.column];
  }
  return ok && !lines.truncated();
}

}  // namespace cgprof
