// An experiment as a Slurm job array: the sbatch script and its submission, the state of every
// run from its directory, squeue and sacct, and one array task's run (through
// run_experiment_cell, as a local experiment makes each run). The pure parts (script text,
// squeue/sacct/scontrol parsers, the state of a run) are in src/report/slurm.cpp.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/run.hpp"
#include "cgprof/slurm.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::run {
namespace {

namespace fs = std::filesystem;
using report::CellState;

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

std::vector<report::SlurmSubmission> read_submissions(const ExperimentRun& x) {
  const std::string f = slurm_dir(x) + "/submissions.tsv";
  std::error_code ec;
  if (!fs::exists(f, ec)) return {};
  return report::parse_submissions(read_regular_file(f, kMaxConfigFileBytes), f);
}

// Submits the script for the tasks `array` (when not empty, instead of the script's own) and
// records the job in OUTPUT/slurm/submissions.tsv; returns the job id.
std::string sbatch(const ExperimentRun& x, const std::string& script, const std::string& array,
                   const std::vector<std::size_t>& tasks) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  if (!array.empty()) argv.push_back("--array=" + array);
  argv.push_back(script);
  std::string id;
  const int st = capture(argv, &id, false);
  if (st == 127)
    throw Error(
        "sbatch: not found on PATH; run on a Slurm login node, or use --dry-run and "
        "submit the script yourself");
  id = id.substr(0, id.find_first_of(";\n"));  // "123;cluster"
  if (st != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error("sbatch " + script + " failed (exit status " + std::to_string(st) +
                ", its message is above); fix the cause and run the same command again");
  const std::string line = report::submission_line({id, tasks}, utc_now());
  const std::string rec = slurm_dir(x) + "/submissions.tsv";
  UniqueFd fd(::open(rec.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw_errno("append", rec);
  return id;
}

// Array task ids are run indices, so the largest must be below the cluster's MaxArraySize
// (1001 by default). Checked where scontrol answers; elsewhere sbatch says it.
void check_array_size(const ExperimentRun& x, const std::vector<std::size_t>& tasks) {
  if (tasks.empty()) return;
  std::string config;
  if (capture({"scontrol", "show", "config"}, &config, true) != 0) return;
  const auto max = report::parse_max_array_size(config);
  const std::size_t last = *std::max_element(tasks.begin(), tasks.end());
  if (max && last >= *max)
    throw Error("experiment " + x.experiment.source + ": run " + std::to_string(last) +
                " would be array task " + std::to_string(last) + ", but this cluster's " +
                "MaxArraySize is " + std::to_string(*max) + " (task ids 0 to " +
                std::to_string(*max - 1) + "); split the experiment into files of at most " +
                std::to_string(*max) + " runs (fewer workloads, devices or repeats each), or " +
                "ask the cluster's administrators to raise MaxArraySize in slurm.conf");
}

}  // namespace

std::string slurm_dir(const ExperimentRun& x) {
  return x.output + "/slurm";
}

ExperimentRun open_experiment_dir(const std::string& dir) {
  const fs::path out = fs::absolute(dir).lexically_normal();
  const std::string index = (out / "index.json").string();
  const auto j =
      nlohmann::json::parse(read_regular_file(index, kMaxResultJsonBytes), nullptr, false);
  if (j.is_discarded() || !j.contains("experiment_file") || !j["experiment_file"].is_string())
    throw Error(index + ": not a cgprof experiment index (no \"experiment_file\")");
  const std::string file = j["experiment_file"].get<std::string>();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw Error(index + ": the experiment file " + file +
                " is gone; the runs' states need it (put it back)");
  return open_experiment(file, out.string());
}

// The result directories are looked at again after squeue: a task that ends in between is then
// done, not failed.
SlurmStatus slurm_status(ExperimentRun& x) {
  SlurmStatus s;
  s.submissions = read_submissions(x);
  std::optional<std::vector<report::SlurmTaskState>> queue;
  std::vector<report::SlurmTaskState> accounting;
  if (!s.submissions.empty()) {
    std::string jobs;
    for (const auto& sub : s.submissions) jobs += (jobs.empty() ? "" : ",") + sub.job_id;
    // Not `squeue -j`: it fails outright when one of the jobs has already left the queue.
    std::string text;
    if (capture({"squeue", "-h", "-r", "--me", "-o", "%F %K %T"}, &text, true) == 0)
      queue = report::parse_squeue(text);
    text.clear();
    if (capture({"sacct", "-n", "-P", "-X", "-j", jobs, "-o", "JobID,State"}, &text, true) == 0)
      accounting = report::parse_sacct(text);
    for (std::size_t i = 0; i < x.plan.size(); ++i)
      if (!x.states[i].complete)
        x.states[i] = report::inspect_run_dir(x.output + "/" + x.plan[i].id);
  }
  s.squeue_ok = queue.has_value();
  s.cells = report::experiment_cell_status(x.states, s.submissions, queue, accounting);
  return s;
}

std::vector<std::size_t> runs_to_submit(const SlurmStatus& s) {
  std::vector<std::size_t> t;
  for (std::size_t i = 0; i < s.cells.size(); ++i)
    if (s.cells[i].state == CellState::failed || s.cells[i].state == CellState::missing)
      t.push_back(i);
  return t;
}

std::string slurm_array_script(const ExperimentRun& x, const report::ExperimentSlurm& options,
                               const std::vector<std::size_t>& tasks) {
  check_array_size(x, tasks);
  report::SlurmScriptInput in;
  in.name = x.experiment.name;
  in.experiment_file = x.experiment.source;
  in.output_dir = x.output;
  in.cgprof = x.executable;
  in.options = options;
  in.tasks = tasks;
  return report::slurm_array_script(in);
}

std::string submit_slurm_array(const ExperimentRun& x, const std::string& script,
                               const std::vector<std::size_t>& tasks) {
  make_directories(slurm_dir(x) + "/logs");
  const std::string path = slurm_dir(x) + "/array.sbatch";
  write_file_atomic(path, script);
  return sbatch(x, path, "", tasks);
}

SlurmResubmission plan_resubmission(const ExperimentRun& x, const SlurmStatus& s) {
  SlurmResubmission r;
  r.tasks = runs_to_submit(s);
  if (r.tasks.empty()) return r;
  if (!s.squeue_ok && !s.submissions.empty())
    throw Error(
        "squeue could not be asked, so runs still queued cannot be told from failed "
        "ones; run this where squeue works");
  // The script of the first submission, with its options; only the array changes.
  r.script = slurm_dir(x) + "/array.sbatch";
  std::error_code ec;
  if (!fs::is_regular_file(r.script, ec))
    throw Error(r.script + ": missing; submit with `cgprof experiment " + x.experiment.source +
                " --slurm` instead");
  std::string throttle;
  const std::string text = read_regular_file(r.script, kMaxConfigFileBytes);
  if (auto at = text.find("#SBATCH --array="); at != std::string::npos) {
    const std::string arr = text.substr(at, text.find('\n', at) - at);
    if (auto pct = arr.find('%'); pct != std::string::npos) throttle = arr.substr(pct);
  }
  check_array_size(x, r.tasks);
  r.array = report::format_task_list(r.tasks) + throttle;
  return r;
}

std::string resubmit_slurm_array(const ExperimentRun& x, const SlurmResubmission& r) {
  return sbatch(x, r.script, r.array, r.tasks);
}

// Slurm's signals to a task (scancel, the time limit: SIGTERM, then SIGKILL after KillWait)
// reach the run's own handlers, which stop the workload and record the run as interrupted.
CellResult run_slurm_task(ExperimentRun& x, long index, const RunCommandParser& parse) {
  if (index < 0 || static_cast<std::size_t>(index) >= x.plan.size())
    throw Error("experiment " + x.experiment.source + ": --task " + std::to_string(index) +
                ": the plan has runs 0 to " + std::to_string(x.plan.size() - 1) +
                " (was the file changed since it was submitted? submit it again)");
  return run_experiment_cell(x, static_cast<std::size_t>(index), parse);
}

}  // namespace cgprof::run
