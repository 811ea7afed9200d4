#include "sandbox_options.hpp"

namespace cgprof::cli {

void add_sandbox_options(CLI::App& cmd, run::SandboxOptions& o) {
  const char* g = "Sandbox";
  cmd.add_option("-v,--volume", o.volumes, "Bind mount HOST:CONTAINER[:ro] (repeatable)")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("-e,--env", o.env, "Set K=V, or pass K through from the host (repeatable)")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("--env-file", o.env_files, "Read K=V lines from a file (repeatable)")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("-w,--workdir", o.workdir, "Working directory inside the container (created)")
      ->group(g);
  cmd.add_option("-u,--user", o.user,
                 "UID[:GID] or NAME[:GROUP], names from the rootfs's /etc/passwd, /etc/group")
      ->group(g);
  cmd.add_option("--hostname", o.hostname, "Container host name (default: cgprof)")->group(g);
  cmd.add_option("--net,--network", o.net,
                 "loopback (new network namespace, only lo up; default), none, or host")
      ->check(CLI::IsMember({"loopback", "none", "host"}))
      ->group(g);
  cmd.add_option("--cap-add", o.cap_add, "Add a capability (or ALL) to docker's default set")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("--cap-drop", o.cap_drop, "Drop a capability (or ALL) from the set")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("--security-opt", o.security_opts,
                 "seccomp=unconfined or seccomp=PROFILE.json (docker's format)")
      ->allow_extra_args(false)
      ->group(g);
  cmd.add_option("--userns", o.userns,
                 "auto (rootless when not root; default), host (no user namespace, root only), "
                 "private (always a user namespace)")
      ->check(CLI::IsMember({"auto", "host", "private"}))
      ->group(g);
  cmd.add_flag("--rootless", o.rootless, "Same as --userns=private")->group(g);
  cmd.add_flag("--read-only", o.read_only,
               "Read-only rootfs (tmpfs on /tmp) instead of a throwaway overlay")
      ->group(g);
  static bool rm_ignored = false;
  cmd.add_flag("--rm", rm_ignored,
               "Accepted for docker compatibility: containers are always removed")
      ->group(g);
  cmd.add_flag("-q,--quiet", o.quiet, "No notices on stderr")->group(g);
}

}  // namespace cgprof::cli
