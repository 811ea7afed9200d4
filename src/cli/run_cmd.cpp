// `cgprof run`: parse the options into a run request and hand it to the run library
// (include/cgprof/run.hpp), which resolves, runs, samples, records and prints; exit with the
// workload's status (docker's codes).
#include <memory>

#include "commands.hpp"
#include "run_options.hpp"

namespace cgprof::cli {

void add_run_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run COMMAND inside a root file system in Linux namespaces (as root or rootless)");
  add_run_options(cmd, *args);
  cmd->callback([args, &out] { out.exit_code = run::run_workload(make_run_request(*args)); });
}

}  // namespace cgprof::cli
