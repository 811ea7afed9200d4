// `cgprof experiment FILE --slurm`: the experiment as a Slurm job array, one task per planned
// run; `--task N`: what each array task runs (that one run); `cgprof experiment status DIR`:
// the state of every run, and `--resubmit-failed`.
#include "experiment_slurm.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/run.hpp"
#include "cgprof/slurm.hpp"
#include "cgprof/sys.hpp"
#include "run_options.hpp"

namespace cgprof::cli {
namespace {

namespace fs = std::filesystem;
using report::CellState;

struct SlurmArgs {
  bool slurm = false;
  long task = -1;
  report::ExperimentSlurm flags;  // sbatch options given on the command line
  bool exclusive = false, no_exclusive = false;
  std::string status_dir;
  bool resubmit_failed = false, status_dry_run = false;
};

// Runs a program found on PATH; returns its exit status (127: could not be run) and its
// standard output. Its standard error goes to ours, or nowhere when `quiet`.
int capture(const std::vector<std::string>& argv, std::string* out, bool quiet) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::dup2(fds[1], 1);
    if (quiet) {
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, 2);
    }
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // Bounded: a squeue of a big cluster is a few MB at most.
    if (out->size() < (64u << 20)) out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) throw_errno("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

fs::path out_of(const run::ExperimentRun& x) {
  return x.output;
}

fs::path slurm_dir(const fs::path& out) {
  return out / "slurm";
}

std::vector<report::SlurmSubmission> read_submissions(const fs::path& out) {
  const fs::path f = slurm_dir(out) / "submissions.tsv";
  std::error_code ec;
  if (!fs::exists(f, ec)) return {};
  return report::parse_submissions(read_regular_file(f.string(), kMaxConfigFileBytes), f.string());
}

// Every run's state: its result directory, then squeue for the arrays submitted for it, then
// (for those no longer queued) sacct where accounting is kept.
struct Status {
  std::vector<report::CellStatus> cells;
  bool squeue_ok = false;
};
// The result directories are looked at again after squeue: a task that ends in between is then
// done, not failed.
Status cell_status(run::ExperimentRun& l) {
  const auto subs = read_submissions(out_of(l));
  std::optional<std::vector<report::SlurmTaskState>> queue;
  std::vector<report::SlurmTaskState> accounting;
  if (!subs.empty()) {
    std::string jobs;
    for (const auto& s : subs) jobs += (jobs.empty() ? "" : ",") + s.job_id;
    // Not `squeue -j`: it fails outright when one of the jobs has already left the queue.
    std::string text;
    if (capture({"squeue", "-h", "-r", "--me", "-o", "%F %K %T"}, &text, true) == 0)
      queue = report::parse_squeue(text);
    text.clear();
    if (capture({"sacct", "-n", "-P", "-X", "-j", jobs, "-o", "JobID,State"}, &text, true) == 0)
      accounting = report::parse_sacct(text);
    for (std::size_t i = 0; i < l.plan.size(); ++i)
      if (!l.states[i].complete)
        l.states[i] = report::inspect_run_dir((out_of(l) / l.plan[i].id).string());
  }
  return {report::experiment_cell_status(l.states, subs, queue, accounting), queue.has_value()};
}

// Submits OUTPUT/slurm/array.sbatch (for the tasks `array`, when not empty, instead of the
// script's) and records the job in OUTPUT/slurm/submissions.tsv; returns the job id.
std::string sbatch(const fs::path& out, const std::string& array,
                   const std::vector<std::size_t>& tasks) {
  const fs::path script = slurm_dir(out) / "array.sbatch";
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  if (!array.empty()) argv.push_back("--array=" + array);
  argv.push_back(script.string());
  std::string id;
  const int st = capture(argv, &id, false);
  if (st == 127)
    throw Error(
        "sbatch: not found on PATH; run on a Slurm login node, or use --dry-run and "
        "submit the script yourself");
  id = id.substr(0, id.find_first_of(";\n"));  // "123;cluster"
  if (st != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error("sbatch " + script.string() + " failed (exit status " + std::to_string(st) +
                ", its message is above); fix the cause and run the same command again");
  const std::string line = report::submission_line({id, tasks}, utc_now());
  const fs::path rec = slurm_dir(out) / "submissions.tsv";
  UniqueFd fd(::open(rec.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw_errno("append", rec.string());
  return id;
}

// Array task ids are run indices, so the largest must be below the cluster's MaxArraySize
// (1001 by default). Checked where scontrol answers; elsewhere sbatch says it.
void check_array_size(const std::string& experiment, const std::vector<std::size_t>& tasks) {
  if (tasks.empty()) return;
  std::string config;
  if (capture({"scontrol", "show", "config"}, &config, true) != 0) return;
  const auto max = report::parse_max_array_size(config);
  const std::size_t last = *std::max_element(tasks.begin(), tasks.end());
  if (max && last >= *max)
    throw Error("experiment " + experiment + ": run " + std::to_string(last) +
                " would be array task " + std::to_string(last) + ", but this cluster's " +
                "MaxArraySize is " + std::to_string(*max) + " (task ids 0 to " +
                std::to_string(*max - 1) + "); split the experiment into files of at most " +
                std::to_string(*max) + " runs (fewer workloads, devices or repeats each), or " +
                "ask the cluster's administrators to raise MaxArraySize in slurm.conf");
}

// Writes the script (unless `dry_run`: prints it) and submits it for `tasks`.
int submit(const run::ExperimentRun& l, const report::ExperimentSlurm& opts,
           const std::vector<std::size_t>& tasks, bool dry_run) {
  check_array_size(l.experiment.source, tasks);
  report::SlurmScriptInput in;
  in.name = l.experiment.name;
  in.experiment_file = l.experiment.source;
  in.output_dir = l.output;
  in.cgprof = l.executable;
  in.options = opts;
  in.tasks = tasks;
  const std::string script = report::slurm_array_script(in);
  if (dry_run) {
    std::fputs(script.c_str(), stdout);
    return 0;
  }
  make_directories((slurm_dir(out_of(l)) / "logs").string());
  const fs::path script_path = slurm_dir(out_of(l)) / "array.sbatch";
  report::write_file_atomic(script_path.string(), script);
  const std::string id = sbatch(out_of(l), "", tasks);
  std::fprintf(stderr,
               "cgprof experiment %s: submitted job array %s (%zu tasks, one per run); logs in %s; "
               "follow it with: cgprof experiment status %s\n",
               l.experiment.name.c_str(), id.c_str(), tasks.size(), (slurm_dir(out_of(l)) / "logs").c_str(),
               l.output.c_str());
  return 0;
}

// Runs that are neither complete nor queued or running: what a submission should cover.
std::vector<std::size_t> to_submit(const Status& s) {
  std::vector<std::size_t> t;
  for (std::size_t i = 0; i < s.cells.size(); ++i)
    if (s.cells[i].state == CellState::failed || s.cells[i].state == CellState::missing)
      t.push_back(i);
  return t;
}

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
  const Status s = cell_status(l);
  const auto tasks = to_submit(s);
  std::size_t done = 0, queued = 0;
  for (const auto& c : s.cells) {
    done += c.state == CellState::done;
    queued += c.state == CellState::running || c.state == CellState::pending ||
              c.state == CellState::submitted;
  }
  std::fprintf(stderr,
               "cgprof experiment %s: %zu runs, %zu complete, %zu queued or running, "
               "%zu to submit; results in %s\n",
               l.experiment.name.c_str(), l.plan.size(), done, queued, tasks.size(), l.output.c_str());
  if (tasks.empty()) return 0;
  if (!o.exclusive.has_value())
    std::fprintf(stderr,
                 "cgprof experiment: note: tasks may share a node with other jobs, which changes "
                 "their timings; for timing studies add --exclusive (or exclusive = true under "
                 "[slurm])\n");
  return submit(l, o, tasks, dry_run);
}

// One array task: the run at `index` of the plan, unless it is complete already, through the
// run library in this process (run::run_experiment_cell), as a local experiment runs each cell.
// Slurm's signals (scancel, the time limit: SIGTERM, then SIGKILL after KillWait) reach the run's
// own handlers, which stop the workload and record the run as interrupted.
int run_task(const std::string& file, const std::string& output, long index) {
  run::ExperimentRun l = run::open_experiment(file, output);
  if (index < 0 || static_cast<std::size_t>(index) >= l.plan.size())
    throw Error("experiment " + l.experiment.source + ": --task " + std::to_string(index) +
                ": the plan has runs 0 to " + std::to_string(l.plan.size() - 1) +
                " (was the file changed since it was submitted? submit it again)");
  const auto& p = l.plan[static_cast<std::size_t>(index)];
  if (l.states[static_cast<std::size_t>(index)].complete) {
    std::fprintf(stderr, "cgprof experiment: task %ld: %s is complete already; skipped\n", index,
                 p.id.c_str());
    return 0;
  }
  std::fprintf(stderr, "cgprof experiment: task %ld: %s\n", index,
               report::shell_join(p.argv).c_str());
  const run::CellResult c =
      run::run_experiment_cell(l, static_cast<std::size_t>(index), parse_run_command_line);
  return c.status;
}

int run_status(const SlurmArgs& a) {
  const fs::path out = fs::absolute(a.status_dir).lexically_normal();
  const fs::path index = out / "index.json";
  const auto j =
      nlohmann::json::parse(read_regular_file(index.string(), kMaxResultJsonBytes), nullptr, false);
  if (j.is_discarded() || !j.contains("experiment_file") || !j["experiment_file"].is_string())
    throw Error(index.string() + ": not a cgprof experiment index (no \"experiment_file\")");
  const std::string file = j["experiment_file"].get<std::string>();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw Error(index.string() + ": the experiment file " + file +
                " is gone; the runs' states need it (put it back)");
  run::ExperimentRun l = run::open_experiment(file, out.string());
  const Status s = cell_status(l);
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
      std::printf(" log %s/logs/%s_%zu.out", slurm_dir(out).c_str(), c.job_id.c_str(), i);
    std::printf("\n");
  }
  std::printf(
      "%s: %zu runs: %zu done (%zu with a non-zero workload exit), %zu running, %zu "
      "pending, %zu failed, %zu missing",
      l.experiment.name.c_str(), s.cells.size(), count[0], nonzero, count[1], count[2], count[4], count[5]);
  if (count[3]) std::printf(", %zu submitted (squeue could not be asked)", count[3]);
  std::printf("\n");
  if (!a.resubmit_failed) return 0;
  const auto tasks = to_submit(s);
  if (tasks.empty()) {
    std::fprintf(stderr,
                 "cgprof experiment status: nothing failed or missing; nothing submitted\n");
    return 0;
  }
  if (!s.squeue_ok && !read_submissions(out).empty())
    throw Error(
        "squeue could not be asked, so runs still queued cannot be told from failed "
        "ones; run this where squeue works");
  // The script of the first submission, with its options; only the array changes.
  const fs::path script = slurm_dir(out) / "array.sbatch";
  if (!fs::is_regular_file(script, ec))
    throw Error(script.string() + ": missing; submit with `cgprof experiment " + file +
                " --slurm` instead");
  std::string throttle;
  const std::string text = read_regular_file(script.string(), kMaxConfigFileBytes);
  if (auto at = text.find("#SBATCH --array="); at != std::string::npos) {
    const std::string arr = text.substr(at, text.find('\n', at) - at);
    if (auto pct = arr.find('%'); pct != std::string::npos) throttle = arr.substr(pct);
  }
  check_array_size(file, tasks);
  const std::string list = report::format_task_list(tasks) + throttle;
  if (a.status_dry_run) {
    std::printf("sbatch --parsable --array=%s %s\n", list.c_str(), script.c_str());
    return 0;
  }
  const std::string id = sbatch(out, list, tasks);
  std::fprintf(stderr, "cgprof experiment status: submitted job array %s for %zu runs (%s)\n",
               id.c_str(), tasks.size(), list.c_str());
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
