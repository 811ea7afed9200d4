// `cgprof run`: build a ProcessSpec from the options, start the container, wait, exit with the
// workload's status (docker's codes). The steps are separate functions so the image module
// (IMAGE instead of --rootfs) and the cgroup/sampler modules (limits, sampling around the run)
// each plug into one place.
#include <memory>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"
#include "commands.hpp"
#include "image_run.hpp"
#include "run_profile.hpp"
#include "run_repeat.hpp"
#include "sandbox_options.hpp"

namespace cgprof::cli {
namespace {

struct RunArgs {
  std::string rootfs;
  std::vector<std::string> command;
  SandboxOptions sandbox;
  ImageRunOptions image;
  ProfileOptions profile;  // limits, sampling, result (run_profile.hpp)
  RepeatOptions repeat;    // --repeat, --warmup, --label (run_repeat.hpp)
};

// Step 1: what to run and where.
sandbox::ProcessSpec build_spec(const RunArgs& a) {
  sandbox::ProcessSpec spec;
  if (a.rootfs.empty()) {  // IMAGE [--] [COMMAND [ARG...]]
    // Options end at IMAGE, so a "--" after it (`cgprof run IMAGE -- CMD`, as with docker and
    // podman) reaches us as a word: it separates, it is not the command.
    std::vector<std::string> words = a.command;
    if (words.size() >= 2 && words[1] == "--") words.erase(words.begin() + 1);
    apply_image(a.image, words, spec);
    apply_sandbox_options(a.sandbox, spec);
    return spec;
  }
  if (a.command.empty())
    throw Error("run: no command: cgprof run --rootfs DIR [--] COMMAND [ARG...]");
  spec.rootfs = a.rootfs;
  spec.argv = a.command;
  apply_sandbox_options(a.sandbox, spec);
  return spec;
}

// Step 2: run it (once, or --repeat times); returns docker's exit code.
int run_once(const RunArgs& a, const sandbox::ProcessSpec& spec) {
  sandbox::LaunchOptions launch;
  launch.quiet = a.sandbox.quiet;
  return run_repeated(a.repeat, a.profile, spec, launch);
}

}  // namespace

void add_run_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run COMMAND inside a root file system in Linux namespaces (as root or rootless)");
  cmd->add_option("--rootfs", args->rootfs, "Root file system directory to run in")
      ->type_name("DIR");
  add_sandbox_options(*cmd, args->sandbox);
  add_image_run_options(*cmd, args->image);
  add_profile_options(cmd, args->profile);
  add_repeat_options(cmd, args->repeat);
  // Everything from COMMAND on belongs to the command, even things that look like options.
  cmd->add_option("command", args->command, "IMAGE [COMMAND [ARG...]], or COMMAND [ARG...] with --rootfs")
      ->type_name("IMAGE|COMMAND");
  cmd->positionals_at_end();
  cmd->callback([args, &out] {
    sandbox::ProcessSpec spec = build_spec(*args);
    if (args->rootfs.empty()) {
      const image::PreparedImage& img = *args->image.prepared;
      args->profile.image = args->command.front();
      args->profile.image_digest =
          img.manifest_digest.empty() ? img.config_digest : img.manifest_digest;
    }
    out.exit_code = run_once(*args, spec);
  });
}

}  // namespace cgprof::cli
