// The options and operands of `cgprof run`, and the request they make for the run library
// (include/cgprof/run.hpp). `cgprof experiment` parses each cell's `cgprof run` command line with
// the same grammar.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cgprof/run.hpp"

namespace cgprof::cli {

struct RunArgs {
  run::RunRequest request;
  std::string max_layer_size;        // --max-layer-size ("" when not given)
  std::vector<std::string> labels;   // --label K=V, repeatable
  std::vector<std::string> command;  // IMAGE [COMMAND [ARG...]], or COMMAND [ARG...] with --rootfs
};

// Adds every option and the positional words of `cgprof run` to `cmd`; `a` must outlive parsing.
void add_run_options(CLI::App* cmd, RunArgs& a);

// The request the parsed arguments make: labels checked, IMAGE split from its arguments, the
// image unpack options. Throws Error naming the option.
run::RunRequest make_run_request(const RunArgs& a);

// The request of one planned `cgprof run` command line of an experiment (`run_args`: the words
// after "cgprof run"), parsed exactly as `cgprof run` parses its own; a run::RunCommandParser.
// Throws Error with the line `cgprof run` would print for a bad command line.
run::RunRequest parse_run_command_line(const std::vector<std::string>& run_args);

}  // namespace cgprof::cli
