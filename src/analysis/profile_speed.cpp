// Writing the derived per-core speed into a device profile: a textual edit of `speed` in the
// [cpu] table, so the profile's comments and layout survive (the device module's calibration
// writer does the same for the [calibration.*] tables).
#include <cstdio>
#include <string>
#include <string_view>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_header(std::string_view line) {
  return !trim(line).empty() && trim(line)[0] == '[';
}

bool is_cpu_header(std::string_view line) {
  std::string_view t = trim(line);
  if (t.size() < 5 || t[0] != '[' || t[1] == '[') return false;
  t.remove_prefix(1);
  auto close = t.find(']');
  if (close == std::string_view::npos) return false;
  return trim(t.substr(0, close)) == "cpu";
}

bool is_speed_key(std::string_view line) {
  std::string_view t = trim(line);
  if (t.substr(0, 5) != "speed") return false;
  t.remove_prefix(5);
  t = trim(t);
  return !t.empty() && t[0] == '=';
}

}  // namespace

std::string set_profile_core_speed(std::string_view toml_text, double speed) {
  char value[64];
  std::snprintf(value, sizeof value, "%.6g", speed);
  const std::string line_text = std::string("speed = ") + value;
  std::string out;
  bool in_cpu = false, done = false, saw_cpu = false;
  std::size_t pos = 0;
  while (pos < toml_text.size()) {
    std::size_t nl = toml_text.find('\n', pos);
    const bool has_nl = nl != std::string_view::npos;
    std::string_view line = toml_text.substr(pos, (has_nl ? nl : toml_text.size()) - pos);
    pos = has_nl ? nl + 1 : toml_text.size();
    if (is_header(line)) {
      if (in_cpu && !done) {  // [cpu] without a speed key: add it at the end of the table
        out += line_text + "\n";
        done = true;
      }
      in_cpu = is_cpu_header(line);
      saw_cpu = saw_cpu || in_cpu;
    } else if (in_cpu && !done && is_speed_key(line)) {
      // Keep a trailing comment on the line.
      std::string comment;
      if (auto hash = line.find('#'); hash != std::string_view::npos)
        comment = "  " + std::string(line.substr(hash));
      out += line_text + comment + (has_nl ? "\n" : "");
      done = true;
      continue;
    }
    out += line;
    if (has_nl) out += '\n';
  }
  if (in_cpu && !done) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += line_text + "\n";
    done = true;
  }
  if (!saw_cpu) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += "\n[cpu]\n" + line_text + "\n";
  }
  return out;
}

}  // namespace cgprof::analysis
