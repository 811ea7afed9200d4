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
    int rc = app.exit(e);  // --help/--version: 0; a bad option: docker's 125
    return rc == 0 ? 0 : cgprof::kExitCgprofFailed;
  } catch (const cgprof::Error& e) {
    std::fprintf(stderr, "cgprof: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cgprof: internal error: %s\n", e.what());
    return cgprof::kExitCgprofFailed;
  }
  return outcome.exit_code;
}
