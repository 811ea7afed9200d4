// cgprof entry point: parse, run the chosen subcommand, print one error line, map exit codes.
#include <cstdio>
#include <exception>

#include "cgprof/error.hpp"
#include "cgprof_config.h"
#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "cgprof: profile a model script as it would run on a small target device, using Linux\n"
      "namespaces and cgroup v2 limits taken from a device profile. No daemon, no root needed.",
      "cgprof"};
  app.set_version_flag("--version", "cgprof " CGPROF_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  cgprof::cli::Outcome outcome;
  // Subcommands (one line each as they land):
  cgprof::cli::add_devices_command(app, outcome);
  cgprof::cli::add_run_command(app, outcome);
  cgprof::cli::add_report_command(app, outcome);
  cgprof::cli::add_compare_command(app, outcome);
  cgprof::cli::add_experiment_command(app, outcome);
  cgprof::cli::add_calibrate_command(app, outcome);
  cgprof::cli::add_predict_command(app, outcome);
  cgprof::cli::add_image_command(app, outcome);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A bad command line: one line, as every other error, naming the subcommand and where to
    // read about it; docker's 125.
    std::string where = "cgprof";
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      where += " " + sub->get_name();
    }
    std::fprintf(stderr, "cgprof: %s (see '%s --help')\n", cgprof::escape_control(e.what()).c_str(),
                 where.c_str());
    return cgprof::kExitCgprofFailed;
  } catch (const std::exception& e) {
    const cgprof::ErrorLine line = cgprof::describe_exception(e);
    std::fprintf(stderr, "cgprof: %s\n", line.message.c_str());
    return line.exit_code;
  }
  return outcome.exit_code;
}
