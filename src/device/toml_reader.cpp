#include "toml_reader.hpp"

#include <cctype>
#include <cmath>
#include <sstream>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof::device_detail {

std::string toml_key(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') bare = false;
  if (bare) return std::string(key);
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string describe_value(const toml::node& node) {
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  if (const auto* s = node.as_string()) return '"' + s->get() + '"';
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  std::ostringstream os;
  node.visit([&os](const auto& v) { os << v; });
  return os.str();
}

std::string TomlReader::join(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  out += toml_key(key);
  return out;
}

void TomlReader::fail(uint32_t line, std::string_view path, std::string_view what) const {
  std::string msg = "device profile " + source_ + ": ";
  if (line > 0) msg += "line " + std::to_string(line) + ": ";
  if (!path.empty()) {
    msg += path;
    msg += ": ";
  }
  msg += what;
  throw Error(std::move(msg));
}

void TomlReader::wrong(const toml::node& at, std::string_view path,
                       std::string_view expected) const {
  std::string what = "expected ";
  what += expected;
  what += ", got " + describe_value(at);
  fail(at, path, what);
}

void TomlReader::only_keys(const toml::table& table, std::string_view prefix,
                           std::initializer_list<std::string_view> allowed) const {
  for (auto&& [key, value] : table) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key.str() == a;
    if (known) continue;
    std::string what = "unknown key; expected one of ";
    bool first = true;
    for (std::string_view a : allowed) {
      if (!first) what += ", ";
      what += a;
      first = false;
    }
    uint32_t line = key.source().begin.line;
    if (line == 0) line = value.source().begin.line;
    fail(line, join(prefix, key.str()), what);
  }
}

const toml::table* TomlReader::table(const toml::table& parent, std::string_view prefix,
                                     std::string_view key) const {
  const toml::node* n = parent.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) wrong(*n, join(prefix, key), "a table [" + join(prefix, key) + "]");
  return n->as_table();
}

std::optional<std::string> TomlReader::string(const toml::table& t, std::string_view prefix,
                                              std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) wrong(*n, join(prefix, key), "a string in double quotes");
  return n->as_string()->get();
}

std::optional<double> TomlReader::number(const toml::table& t, std::string_view prefix,
                                         std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  double v;
  if (const auto* i = n->as_integer())
    v = static_cast<double>(i->get());
  else if (const auto* f = n->as_floating_point())
    v = f->get();
  else
    wrong(*n, join(prefix, key), "a number like 0.25");
  if (!std::isfinite(v)) wrong(*n, join(prefix, key), "a finite number");
  return v;
}

std::optional<uint64_t> TomlReader::count(const toml::table& t, std::string_view prefix,
                                          std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  const auto* i = n->as_integer();
  if (!i || i->get() < 0) wrong(*n, join(prefix, key), "a whole number like 4");
  return static_cast<uint64_t>(i->get());
}

namespace {

// Integer or string-with-unit values (sizes, rates, durations) share one shape.
template <class Parse>
std::optional<uint64_t> unit_value(const TomlReader& r, const toml::table& t,
                                   std::string_view prefix, std::string_view key,
                                   std::string_view expected, Parse parse) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (const auto* i = n->as_integer()) {
    if (i->get() >= 0) return static_cast<uint64_t>(i->get());
  } else if (const auto* s = n->as_string()) {
    if (auto v = parse(s->get())) return v;
  }
  r.wrong(*n, TomlReader::join(prefix, key), expected);
}

}  // namespace

std::optional<uint64_t> TomlReader::size(const toml::table& t, std::string_view prefix,
                                         std::string_view key) const {
  return unit_value(*this, t, prefix, key, "a size like \"4GiB\", \"512MiB\" or a number of bytes",
                    [](std::string_view s) { return parse_size(s); });
}

std::optional<uint64_t> TomlReader::rate(const toml::table& t, std::string_view prefix,
                                         std::string_view key) const {
  return unit_value(*this, t, prefix, key, "a rate like \"45MB/s\" or a number of bytes per second",
                    [](std::string_view s) { return parse_rate(s); });
}

std::optional<uint64_t> TomlReader::duration_us(const toml::table& t, std::string_view prefix,
                                                std::string_view key) const {
  return unit_value(*this, t, prefix, key, "a duration like \"100ms\" or a number of microseconds",
                    [](std::string_view s) { return parse_duration_us(s); });
}

}  // namespace cgprof::device_detail
