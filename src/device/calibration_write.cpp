// Rewrites the [calibration.*] tables of a profile, keeping the rest of the file byte for byte:
// profiles carry their reasoning in comments, which a parse-and-serialize cycle would drop.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "toml.hpp"

namespace cgprof {
namespace {

constexpr std::string_view kBanner =
    "# Written by `cgprof calibrate`: device value = slope * cgprof value + intercept.";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// True for a table header whose first key is `calibration`: [calibration.x], [calibration].
bool is_calibration_header(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() != '[') return false;
  line.remove_prefix(line.size() > 1 && line[1] == '[' ? 2 : 1);
  line = trim(line);
  constexpr std::string_view kKey = "calibration";
  if (line.substr(0, kKey.size()) != kKey) return false;
  std::string_view rest = trim(line.substr(kKey.size()));
  return !rest.empty() && (rest.front() == '.' || rest.front() == ']');
}

bool is_table_header(std::string_view line) {
  line = trim(line);
  return !line.empty() && line.front() == '[';
}

std::string without_calibration(std::string_view text) {
  std::string out;
  bool skipping = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
    text.remove_prefix(line.size());
    if (is_table_header(line)) skipping = is_calibration_header(line);
    if (skipping || trim(line.substr(0, line.find('\n'))) == kBanner) continue;
    out += line;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string calibration_toml(const std::map<std::string, CalibrationFit>& fits) {
  toml::table cal;
  for (const auto& [metric, fit] : fits) {
    toml::table t;
    t.insert("slope", fit.slope);
    t.insert("intercept", fit.intercept);
    t.insert("r2", fit.r2);
    t.insert("residual_stddev", fit.residual_stddev);
    t.insert("points", static_cast<int64_t>(fit.points));
    if (fit.x_mean != 0.0 || fit.x_sxx != 0.0) {
      t.insert("x_mean", fit.x_mean);
      t.insert("x_sxx", fit.x_sxx);
    }
    cal.insert(metric, std::move(t));
  }
  toml::table root;
  root.insert("calibration", std::move(cal));
  std::ostringstream os;
  os << toml::toml_formatter(root);
  return os.str();
}

}  // namespace

void write_profile_calibration(const std::string& path,
                               const std::map<std::string, CalibrationFit>& fits,
                               bool replace_all) {
  std::string text = read_regular_file(path, kMaxConfigFileBytes);
  DeviceProfile before = parse_device_profile(text, path);
  std::map<std::string, CalibrationFit> merged = replace_all ? fits : before.calibration;
  if (!replace_all)
    for (const auto& [metric, fit] : fits) merged[metric] = fit;

  std::string out = without_calibration(text);
  if (!merged.empty()) {
    out += "\n\n";
    out += kBanner;
    out += '\n';
    out += calibration_toml(merged);
  }
  out += '\n';

  // The edit is textual, so prove it changed nothing but the calibration before replacing.
  DeviceProfile after = with_context("updating calibration of " + path,
                                     [&] { return parse_device_profile(out, path); });
  if (after.name != before.name || after.description != before.description ||
      after.aliases != before.aliases || !(after.limits == before.limits) ||
      after.calibration.size() != merged.size())
    throw Error(
        "updating calibration of " + path +
        ": the file keeps calibration outside [calibration.<metric>] tables; move it there");
  write_file_atomic(path, out);  // keeps the profile's permission bits
}

void write_profile_core_speed(const std::string& path, double speed) {
  if (!(speed > 0 && speed <= 64))
    throw Error("updating cpu.speed of " + path + ": " + std::to_string(speed) +
                " is not a speed factor (above 0, at most 64)");
  std::string text = read_regular_file(path, kMaxConfigFileBytes);
  DeviceProfile before = parse_device_profile(text, path);
  if (!before.limits.cores)
    throw Error("updating cpu.speed of " + path + ": the profile has no [cpu] cores and speed");

  // Replace the value of the first `speed =` line inside [cpu], keeping indentation and comment.
  std::string out;
  bool in_cpu = false, done = false;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1);
    rest.remove_prefix(line.size());
    if (is_table_header(line)) in_cpu = trim(line.substr(0, line.find_first_of("#\n"))) == "[cpu]";
    std::string_view body = trim(line);
    if (in_cpu && !done && body.substr(0, 5) == "speed") {
      std::string_view after_key = trim(body.substr(5));
      if (!after_key.empty() && after_key.front() == '=') {
        size_t indent = line.find_first_not_of(" \t");
        size_t hash = line.find('#');
        char value[64];
        std::snprintf(value, sizeof value, "%.6g", speed);
        out += std::string(line.substr(0, indent)) + "speed = " + value;
        if (hash != std::string_view::npos) out += "  " + std::string(trim(line.substr(hash)));
        if (line.back() == '\n') {
          while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
          out += '\n';
        }
        done = true;
        continue;
      }
    }
    out += line;
  }
  DeviceProfile after = with_context("updating cpu.speed of " + path,
                                     [&] { return parse_device_profile(out, path); });
  Limits expected = before.limits;
  expected.core_speed = after.limits.core_speed;
  if (!done || std::abs(after.limits.core_speed - speed) > 1e-6 * speed ||
      !(after.limits == expected) || after.calibration.size() != before.calibration.size())
    throw Error("updating cpu.speed of " + path +
                ": cpu.speed is not a plain `speed = N` line in [cpu]; edit it by hand");
  write_file_atomic(path, out);  // keeps the profile's permission bits
}

}  // namespace cgprof
