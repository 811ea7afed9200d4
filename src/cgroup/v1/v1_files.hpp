// Private to the v1 backend: scanning v1's flat "key value" files without allocating (the
// sampler parses them at 1 kHz+), and small whole-file reads for totals and setup.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "cgprof/cgroup.hpp"
#include "cgprof/units.hpp"

namespace cgprof::v1_detail {

// Calls line(begin, end) for each complete line ('\n' excluded). False if the data ends in an
// unterminated line (a cut-short read).
template <class F>
bool for_each_complete_line(const char* data, size_t len, F&& line) {
  const char* p = data;
  const char* end = data + len;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) return false;
    line(p, nl);
    p = nl + 1;
  }
  return true;
}

// Calls f(key, value_ok, value) for each complete "KEY VALUE\n" line (value: the first number
// after the key). Returns false if the data ends in an unterminated line (a cut-short read) or
// f returned false for a known key whose value did not parse.
template <class F>
bool for_each_key_value(const char* data, size_t len, F&& f) {
  bool ok = true;
  bool complete = for_each_complete_line(data, len, [&](const char* p, const char* nl) {
    const char* sp = p;
    while (sp < nl && *sp != ' ') ++sp;
    std::string_view key(p, static_cast<size_t>(sp - p));
    uint64_t v = 0;
    const char* q = sp < nl ? parse_u64(sp + 1, nl, &v) : nullptr;
    if (!f(key, q != nullptr && q == nl, v)) ok = false;
  });
  return complete && ok;
}

}  // namespace cgprof::v1_detail
