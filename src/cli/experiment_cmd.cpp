// `cgprof experiment FILE.toml`: run a matrix of workloads x devices x repeats, one
// `cgprof run` child process per run, resuming where an earlier invocation stopped.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"
#include "commands.hpp"
#include "experiment_slurm.hpp"

namespace cgprof::cli {
namespace {

namespace fs = std::filesystem;

struct ExperimentArgs {
  std::string file, output;
  bool dry_run = false;
};

std::atomic<pid_t> g_child{0};
std::atomic<int> g_stop_signal{0};

// The run in progress has a process group of its own, so a terminal's Ctrl-C reaches this process
// only, and is forwarded exactly once: the run then passes it to its workload and waits
// --stop-timeout, and a second Ctrl-C (forwarded again) kills at once, as with `cgprof run`.
void on_signal(int sig) {
  g_stop_signal = sig;
  const pid_t c = g_child;
  if (c > 0) ::kill(c, sig);
}

int run_child(const std::vector<std::string>& argv, const std::string& cwd) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // The run must not outlive the experiment (a killed experiment would otherwise leave a
    // run writing into a directory the next invocation is about to redo).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() == 1) ::_exit(kExitCgprofFailed);
    ::setpgid(0, 0);
    if (::chdir(cwd.c_str()) != 0) {
      std::fprintf(stderr, "cgprof experiment: chdir %s: %s\n", cwd.c_str(), strerror(errno));
      ::_exit(kExitCgprofFailed);
    }
    ::execv(cargv[0], cargv.data());
    std::fprintf(stderr, "cgprof experiment: exec %s: %s\n", cargv[0], strerror(errno));
    ::_exit(kExitCannotExecute);
  }
  ::setpgid(pid, pid);  // also here: whichever of the two runs first wins the race
  g_child = pid;
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  g_child = 0;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + WTERMSIG(st);
}

int run_experiment(const ExperimentArgs& a) {
  const report::Experiment e = report::parse_experiment(read_regular_file(a.file, kMaxConfigFileBytes), a.file);
  fs::path out = a.output.empty() ? fs::path(e.base_dir) / e.output : fs::path(a.output);
  out = fs::absolute(out).lexically_normal();
  fs::create_directories(out);
  const auto plan = report::plan_experiment(e, out.string(), cgprof_executable());
  std::vector<report::RunDirState> states;
  for (const auto& p : plan) states.push_back(report::inspect_run_dir((out / p.id).string()));
  auto write_index = [&] {
    report::write_file_atomic((out / "index.json").string(),
                              report::experiment_index_json(e, plan, states));
    report::write_file_atomic((out / "index.csv").string(),
                              report::experiment_index_csv(plan, states));
  };
  write_index();
  std::size_t already = 0;
  for (const auto& s : states) already += s.complete;
  std::fprintf(stderr,
               "cgprof experiment %s: %zu runs (%zu workloads x %zu devices x %u%s), %zu "
               "already complete; results in %s\n",
               e.name.c_str(), plan.size(), e.workloads.size(), e.devices.size(), e.repeat,
               e.warmup ? (" + " + std::to_string(e.warmup) + " warm-up").c_str() : "", already,
               out.c_str());
  if (a.dry_run) {
    for (std::size_t i = 0; i < plan.size(); ++i)
      std::printf("%s%s\n", states[i].complete ? "# done: " : "",
                  report::shell_join(plan[i].argv).c_str());
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);

  std::size_t ran = 0, failed = 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& p = plan[i];
    const std::string dir = (out / p.id).string();
    if (states[i].complete) continue;
    if (g_stop_signal) break;
    if (states[i].exists) fs::remove_all(dir);  // a run cut short: start it again from scratch
    fs::create_directories(fs::path(dir).parent_path());
    std::fprintf(stderr, "[%zu/%zu] %s on %s, %s %u/%u\n", i + 1, plan.size(), p.workload.c_str(),
                 p.device.c_str(), p.warmup ? "warm-up" : "run", p.repeat,
                 p.warmup ? e.warmup : e.repeat);
    const int status = run_child(p.argv, e.base_dir);
    states[i] = report::inspect_run_dir(dir);
    ++ran;
    write_index();
    if (!states[i].complete) {
      if (g_stop_signal) break;
      throw Error("experiment: run " + p.id + " did not complete (exit status " +
                  std::to_string(status) + "); fix the cause and rerun the same command to " +
                  "resume: " + report::shell_join(p.argv));
    }
    if (states[i].exit_status != 0) {
      ++failed;
      std::fprintf(stderr, "[%zu/%zu] %s: workload exited with status %d (kept; not rerun)\n",
                   i + 1, plan.size(), p.id.c_str(), states[i].exit_status);
    }
  }
  std::size_t complete = 0;
  for (const auto& s : states) complete += s.complete;
  std::fprintf(stderr,
               "cgprof experiment %s: %zu/%zu runs complete (%zu run now, %zu skipped as "
               "already complete, %zu with a non-zero workload exit)%s\n",
               e.name.c_str(), complete, plan.size(), ran, already, failed,
               g_stop_signal ? "; interrupted, rerun the same command to resume" : "");
  if (g_stop_signal) return 128 + g_stop_signal;
  return 0;
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
