// `cgprof experiment FILE.toml`: run a matrix of workloads x devices x repeats, each cell a run
// of this process through the run library (include/cgprof/run.hpp), resuming where an earlier
// invocation stopped.
#include <cstdio>
#include <memory>

#include "cgprof/report.hpp"
#include "cgprof/run.hpp"
#include "commands.hpp"
#include "experiment_slurm.hpp"
#include "run_options.hpp"
#include "run_output.hpp"

namespace cgprof::cli {
namespace {

struct ExperimentArgs {
  std::string file, output;
  bool dry_run = false;
};

int run_experiment(const ExperimentArgs& a) {
  run::ExperimentRun x = run::open_experiment(a.file, a.output);
  x.observer = &stderr_observer();
  const report::Experiment& e = x.experiment;
  run::write_experiment_index(x);
  std::size_t already = 0;
  for (const auto& s : x.states) already += s.complete;
  std::fprintf(stderr,
               "cgprof experiment %s: %zu runs (%zu workloads x %zu devices x %u%s), %zu "
               "already complete; results in %s\n",
               e.name.c_str(), x.plan.size(), e.workloads.size(), e.devices.size(), e.repeat,
               e.warmup ? (" + " + std::to_string(e.warmup) + " warm-up").c_str() : "", already,
               x.output.c_str());
  if (a.dry_run) {
    for (std::size_t i = 0; i < x.plan.size(); ++i)
      std::printf("%s%s\n", x.states[i].complete ? "# done: " : "",
                  report::shell_join(x.plan[i].argv).c_str());
    return 0;
  }
  const run::ExperimentSummary s = run::run_experiment(x, parse_run_command_line);
  std::fprintf(stderr,
               "cgprof experiment %s: %zu/%zu runs complete (%zu run now, %zu skipped as "
               "already complete, %zu with a non-zero workload exit)%s\n",
               e.name.c_str(), s.complete, x.plan.size(), s.ran, s.already, s.failed,
               s.stop_signal ? "; interrupted, rerun the same command to resume" : "");
  return s.stop_signal ? 128 + s.stop_signal : 0;
}

}  // namespace

void add_experiment_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<ExperimentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "experiment",
      "Run a matrix of workloads x devices x repeats from a TOML file, resuming where it stopped");
  cmd->add_option("file", args->file, "Experiment file (docs/formats/experiment.md)")
      ->type_name("FILE.toml");
  cmd->add_option("-o,--output", args->output,
                  "Result directory (default: the file's `output`, relative to the file)")
      ->type_name("DIR");
  cmd->add_flag("--dry-run", args->dry_run,
                "Write the index and print the planned `cgprof run` command lines; run nothing");
  const SlurmHandler slurm = add_experiment_slurm(*cmd, out);
  cmd->callback([args, slurm, &out] {
    if (!slurm(args->file, args->output, args->dry_run)) out.exit_code = run_experiment(*args);
  });
}

}  // namespace cgprof::cli
