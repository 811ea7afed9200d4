#include "sandbox_options.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::cli {

void add_sandbox_options(CLI::App& cmd, SandboxOptions& o) {
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

void apply_sandbox_options(const SandboxOptions& o, sandbox::ProcessSpec& spec) {
  using namespace cgprof::sandbox;
  for (const auto& v : o.volumes) spec.volumes.push_back(parse_volume(v));
  // docker's order: env files first, then -e, later ones win.
  for (const auto& f : o.env_files) {
    std::string content =
        with_context("--env-file", [&] { return read_regular_file(f, kMaxConfigFileBytes); });
    for (auto& kv : parse_env_file(content, f)) set_env(spec.env, kv);
  }
  for (const auto& e : o.env)
    if (auto kv = parse_env_arg(e)) set_env(spec.env, *kv);
  if (!o.workdir.empty()) {
    if (o.workdir[0] != '/')
      throw Error("--workdir " + o.workdir + ": must be an absolute path inside the container");
    spec.cwd = o.workdir;
  }
  if (o.net == "none") spec.net = NetMode::kNone;
  if (o.net == "host") spec.net = NetMode::kHost;
  if (!o.hostname.empty()) {
    if (std::string why = hostname_problem(o.hostname); !why.empty())
      throw Error("--hostname \"" + o.hostname + "\": " + why + "; give a name like model-test");
    spec.hostname = o.hostname;
  } else if (spec.net == NetMode::kHost) {
    char host[65] = {};
    if (::gethostname(host, sizeof host - 1) == 0) spec.hostname = host;
  }
  if (o.userns == "host") spec.userns = UsernsMode::kHost;
  if (o.userns == "private" || o.rootless) spec.userns = UsernsMode::kPrivate;
  if (o.read_only) spec.rootfs_mode = RootfsMode::kReadOnly;
  spec.capabilities = resolve_capabilities(o.cap_add, o.cap_drop);

  for (const auto& opt : o.security_opts) {
    std::string_view s = opt;
    if (s.rfind("seccomp=", 0) == 0 || s.rfind("seccomp:", 0) == 0) {
      std::string value(s.substr(8));
      if (value == "unconfined") {
        spec.seccomp = SeccompPolicy{};
        spec.seccomp->unconfined = true;
      } else {
        std::string json = with_context("--security-opt seccomp", [&] {
          return read_regular_file(value, kMaxConfigFileBytes);
        });
        spec.seccomp = parse_seccomp_profile(json, value, spec.capabilities);
      }
    } else if (s == "no-new-privileges" || s == "no-new-privileges:true" ||
               s == "no-new-privileges=true") {
      // always on
    } else {
      throw Error("--security-opt " + opt +
                  ": unsupported (supported: seccomp=unconfined, seccomp=PROFILE.json, "
                  "no-new-privileges)");
    }
  }

  // The user: -u wins over what an image config set; names come from the rootfs's own files.
  std::string user = o.user.empty() ? spec.user : o.user;
  const std::string& db = spec.user_db_root.empty() ? spec.rootfs : spec.user_db_root;
  int rootfs_fd = ::open(db.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfs_fd < 0) {
    int err = errno;
    throw Error("rootfs " + db + ": " + std::strerror(err) +
                " (give a directory holding a root file system, e.g. one made by "
                "rootfs-tools/make-busybox-rootfs)");
  }
  UniqueFd owned(rootfs_fd);
  ResolvedUser r = with_context("--user", [&] { return resolve_user_in_rootfs(rootfs_fd, user); });
  spec.user = user;
  spec.uid = r.uid;
  spec.gid = r.gid;
  spec.supplementary_gids = r.supplementary_gids;
  if (!find_env(spec.env, "HOME")) set_env(spec.env, "HOME=" + r.home);
}

}  // namespace cgprof::cli
