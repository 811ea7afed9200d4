// The options and output of `cgprof experiment FILE --slurm` (the experiment as a Slurm job
// array, one task per planned run), `--task N` (what each array task runs: that one run) and
// `cgprof experiment status DIR [--resubmit-failed]`. The work is the run library's
// (src/run/slurm.cpp).
#include "experiment_slurm.hpp"

#include <cstdio>
#include <memory>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/run.hpp"
#include "cgprof/slurm.hpp"
#include "run_options.hpp"
#include "run_output.hpp"

namespace cgprof::cli {
namespace {

using report::CellState;

struct SlurmArgs {
  bool slurm = false;
  long task = -1;
  report::ExperimentSlurm flags;  // sbatch options given on the command line
  bool exclusive = false, no_exclusive = false;
  std::string status_dir;
  bool resubmit_failed = false, status_dry_run = false;
};

int run_submit(const std::string& file, const std::string& output, const SlurmArgs& a,
               bool dry_run) {
  run::ExperimentRun l = run::open_experiment(file, output);
  report::ExperimentSlurm o = l.experiment.slurm;
  const auto& f = a.flags;
  if (!f.partition.empty()) o.partition = f.partition;
  if (!f.time.empty()) o.time = f.time;
  if (!f.mem.empty()) o.mem = f.mem;
  if (f.cpus_per_task) o.cpus_per_task = f.cpus_per_task;
  if (f.max_parallel) o.max_parallel = f.max_parallel;
  if (a.exclusive) o.exclusive = true;
  if (a.no_exclusive) o.exclusive = false;
  o.sbatch_args.insert(o.sbatch_args.end(), f.sbatch_args.begin(), f.sbatch_args.end());
  run::write_experiment_index(l);
  const run::SlurmStatus s = run::slurm_status(l);
  const auto tasks = run::runs_to_submit(s);
  std::size_t done = 0, queued = 0;
  for (const auto& c : s.cells) {
    done += c.state == CellState::done;
    queued += c.state == CellState::running || c.state == CellState::pending ||
              c.state == CellState::submitted;
  }
  std::fprintf(stderr,
               "cgprof experiment %s: %zu runs, %zu complete, %zu queued or running, "
               "%zu to submit; results in %s\n",
               l.experiment.name.c_str(), l.plan.size(), done, queued, tasks.size(),
               l.output.c_str());
  if (tasks.empty()) return 0;
  if (!o.exclusive.has_value())
    std::fprintf(stderr,
                 "cgprof experiment: note: tasks may share a node with other jobs, which changes "
                 "their timings; for timing studies add --exclusive (or exclusive = true under "
                 "[slurm])\n");
  const std::string script = run::slurm_array_script(l, o, tasks);
  if (dry_run) {
    std::fputs(script.c_str(), stdout);
    return 0;
  }
  const std::string id = run::submit_slurm_array(l, script, tasks);
  std::fprintf(stderr,
               "cgprof experiment %s: submitted job array %s (%zu tasks, one per run); logs in "
               "%s/logs; follow it with: cgprof experiment status %s\n",
               l.experiment.name.c_str(), id.c_str(), tasks.size(), run::slurm_dir(l).c_str(),
               l.output.c_str());
  return 0;
}

// One array task: the run at `index` of the plan, unless it is complete already.
int run_task(const std::string& file, const std::string& output, long index) {
  run::ExperimentRun l = run::open_experiment(file, output);
  l.observer = &stderr_observer();
  if (index >= 0 && static_cast<std::size_t>(index) < l.plan.size() &&
      !l.states[static_cast<std::size_t>(index)].complete)
    std::fprintf(stderr, "cgprof experiment: task %ld: %s\n", index,
                 report::shell_join(l.plan[static_cast<std::size_t>(index)].argv).c_str());
  const run::CellResult c = run::run_slurm_task(l, index, parse_run_command_line);
  if (!c.ran)
    std::fprintf(stderr, "cgprof experiment: task %ld: %s is complete already; skipped\n", index,
                 l.plan[static_cast<std::size_t>(index)].id.c_str());
  return c.status;
}

int run_status(const SlurmArgs& a) {
  run::ExperimentRun l = run::open_experiment_dir(a.status_dir);
  const run::SlurmStatus s = run::slurm_status(l);
  run::write_experiment_index(l);
  std::size_t count[6] = {}, nonzero = 0;
  for (std::size_t i = 0; i < s.cells.size(); ++i) {
    const auto& c = s.cells[i];
    ++count[static_cast<int>(c.state)];
    if (c.state == CellState::done) {
      nonzero += l.states[i].exit_status != 0;
      if (l.states[i].exit_status == 0) continue;
    }
    std::printf("%-9s %-40s", report::cell_state_name(c.state), l.plan[i].id.c_str());
    if (c.state == CellState::done) std::printf(" workload exited %d", l.states[i].exit_status);
    if (!c.job_id.empty()) std::printf(" task %zu of job %s", i, c.job_id.c_str());
    if (!c.slurm_state.empty()) std::printf(" (%s)", c.slurm_state.c_str());
    if (c.state == CellState::failed)
      std::printf(" log %s/logs/%s_%zu.out", run::slurm_dir(l).c_str(), c.job_id.c_str(), i);
    std::printf("\n");
  }
  std::printf(
      "%s: %zu runs: %zu done (%zu with a non-zero workload exit), %zu running, %zu "
      "pending, %zu failed, %zu missing",
      l.experiment.name.c_str(), s.cells.size(), count[0], nonzero, count[1], count[2],
      count[4], count[5]);
  if (count[3]) std::printf(", %zu submitted (squeue could not be asked)", count[3]);
  std::printf("\n");
  if (!a.resubmit_failed) return 0;
  const run::SlurmResubmission r = run::plan_resubmission(l, s);
  if (r.tasks.empty()) {
    std::fprintf(stderr,
                 "cgprof experiment status: nothing failed or missing; nothing submitted\n");
    return 0;
  }
  if (a.status_dry_run) {
    std::printf("sbatch --parsable --array=%s %s\n", r.array.c_str(), r.script.c_str());
    return 0;
  }
  const std::string id = run::resubmit_slurm_array(l, r);
  std::fprintf(stderr, "cgprof experiment status: submitted job array %s for %zu runs (%s)\n",
               id.c_str(), r.tasks.size(), r.array.c_str());
  return 0;
}

}  // namespace

SlurmHandler add_experiment_slurm(CLI::App& cmd, Outcome& out) {
  auto a = std::make_shared<SlurmArgs>();
  auto* g = cmd.add_option_group("Slurm", "Run the experiment as a Slurm job array");
  g->add_flag("--slurm", a->slurm,
              "Submit a job array, one task per run not complete yet (with --dry-run: print "
              "the sbatch script)");
  g->add_option("--partition", a->flags.partition, "sbatch --partition")->type_name("NAME");
  g->add_option("--time", a->flags.time, "sbatch --time: limit per run")->type_name("TIME");
  g->add_option("--cpus-per-task", a->flags.cpus_per_task, "sbatch --cpus-per-task")
      ->type_name("N")
      ->check(CLI::Range(1u, 100000u));
  g->add_option("--mem", a->flags.mem, "sbatch --mem: memory per run")->type_name("SIZE");
  g->add_flag("--exclusive", a->exclusive,
              "sbatch --exclusive: a node to itself per run (recommended for timing studies)");
  g->add_flag("--no-exclusive", a->no_exclusive, "Override exclusive = true of the file");
  g->add_option("--max-parallel", a->flags.max_parallel, "At most N runs at once (--array=...%N)")
      ->type_name("N")
      ->check(CLI::Range(1u, 100000u));
  g->add_option("--sbatch-arg", a->flags.sbatch_args,
                "Another sbatch option, e.g. --sbatch-arg=--account=ml (repeatable)")
      ->type_name("OPT")
      ->allow_extra_args(false);
  g->add_option("--task", a->task,
                "Run only the run with this index in the plan, unless complete (what each array "
                "task runs: --task $SLURM_ARRAY_TASK_ID)")
      ->type_name("INDEX")
      ->check(CLI::NonNegativeNumber);

  CLI::App* status = cmd.add_subcommand(
      "status", "The state of every run of an experiment: done, running, pending, failed, missing");
  status->add_option("dir", a->status_dir, "The experiment's result directory")
      ->required()
      ->type_name("DIR");
  status->add_flag("--resubmit-failed", a->resubmit_failed,
                   "Submit the failed and missing runs again, with the first submission's script");
  status->add_flag("--dry-run", a->status_dry_run,
                   "With --resubmit-failed: print the sbatch command instead of running it");
  status->callback([a, &out] { out.exit_code = run_status(*a); });

  return
      [a, status, &out](const std::string& file, const std::string& output, bool dry_run) -> bool {
        if (status->parsed()) return true;  // its callback has run
        if (a->slurm && a->task >= 0)
          throw Error(
              "experiment: --slurm submits the whole array and --task runs one of its runs; "
              "give one of them");
        if (file.empty())
          throw Error("experiment: give the experiment FILE.toml (or `status DIR`)");
        if (a->task >= 0) {
          out.exit_code = run_task(file, output, a->task);
          return true;
        }
        if (a->slurm) {
          out.exit_code = run_submit(file, output, *a, dry_run);
          return true;
        }
        const auto& f = a->flags;
        if (!f.partition.empty() || !f.time.empty() || !f.mem.empty() || f.cpus_per_task ||
            f.max_parallel || a->exclusive || a->no_exclusive || !f.sbatch_args.empty())
          throw Error(
              "experiment: sbatch options (--partition, --time, --exclusive ...) go with "
              "--slurm; add --slurm to submit a job array");
        return false;
      };
}

}  // namespace cgprof::cli
