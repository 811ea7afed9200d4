// The sandbox's options of `cgprof run` (docker spelling); the run library applies them
// (run::SandboxOptions in include/cgprof/run.hpp).
#pragma once

#include <CLI/CLI.hpp>

#include "cgprof/run.hpp"

namespace cgprof::cli {

void add_sandbox_options(CLI::App& cmd, run::SandboxOptions& o);

}  // namespace cgprof::cli
