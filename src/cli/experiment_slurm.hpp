// The Slurm side of `cgprof experiment` (experiment_slurm.cpp): --slurm and its sbatch options,
// --task INDEX (one run of the plan: what each array task runs) and `experiment status DIR`.
#pragma once

#include <functional>
#include <string>

#include "commands.hpp"

namespace cgprof::cli {

// Handles an `experiment` invocation that used them and returns true (exit status in `out`);
// returns false when the plain local experiment is to run.
using SlurmHandler =
    std::function<bool(const std::string& file, const std::string& output, bool dry_run)>;
SlurmHandler add_experiment_slurm(CLI::App& cmd, Outcome& out);

}  // namespace cgprof::cli
