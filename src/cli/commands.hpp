// Each subcommand lives in its own file and registers itself on the root app.
// A command reports the process exit status through Outcome (the workload's status for `run`).
#pragma once

#include <CLI/CLI.hpp>

namespace cgprof::cli {

struct Outcome {
  int exit_code = 0;
};

// Registered in main.cpp in this order; add one line there when a command lands.
void add_devices_command(CLI::App& app, Outcome& out);  // devices_cmd.cpp
void add_run_command(CLI::App& app, Outcome& out);      // run_cmd.cpp
void add_image_command(CLI::App& app, Outcome& out);    // image_cmd.cpp
void add_report_command(CLI::App& app, Outcome& out);   // report_cmd.cpp
void add_compare_command(CLI::App& app, Outcome& out);  // compare_cmd.cpp
void add_experiment_command(CLI::App& app, Outcome& out);  // experiment_cmd.cpp
void add_calibrate_command(CLI::App& app, Outcome& out);   // calibrate_cmd.cpp
void add_predict_command(CLI::App& app, Outcome& out);     // predict_cmd.cpp

}  // namespace cgprof::cli
