// The calibration CSV: label,metric,value rows a user copies from the device's own profiler.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

// RFC 4180 fields of one line: commas separate, double quotes quote, "" is a quote.
std::vector<std::string> split_csv(std::string_view line, bool* ok) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  *ok = true;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && trim(cur).empty()) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (c == ',') {
      out.push_back(was_quoted ? cur : trim(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) *ok = false;
  out.push_back(was_quoted ? cur : trim(cur));
  return out;
}

}  // namespace

std::vector<Measurement> parse_measurements_csv(std::string_view text, const std::string& source) {
  std::vector<Measurement> out;
  unsigned lineno = 0;
  bool first_content = true;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto fail = [&](const std::string& why) {
      return Error(source + ": line " + std::to_string(lineno) + ": " + why);
    };
    bool ok = true;
    auto fields = split_csv(t, &ok);
    if (!ok) throw fail("unterminated double quote");
    if (first_content) {
      first_content = false;
      if (fields.size() >= 3 && fields[0] == "label" && fields[1] == "metric" &&
          fields[2] == "value")
        continue;
    }
    if (fields.size() != 3)
      throw fail("expected 3 fields \"label,metric,value\", got " + std::to_string(fields.size()));
    if (fields[0].empty()) throw fail("empty label");
    Measurement m;
    m.label = fields[0];
    m.line = lineno;
    try {
      m.metric = find_metric(fields[1]).name;
    } catch (Error& e) {
      throw fail(e.message());
    }
    const char* begin = fields[2].c_str();
    char* end = nullptr;
    errno = 0;
    m.value = std::strtod(begin, &end);
    if (fields[2].empty() || *end != '\0' || errno == ERANGE || !std::isfinite(m.value))
      throw fail("value: expected a number in the metric's unit (" +
                 std::string(find_metric(m.metric).unit) + "), got \"" + fields[2] + "\"");
    out.push_back(std::move(m));
  }
  if (out.empty())
    throw Error(source + ": no measurements (expected lines \"label,metric,value\")");
  return out;
}

}  // namespace cgprof::analysis
