// The sandbox's options of `cgprof run` (docker spelling) and how they fill a ProcessSpec.
// Owned by the sandbox module; the other modules add their options in their own files.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cgprof/sandbox.hpp"

namespace cgprof::cli {

struct SandboxOptions {
  std::vector<std::string> volumes, env, env_files, cap_add, cap_drop, security_opts;
  std::string workdir, user, hostname, net = "loopback", userns = "auto";
  bool rootless = false;
  bool read_only = false;
  bool quiet = false;
};

void add_sandbox_options(CLI::App& cmd, SandboxOptions& o);

// Applies the options on top of spec, which already holds rootfs and argv (and whatever an image
// config supplied: env, cwd, user). Options override the spec; the user is resolved from the
// rootfs's /etc/passwd and /etc/group. Throws Error (exit code 125) naming the bad option.
void apply_sandbox_options(const SandboxOptions& o, sandbox::ProcessSpec& spec);

}  // namespace cgprof::cli
