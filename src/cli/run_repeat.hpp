// `cgprof run --repeat N [--warmup K] [--label K=V]...`: labels for the result, and a series of
// runs of the same spec kept side by side with their aggregate (docs/formats/aggregate.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cgprof/sandbox.hpp"
#include "run_profile.hpp"

namespace cgprof::cli {

struct RepeatOptions {
  unsigned repeat = 1;              // --repeat: measured runs
  unsigned warmup = 0;              // --warmup: runs made first and not aggregated
  std::vector<std::string> labels;  // --label K=V, repeatable
};

// Adds --repeat, --warmup and --label to `cmd`.
void add_repeat_options(CLI::App* cmd, RepeatOptions& o);

// One run into the result directory (no --repeat/--warmup), or K warm-ups and N runs into
// OUTPUT/warmup-00k and OUTPUT/run-00n plus OUTPUT/aggregate.json. The series stops at the
// first run whose status is not 0 (a failing workload, an OOM kill, an interrupt); the
// aggregate then covers the measured runs that succeeded before it. Returns the last run's exit
// status: 0 when every run succeeded, otherwise that of the run that stopped the series.
int run_repeated(const RepeatOptions& r, ProfileOptions profile, const sandbox::ProcessSpec& spec,
                 const sandbox::LaunchOptions& launch);

}  // namespace cgprof::cli
