// Samples as CSV, for spreadsheets and pandas.
#include <cinttypes>
#include <cstdio>

#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

// RFC 4180: quote a field that contains a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string to_samples_csv(const std::vector<ReportRun>& runs) {
  const bool multi = runs.size() > 1;
  // Only the columns some run sampled (--sample): a group left out was never read, and a column
  // of zeros would look like a measurement.
  unsigned groups = 0;
  for (const auto& run : runs)  // 0: a run.json that does not say (older): every group
    groups |= run.result.sampler.groups ? run.result.sampler.groups : kSampleAll;
  const std::vector<unsigned> columns = sample_fields_for(groups);
  std::string out;
  if (multi) out += "run,";
  out += "t_s";
  for (unsigned i : columns) out += std::string(",") + kSampleFieldNames[i];
  out += "\n";
  char buf[32];
  for (const auto& run : runs) {
    const std::string prefix = multi ? csv_field(run.name) + "," : "";
    for (const Sample& s : run.samples) {
      out += prefix;
      const uint64_t rel = s.t_ns >= run.start_monotonic_ns ? s.t_ns - run.start_monotonic_ns : 0;
      std::snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, rel / 1000000000u,
                    (rel % 1000000000u) / 1000u);
      out += buf;
      const auto* fields = reinterpret_cast<const uint64_t*>(&s);
      for (unsigned i : columns) {
        std::snprintf(buf, sizeof buf, ",%" PRIu64, fields[i]);
        out += buf;
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace cgprof::report
