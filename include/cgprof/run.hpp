// One profiled run as a library call: a request (an image or a root file system, a device
// profile with overrides, the sandbox and sampling options) in, docker's exit status out. In
// between: resolve the workload and the device -> the cgroup backend -> the container -> the
// sampler -> wait -> totals -> run.json, written once, atomically, on every exit path (a normal
// exit, an OOM kill, a signal, a crash, cgprof's own error) -> cleanup. `cgprof run`, each cell
// of `cgprof experiment` and a Slurm array task all call it; the CLI only parses and prints.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/analysis.hpp"
#include "cgprof/device.hpp"
#include "cgprof/result.hpp"
#include "cgprof/image.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sandbox.hpp"
#include "cgprof/slurm.hpp"

namespace cgprof::run {

// The sandbox options of `cgprof run` (docker's spelling), as given. They are applied on top of
// what an image config supplies (env, working directory, user).
struct SandboxOptions {
  std::vector<std::string> volumes, env, env_files, cap_add, cap_drop, security_opts;
  std::string workdir, user, hostname, net = "loopback", userns = "auto";
  bool rootless = false;
  bool read_only = false;
  bool quiet = false;  // no one-line notices of the launcher on stderr
};

// What to run, where, under which limits, sampled how, recorded where.
// What the run library tells its caller while it works; the caller shows it (the CLI prints it on
// stderr: src/cli/run_output.cpp). The run library prints nothing itself. Every method has a silent
// default; live() and the messages may come from another thread than the run's.
class RunObserver {
 public:
  enum class Kind {
    notice,   // about the run: a limit that cannot apply, the backend it fell back to
    warning,  // something went wrong that did not end the run
    error,    // a run of an experiment failed (what `cgprof run` would have ended with)
    info,     // cgprof's progress: a signal passed on, a series' next run, where results are
    step,     // an experiment's next run ("[3/8] resnet18 on rpi4, run 1/2")
  };
  virtual ~RunObserver() = default;
  virtual void message(Kind /*kind*/, const std::string& /*text*/) {}
  // The live line while the workload runs, every 500 ms when wants_live(); live_end() clears it.
  virtual bool wants_live() const { return false; }
  virtual void live(const std::string& /*line*/) {}
  virtual void live_end() {}
  // A profiled run ended and its run.json is in out_dir (also when the workload failed).
  virtual void run_finished(const RunResult& /*r*/, const std::string& /*out_dir*/) {}
  // A --no-cgroup run's phases (wall time only).
  virtual void phases(const PhasesResult& /*p*/) {}
  // A series (--repeat/--warmup) ended: `agg` of the `measured` runs, written to `path` (null
  // and "" when no measured run succeeded).
  virtual void series_finished(const analysis::Aggregate* /*agg*/, std::size_t /*measured*/,
                               unsigned /*planned*/, const std::string& /*path*/) {}
};

struct RunRequest {
  // The workload: an image (reference as given, e.g. "./img:latest") with `command` as the
  // arguments that replace its Cmd, or a root file system directory with `command` to run in it.
  // Exactly one of image and rootfs.
  std::string image;
  std::string rootfs;
  std::vector<std::string> command;
  std::string platform;                   // OS/ARCH[/VARIANT] of an image index ("" = host's)
  std::optional<std::string> entrypoint;  // replaces the image's Entrypoint (and drops its Cmd)
  image::UnpackOptions unpack;            // how the image store unpacks it
  SandboxOptions sandbox;

  LimitOverrides limits;  // the device profile (limits.device) and the docker-style overrides
  double rate_hz = 1000;  // samples per second, 1..50000
  std::string sample = "cpu,memory,io,pids,psi,net";  // sample groups
  std::string output;  // result directory ("" = a new ./cgprof-results/<time>-<device>-<command>)
  double stop_timeout = 10;  // s from a passed-on Ctrl-C to the kill; < 0: no limit
  bool no_cgroup = false;    // no cgroup: no limits, no sampling, no result directory
  std::string cgroup_manager = "auto";  // auto | v1 | v2
  bool no_marks = false;     // no $CGPROF_MARK FIFO in the container
  std::string mark_regex;    // phase marks from output lines (first capture group: the name)
  std::map<std::string, std::string> labels;  // for run.json

  unsigned repeat = 1;  // measured runs: > 1 makes a series OUTPUT/run-001... + aggregate.json
  unsigned warmup = 0;  // runs made first into OUTPUT/warmup-001..., kept but not aggregated

  RunObserver* observer = nullptr;  // not owned; null: nothing is shown
};

// Runs the request: once into its result directory, or `warmup` + `repeat` times into a series
// (which stops at the first run whose status is not 0). Tells request.observer the notices, the
// progress and each result. Returns docker's exit code: the workload's (the last run's of a series),
// 137 for an OOM kill, 128+N when cgprof was interrupted by signal N. Throws Error when cgprof
// itself fails (after writing the run's run.json, when its result directory existed).
int run_workload(const RunRequest& request);

// The argv docker would run for an image: a pure function of its config and the command line.
std::vector<std::string> image_argv(const image::ImageConfig& config,
                                    const std::optional<std::string>& entrypoint,
                                    const std::vector<std::string>& args);

// ---- experiments (experiment.cpp; docs/formats/experiment.md) ----
//
// Each cell of the matrix is a planned `cgprof run` command line (report::PlannedRun::argv, so
// the index and --dry-run show exactly what runs), run in this process from the experiment
// file's directory.

// Parses the words after "cgprof run" of a planned command line into a request. The CLI owns
// the option grammar of `cgprof run`, so the caller passes its parser in
// (cli::parse_run_command_line). Throws Error for a bad command line.
using RunCommandParser = std::function<RunRequest(const std::vector<std::string>& run_args)>;

// An experiment file read and planned, with the state of every run directory.
struct ExperimentRun {
  report::Experiment experiment;
  std::string output;                       // absolute result directory
  std::string executable;                   // this program (argv[0] of every planned run)
  RunObserver* observer = nullptr;          // given to every run; null: nothing is shown
  std::vector<report::PlannedRun> plan;     // matrix order
  std::vector<report::RunDirState> states;  // one per planned run
};
// Reads FILE (errors name its line and key), plans it into OUTPUT (default: the file's `output`,
// relative to the file; created) and inspects every run directory.
ExperimentRun open_experiment(const std::string& file, const std::string& output);
// OUTPUT/index.json and OUTPUT/index.csv from the plan and the states, each written atomically.
void write_experiment_index(const ExperimentRun& x);

struct CellResult {
  bool ran = false;      // false: its directory held a complete run already; nothing was done
  int status = 0;        // the run's exit status (docker's; 125 when cgprof failed)
  int stop_signal = 0;   // a stop signal (SIGINT/SIGTERM/SIGHUP) reached this process: stop
  report::RunDirState state;  // the run directory afterwards (also in x.states[index])
};
// THE per-cell entry point (`cgprof experiment`, one Slurm array task): runs cell `index`
// (0-based, matrix order) in this process. A complete run directory is left alone; an
// incomplete one is removed and the run made from scratch. Tells x.observer "[i/n] WORKLOAD on
// DEVICE, run r/R" (a step), then the run's own messages; a cgprof error of the run becomes an
// error message and status 125 with an incomplete state. Does not write the index (tasks of
// an array would race on it: write_experiment_index afterwards, from one process). Throws Error
// only for an index out of range or a directory it cannot prepare.
CellResult run_experiment_cell(ExperimentRun& x, std::size_t index, const RunCommandParser& parse);

struct ExperimentSummary {
  std::size_t already = 0;   // complete before this invocation
  std::size_t ran = 0;       // runs made now
  std::size_t failed = 0;    // of those, complete with a non-zero workload exit
  std::size_t complete = 0;  // complete afterwards
  int stop_signal = 0;       // interrupted by this signal (rerun to resume); 0: not
};
// Every cell in matrix order, skipping complete ones, writing the index after each run. A stop
// signal (Ctrl-C) goes to the run in progress, which records itself as interrupted; the
// experiment then stops. Throws Error naming the run and its command line when a run did not
// complete because cgprof failed.
ExperimentSummary run_experiment(ExperimentRun& x, const RunCommandParser& parse);

// ---- an experiment as a Slurm job array (slurm.cpp) ----

// OUTPUT/slurm: the sbatch script (array.sbatch), submissions.tsv and the tasks' logs/.
std::string slurm_dir(const ExperimentRun& x);
// The experiment whose result directory DIR is (`experiment status DIR`): its index.json names
// the experiment file. Errors name the index or the missing file.
ExperimentRun open_experiment_dir(const std::string& dir);

struct SlurmStatus {
  std::vector<report::CellStatus> cells;  // one per planned run
  std::vector<report::SlurmSubmission> submissions;
  bool squeue_ok = false;  // squeue answered (else queued runs show as "submitted")
};
// Every run's state: its result directory, squeue for the arrays submitted for it, sacct for
// those no longer queued (where accounting is kept). Refreshes x.states.
SlurmStatus slurm_status(ExperimentRun& x);
// Failed or missing runs: what a submission covers (complete, queued and running ones are left).
std::vector<std::size_t> runs_to_submit(const SlurmStatus& s);

// The sbatch script of a job array over `tasks` (run indices = array task ids). Throws Error,
// naming the limit and the remedy, when a task id reaches the cluster's MaxArraySize (checked
// where `scontrol show config` answers).
std::string slurm_array_script(const ExperimentRun& x, const report::ExperimentSlurm& options,
                               const std::vector<std::size_t>& tasks);
// Writes the script to OUTPUT/slurm/array.sbatch, submits it with sbatch and records the job in
// OUTPUT/slurm/submissions.tsv; returns the job id. Throws Error when sbatch is missing or fails.
std::string submit_slurm_array(const ExperimentRun& x, const std::string& script,
                               const std::vector<std::size_t>& tasks);

// Failed and missing runs again, with the first submission's script and its throttle (%N).
struct SlurmResubmission {
  std::vector<std::size_t> tasks;  // empty: nothing to submit
  std::string array;               // sbatch --array=...
  std::string script;              // OUTPUT/slurm/array.sbatch
};
SlurmResubmission plan_resubmission(const ExperimentRun& x, const SlurmStatus& s);
std::string resubmit_slurm_array(const ExperimentRun& x, const SlurmResubmission& r);

// One array task (`--task INDEX`): the run at INDEX of the plan, in this process through
// run_experiment_cell (ran = false: it was complete already). Throws Error for an INDEX outside
// the plan (the file changed since it was submitted).
CellResult run_slurm_task(ExperimentRun& x, long index, const RunCommandParser& parse);

// ---- `cgprof devices show` (cgroup_preview.cpp) ----

// One cgroup v2 file a run would write for a device's limits on this host.
struct CgroupFilePreview {
  std::string file, value, note;  // note: where the value comes from, or why it is what it is
};
// The files in the order a run writes them, computed by the cgroup module without creating a
// cgroup; limits that would not apply here go to `notices`.
std::vector<CgroupFilePreview> preview_cgroup_files(const Limits& limits,
                                                    std::vector<std::string>* notices);
// CPUs this process may run on (its affinity mask).
unsigned host_cpu_count();

}  // namespace cgprof::run
