#include "cgprof/units.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>
#include <cmath>
#include <cstdio>
#include <limits>

namespace cgprof {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "12.5GiB" into the number ("12.5") and the unit ("GiB").
bool split_number(std::string_view s, std::string_view* number, std::string_view* unit) {
  s = trim(s);
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  *number = s.substr(0, i);
  *unit = trim(s.substr(i));
  return true;
}

// number * mul / div, rounded to the nearest integer; nullopt unless the result fits in an
// int64 (the range of every cgroup and rlimit value, and of JSON readers). Integers are scaled
// exactly ("-m 9007199254740993" stays that), decimals in long double.
std::optional<uint64_t> scaled(std::string_view number, uint64_t mul, uint64_t div) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (number.find('.') == std::string_view::npos) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec != std::errc{} || end != number.data() + number.size()) return std::nullopt;
    const unsigned __int128 r = (static_cast<unsigned __int128>(n) * mul + div / 2) / div;
    if (r > kMax) return std::nullopt;
    return static_cast<uint64_t>(r);
  }
  const std::string text(number);
  char* endp = nullptr;
  const long double v = std::strtold(text.c_str(), &endp);
  if (endp != text.c_str() + text.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  const long double r = std::roundl(v * static_cast<long double>(mul) / static_cast<long double>(div));
  if (!(r <= static_cast<long double>(kMax))) return std::nullopt;
  return static_cast<uint64_t>(r);
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  std::string_view number, unit;
  if (!split_number(text, &number, &unit)) return std::nullopt;
  struct Unit {
    const char* name;
    uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},          {"b", 1},
      {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
      {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000ull},
      {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000ull},
      {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull},
  };
  for (const Unit& u : kUnits)
    if (iequal(unit, u.name)) return scaled(number, u.factor, 1);
  return std::nullopt;
}

std::optional<uint64_t> parse_rate(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.substr(text.size() - 2) == "/s") text.remove_suffix(2);
  return parse_size(text);
}

std::optional<uint64_t> parse_duration_us(std::string_view text) {
  std::string_view number, unit;
  if (!split_number(text, &number, &unit)) return std::nullopt;
  struct Unit {
    const char* name;
    uint64_t mul, div;
  };
  static constexpr Unit kUnits[] = {{"", 1, 1},           {"us", 1, 1},
                                    {"ns", 1, 1000},      {"ms", 1000, 1},
                                    {"s", 1000000, 1},    {"m", 60000000, 1},
                                    {"h", 3600000000ull, 1}};
  for (const Unit& u : kUnits)
    if (unit == u.name) return scaled(number, u.mul, u.div);
  return std::nullopt;
}

std::optional<double> parse_decimal(std::string_view text) {
  std::string_view number, unit;
  if (!split_number(text, &number, &unit) || !unit.empty()) return std::nullopt;
  const std::string s(number);
  char* endp = nullptr;
  const double v = std::strtod(s.c_str(), &endp);
  if (endp != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_size(uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024.0 && i < 5) {
    v /= 1024.0;
    ++i;
  }
  char buf[32];
  if (i == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : "%.1f %s", v, kNames[i]);
  return buf;
}

std::optional<uint32_t> parse_u32(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  if (parse_u64(text.data(), end, &v) != end || v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

const char* parse_u64(const char* p, const char* end, uint64_t* out) {
  const char* start = p;
  uint64_t v = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (; p < end && *p >= '0' && *p <= '9'; ++p) {
    uint64_t d = static_cast<uint64_t>(*p - '0');
    v = (v > (kMax - d) / 10) ? kMax : v * 10 + d;
  }
  if (p == start) return nullptr;
  *out = v;
  return p;
}

}  // namespace cgprof
