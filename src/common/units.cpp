#include "cgprof/units.hpp"

#include <cctype>
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

// Splits "12.5GiB" into the number and the unit.
bool split_number(std::string_view s, double* value, std::string_view* unit) {
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
  std::string num(s.substr(0, i));
  char* endp = nullptr;
  *value = std::strtod(num.c_str(), &endp);
  if (endp != num.c_str() + num.size() || !std::isfinite(*value)) return false;
  *unit = trim(s.substr(i));
  return true;
}

std::optional<uint64_t> to_u64(double v) {
  if (v < 0 || v >= 18446744073709551615.0) return std::nullopt;
  return static_cast<uint64_t>(std::llround(v));
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  double v;
  std::string_view unit;
  if (!split_number(text, &v, &unit)) return std::nullopt;
  struct Unit {
    const char* name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},          {"b", 1},
      {"k", 1024.0},    {"kib", 1024.0},    {"kb", 1e3},
      {"m", 1048576.0}, {"mib", 1048576.0}, {"mb", 1e6},
      {"g", 1073741824.0}, {"gib", 1073741824.0}, {"gb", 1e9},
      {"t", 1099511627776.0}, {"tib", 1099511627776.0}, {"tb", 1e12},
  };
  for (const Unit& u : kUnits)
    if (iequal(unit, u.name)) return to_u64(v * u.factor);
  return std::nullopt;
}

std::optional<uint64_t> parse_rate(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.substr(text.size() - 2) == "/s") text.remove_suffix(2);
  return parse_size(text);
}

std::optional<uint64_t> parse_duration_us(std::string_view text) {
  double v;
  std::string_view unit;
  if (!split_number(text, &v, &unit)) return std::nullopt;
  struct Unit {
    const char* name;
    double factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},    {"us", 1},      {"ns", 1e-3}, {"ms", 1e3},
                                    {"s", 1e6}, {"m", 60e6},    {"h", 3600e6}};
  for (const Unit& u : kUnits)
    if (unit == u.name) return to_u64(v * u.factor);
  return std::nullopt;
}

std::optional<double> parse_decimal(std::string_view text) {
  double v;
  std::string_view unit;
  if (!split_number(text, &v, &unit) || !unit.empty()) return std::nullopt;
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
