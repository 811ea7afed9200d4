// The end of a run's phases: marks -> occurrences -> attribution from samples.bin -> summary,
// and phases.csv next to run.json.
#include <fcntl.h>

#include <cstdio>

#include "cgprof/error.hpp"
#include "cgprof/phases.hpp"

namespace cgprof {

PhasesResult record_phases(const MarkServer& server, uint64_t origin_ns, uint64_t exit_ns,
                           const std::string& dir, const std::string& samples_path) {
  const MarkLog& log = server.log();
  std::vector<PhaseOccurrence> occ = phase_occurrences(log, exit_ns);
  bool attributed = false;
  if (!samples_path.empty() && !occ.empty()) {
    SamplesReader reader(AT_FDCWD, dir + "/" + samples_path);
    PhaseAttributor attributor(occ);
    Sample s;
    while (reader.next(&s)) attributor.add(s);
    attributor.finish();
    attributed = true;
  }
  PhasesResult p = summarize_phases(log, occ);
  p.channel = server.options().fifo ? kMarkContainerPath : "";
  p.mark_regex = server.options().mark_regex;
  p.attribution = attributed ? "samples" : "none";
  p.origin_ns = origin_ns;
  if (!dir.empty() && !occ.empty()) {
    const std::string path = dir + "/phases.csv";
    std::string text = phase_occurrences_csv(occ, log.names(), origin_ns);
    std::FILE* f = std::fopen(path.c_str(), "we");
    if (!f) throw_errno("open", path);
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) throw_errno("write", path);
    p.occurrences_file = "phases.csv";
  }
  return p;
}

}  // namespace cgprof
