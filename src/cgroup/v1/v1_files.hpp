// Private to the v1 backend: scanning v1's flat "key value" files without allocating (the
// sampler parses them at 1 kHz+), and small whole-file reads for totals and setup.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "cgprof/units.hpp"

namespace cgprof::v1_detail {

// Calls f(key, value_ok, value) for each complete "KEY VALUE\n" line (value: the first number
// after the key). Returns false if the data ends in an unterminated line (a cut-short read) or
// f returned false for a known key whose value did not parse.
template <class F>
bool for_each_key_value(const char* data, size_t len, F&& f) {
  const char* p = data;
  const char* end = data + len;
  bool ok = true;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) return false;
    const char* sp = p;
    while (sp < nl && *sp != ' ') ++sp;
    std::string_view key(p, static_cast<size_t>(sp - p));
    uint64_t v = 0;
    const char* q = sp < nl ? parse_u64(sp + 1, nl, &v) : nullptr;
    bool value_ok = q != nullptr && q == nl;
    if (!f(key, value_ok, v)) ok = false;
    p = nl + 1;
  }
  return ok;
}

// Whole small file below dirfd (O_PATH dirfd fine); nullopt if absent or unreadable.
std::optional<std::string> try_read(int dirfd, const char* name);
// A single-number file; nullopt if absent or not a number.
std::optional<uint64_t> try_value(int dirfd, const char* name);
// True if `name` exists below dirfd.
bool has_file(int dirfd, const char* name);

}  // namespace cgprof::v1_detail
