// How `cgprof run`, `cgprof experiment` and a Slurm task show what the run library tells them:
// on stderr, in the words cgprof has always used ("cgprof: notice: ...", the live line on a
// terminal, the summary table, "cgprof: results in DIR").
#pragma once

#include "cgprof/run.hpp"

namespace cgprof::cli {

// The one observer of this process (thread-safe: the live line comes from the sampler's side).
run::RunObserver& stderr_observer();

}  // namespace cgprof::cli
