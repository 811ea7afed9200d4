#include "run_options.hpp"

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "image_run.hpp"
#include "limit_options.hpp"
#include "run_output.hpp"
#include "sandbox_options.hpp"

namespace cgprof::cli {
namespace {

// --device, the limit overrides, sampling, the result directory, the cgroup and phase marks.
void add_profile_options(CLI::App* cmd, run::RunRequest& o) {
  add_limit_options(cmd, o.limits);
  cmd->add_option("--rate", o.rate_hz, "Samples per second (1..50000, default 1000)")
      ->type_name("HZ");
  cmd->add_option("--sample", o.sample,
                  "Sample groups, comma-separated: cpu,memory,io,pids,psi,net (default: all)")
      ->type_name("LIST");
  cmd->add_option("--stop-timeout", o.stop_timeout,
                  "Seconds to wait for the command to exit after Ctrl-C/SIGTERM is passed on "
                  "before killing it (default 10; -1: no limit)")
      ->type_name("SECONDS");
  cmd->add_option("--output", o.output,
                  "Result directory (default: ./cgprof-results/<time>-<device>-<command>/)")
      ->type_name("DIR");
  cmd->add_option("--cgroup-manager", o.cgroup_manager,
                  "cgroup backend: auto (v1 where v1 controllers are mounted, else v2; emulated "
                  "when no cgroup can be created), v1, v2 or emulated (limits from user space, "
                  "counters from /proc)")
      ->type_name("auto|v1|v2|emulated");
  cmd->add_flag("--no-cgroup", o.no_cgroup,
                "Run without a cgroup and without limits: no sampling, no result directory "
                "(where no cgroup can be created, a plain run falls back to emulated limits)");
  cmd->add_option("--mark-regex", o.mark_regex,
                  "Phase marks from the workload's output lines matching RE (first capture "
                  "group: the phase name, '-' ends it); the output is passed through unchanged")
      ->type_name("RE");
  cmd->add_flag("--no-marks", o.no_marks,
                "Do not serve phase marks at $CGPROF_MARK (/dev/cgprof-mark) in the container");
}

// --label, --repeat and --warmup.
void add_repeat_options(CLI::App* cmd, RunArgs& a) {
  run::RunRequest& o = a.request;
  cmd->add_option("--label", a.labels,
                  "Label the result, KEY=VALUE (repeatable); compare --by KEY and calibration "
                  "CSVs group runs by labels")
      ->allow_extra_args(false)  // `--label k=v IMAGE`: IMAGE is not a second label
      ->type_name("KEY=VALUE");
  cmd->add_option("--repeat", o.repeat,
                  "Run N times into OUTPUT/run-001... and write OUTPUT/aggregate.json (default 1)")
      ->type_name("N");
  cmd->add_option("--warmup", o.warmup,
                  "Run K times first into OUTPUT/warmup-001..., kept but not aggregated")
      ->type_name("K");
}

}  // namespace

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("--rootfs", a.request.rootfs, "Root file system directory to run in")
      ->type_name("DIR");
  add_sandbox_options(*cmd, a.request.sandbox);
  add_image_run_options(*cmd, a.request, a.max_layer_size);
  add_profile_options(cmd, a.request);
  add_repeat_options(cmd, a);
  // Everything from COMMAND on belongs to the command, even things that look like options.
  cmd->add_option("command", a.command, "IMAGE [COMMAND [ARG...]], or COMMAND [ARG...] with --rootfs")
      ->type_name("IMAGE|COMMAND");
  cmd->positionals_at_end();
}

run::RunRequest make_run_request(const RunArgs& a) {
  run::RunRequest r = a.request;
  r.command = a.command;
  r.observer = &stderr_observer();
  if (r.rootfs.empty()) {
    r.unpack = unpack_options(a.max_layer_size);
    if (!r.command.empty()) {
      r.image = r.command.front();
      r.command.erase(r.command.begin());
    }
  }
  r.labels = report::parse_labels(a.labels);
  return r;
}

run::RunRequest parse_run_command_line(const std::vector<std::string>& run_args) {
  CLI::App cmd{"", "run"};
  RunArgs a;
  add_run_options(&cmd, a);
  std::vector<std::string> reversed(run_args.rbegin(), run_args.rend());  // CLI11's order
  try {
    cmd.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // As main() words a bad `cgprof run` command line.
    throw Error(std::string(e.what()) + " (see 'cgprof run --help')");
  }
  return make_run_request(a);
}

}  // namespace cgprof::cli
