// Typed, validating access to a parsed TOML document. Every failure throws a cgprof::Error
// that reads `device profile FILE: line N: KEY: expected ..., got ...`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "toml.hpp"

namespace cgprof::device_detail {

// `key` as it would be written in a dotted TOML path: bare if possible, else quoted.
std::string toml_key(std::string_view key);

// A value as it appears in the file, for "got ..." in messages: 12, "fast", a table, ...
std::string describe_value(const toml::node& node);

class TomlReader {
 public:
  explicit TomlReader(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }

  // Throws `device profile SOURCE: line LINE: PATH: WHAT` (line left out when 0).
  [[noreturn]] void fail(uint32_t line, std::string_view path, std::string_view what) const;
  [[noreturn]] void fail(const toml::node& at, std::string_view path, std::string_view what) const {
    fail(at.source().begin.line, path, what);
  }
  // "expected EXPECTED, got <value>".
  [[noreturn]] void wrong(const toml::node& at, std::string_view path,
                          std::string_view expected) const;

  // Rejects keys of `table` not in `allowed`. `prefix` is the table's dotted path ("" at root).
  void only_keys(const toml::table& table, std::string_view prefix,
                 std::initializer_list<std::string_view> allowed) const;

  // Each getter returns nullopt when the key is absent and throws when it has the wrong type
  // or an impossible value.
  const toml::table* table(const toml::table& parent, std::string_view prefix,
                           std::string_view key) const;
  std::optional<std::string> string(const toml::table& t, std::string_view prefix,
                                    std::string_view key) const;
  std::optional<double> number(const toml::table& t, std::string_view prefix,
                               std::string_view key) const;
  // A non-negative integer.
  std::optional<uint64_t> count(const toml::table& t, std::string_view prefix,
                                std::string_view key) const;
  // Integer bytes or a string with a unit ("4GiB", "512m").
  std::optional<uint64_t> size(const toml::table& t, std::string_view prefix,
                               std::string_view key) const;
  // Integer bytes/s or a string ("45MB/s").
  std::optional<uint64_t> rate(const toml::table& t, std::string_view prefix,
                               std::string_view key) const;
  // Integer microseconds or a string ("100ms").
  std::optional<uint64_t> duration_us(const toml::table& t, std::string_view prefix,
                                      std::string_view key) const;

  static std::string join(std::string_view prefix, std::string_view key);

 private:
  std::string source_;
};

}  // namespace cgprof::device_detail
