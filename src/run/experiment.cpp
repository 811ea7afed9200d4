// `cgprof experiment`: the matrix of workloads x devices x repeats, each cell a run of this
// process (run_workload), resuming where an earlier invocation stopped.
//
// Cells run in-process, not as child `cgprof run` processes: each run already owns and releases
// everything it creates (cgroup, container, sampler threads, signal handlers, the image lock) on
// every exit path, so a child process would isolate nothing more. What a child used to give, the
// cell does itself: it runs from the experiment file's directory (relative paths in the file
// resolve there) and a cgprof error ends the cell with the one line and the status 125 that
// `cgprof run` would have printed and returned.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/run.hpp"
#include "cgprof/sys.hpp"
#include "interrupt.hpp"
#include "profiled_run.hpp"

namespace cgprof::run {
namespace {

namespace fs = std::filesystem;

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error::from_errno("readlink", "/proc/self/exe", ec.value());
  return p.string();
}

// The working directory of a cell: the experiment file's directory, then back.
class CellDirectory {
 public:
  CellDirectory(const std::string& dir, RunObserver& observer)
      : saved_(open_at(AT_FDCWD, ".", O_PATH | O_DIRECTORY)), observer_(observer) {
    if (::chdir(dir.c_str()) != 0) throw_errno("chdir", dir);
  }
  ~CellDirectory() {
    if (::fchdir(saved_.get()) != 0)
      observer_.message(RunObserver::Kind::warning, "cannot return to the working directory");
  }
  CellDirectory(const CellDirectory&) = delete;
  CellDirectory& operator=(const CellDirectory&) = delete;

 private:
  UniqueFd saved_;
  RunObserver& observer_;
};

// A stop signal between runs (during a run, the run's own handlers take it) is recorded, so the
// experiment stops before the next run and a run being resolved ends as interrupted.
extern "C" void on_experiment_signal(int sig) { request_stop(sig); }

class ExperimentSignals {
 public:
  ExperimentSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_experiment_signal;
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~ExperimentSignals() {
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  ExperimentSignals(const ExperimentSignals&) = delete;
  ExperimentSignals& operator=(const ExperimentSignals&) = delete;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

// One `cgprof run` command line, parsed and run here; returns its exit status.
int run_command_line(const report::PlannedRun& p, const RunCommandParser& parse,
                     RunObserver& observer) {
  try {
    // argv = cgprof run ARGS...: the parser takes ARGS.
    RunRequest request = parse({p.argv.begin() + 2, p.argv.end()});
    request.observer = &observer;
    return run_workload(request);
  } catch (const std::exception& e) {
    const ErrorLine line = describe_exception(e);
    observer.message(RunObserver::Kind::error, line.message);
    return line.exit_code;
  }
}

RunObserver& observer_of(const ExperimentRun& x) {
  return x.observer ? *x.observer : silent_observer();
}

// "[3/8] ": run `index` (0-based) of the plan.
std::string position(const ExperimentRun& x, std::size_t index) {
  return "[" + std::to_string(index + 1) + "/" + std::to_string(x.plan.size()) + "] ";
}

}  // namespace

ExperimentRun open_experiment(const std::string& file, const std::string& output) {
  ExperimentRun x;
  // Absolute: the index records it, and `experiment status DIR` reads the file from there.
  const std::string abs_file = fs::absolute(file).lexically_normal().string();
  x.experiment =
      report::parse_experiment(read_regular_file(abs_file, kMaxConfigFileBytes), abs_file);
  const report::Experiment& e = x.experiment;
  fs::path out = output.empty() ? fs::path(e.base_dir) / e.output : fs::path(output);
  out = fs::absolute(out).lexically_normal();
  make_directories(out.string());
  x.output = out.string();
  x.executable = self_exe();
  x.plan = report::plan_experiment(e, x.output, x.executable);
  for (const auto& p : x.plan) x.states.push_back(report::inspect_run_dir((out / p.id).string()));
  return x;
}

void write_experiment_index(const ExperimentRun& x) {
  const fs::path out(x.output);
  report::write_file_atomic((out / "index.json").string(),
                            report::experiment_index_json(x.experiment, x.plan, x.states));
  report::write_file_atomic((out / "index.csv").string(),
                            report::experiment_index_csv(x.plan, x.states));
}

CellResult run_experiment_cell(ExperimentRun& x, std::size_t index,
                               const RunCommandParser& parse) {
  if (index >= x.plan.size())
    throw Error("experiment " + x.experiment.source + ": run index " + std::to_string(index) +
                " is out of range (the plan has " + std::to_string(x.plan.size()) + " runs)");
  const report::PlannedRun& p = x.plan[index];
  const report::Experiment& e = x.experiment;
  const std::string dir = (fs::path(x.output) / p.id).string();
  CellResult c;
  x.states[index] = report::inspect_run_dir(dir);
  if (x.states[index].complete) {
    c.state = x.states[index];
    return c;
  }
  if (x.states[index].exists) fs::remove_all(dir);  // a run cut short: start again from scratch
  make_directories(fs::path(dir).parent_path().string());
  observer_of(x).message(RunObserver::Kind::step,
                        position(x, index) + p.workload + " on " + p.device + ", " +
                            (p.warmup ? "warm-up " : "run ") + std::to_string(p.repeat) + "/" +
                            std::to_string(p.warmup ? e.warmup : e.repeat));
  {
    CellDirectory cwd(e.base_dir, observer_of(x));
    c.status = run_command_line(p, parse, observer_of(x));
  }
  c.ran = true;
  c.stop_signal = stop_requested();
  x.states[index] = report::inspect_run_dir(dir);
  c.state = x.states[index];
  return c;
}

ExperimentSummary run_experiment(ExperimentRun& x, const RunCommandParser& parse) {
  ExperimentSignals signals;
  ExperimentSummary s;
  for (const auto& st : x.states) s.already += st.complete;
  for (std::size_t i = 0; i < x.plan.size(); ++i) {
    if (x.states[i].complete) continue;
    if (stop_requested()) break;
    const CellResult c = run_experiment_cell(x, i, parse);
    if (!c.ran) continue;  // completed meanwhile (another scheduler ran it)
    ++s.ran;
    write_experiment_index(x);
    if (!c.state.complete) {
      if (c.stop_signal) break;
      const report::PlannedRun& p = x.plan[i];
      throw Error("experiment: run " + p.id + " did not complete (exit status " +
                  std::to_string(c.status) + "); fix the cause and rerun the same command to " +
                  "resume: " + report::shell_join(p.argv));
    }
    if (c.state.exit_status != 0) {
      ++s.failed;
      observer_of(x).message(RunObserver::Kind::step,
                             position(x, i) + x.plan[i].id + ": workload exited with status " +
                                 std::to_string(c.state.exit_status) + " (kept; not rerun)");
    }
  }
  s.stop_signal = stop_requested();
  for (const auto& st : x.states) s.complete += st.complete;
  return s;
}

}  // namespace cgprof::run
