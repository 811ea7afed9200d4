// Resolving what to run: an image from the store (docker's rules for Entrypoint + Cmd, Env,
// WorkingDir and User as defaults) or a root file system, then the sandbox options on top.
#include "workload.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::run {
namespace {

// Options override the spec; the user is resolved from the rootfs's /etc/passwd and /etc/group.
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

// words = IMAGE [ARG...]. Sets spec.rootfs, argv, env, cwd, user; `prepared` keeps the store
// entry's shared lock for the whole run (prune leaves it alone).
void apply_image(const RunRequest& r, const std::vector<std::string>& words,
                 image::PreparedImage& prepared, sandbox::ProcessSpec& spec) {
  if (words.empty())
    throw Error("run: no image: cgprof run [OPTIONS] IMAGE [COMMAND [ARG...]] (or --rootfs DIR)");
  std::optional<image::Platform> platform;
  if (!r.platform.empty()) platform = image::parse_platform(r.platform);
  image::ImageStore store;
  prepared = store.prepare(image::parse_image_ref(words[0]), platform, r.unpack);
  const image::ImageConfig& c = prepared.config;
  spec.rootfs = prepared.rootfs;
  if (prepared.layers.size() > 1) spec.rootfs_layers = prepared.layers;
  spec.user_db_root = prepared.user_db;
  spec.argv = image_argv(c, r.entrypoint, {words.begin() + 1, words.end()});
  if (spec.argv.empty())
    throw Error("run: image " + words[0] +
                " has no Entrypoint or Cmd: give a COMMAND after the image");
  spec.env = c.env;
  if (!c.working_dir.empty()) spec.cwd = c.working_dir;
  spec.user = c.user;
}

}  // namespace

std::vector<std::string> image_argv(const image::ImageConfig& c,
                                    const std::optional<std::string>& entrypoint,
                                    const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (entrypoint) {
    if (!entrypoint->empty()) argv.push_back(*entrypoint);
  } else {
    argv = c.entrypoint;
  }
  // Arguments replace Cmd; so does --entrypoint (docker drops the image's Cmd then).
  const std::vector<std::string>& tail = !args.empty() ? args : entrypoint ? args : c.cmd;
  argv.insert(argv.end(), tail.begin(), tail.end());
  return argv;
}

Workload resolve_workload(const RunRequest& r) {
  Workload w;
  if (r.rootfs.empty()) {  // IMAGE [--] [COMMAND [ARG...]]
    // Options end at IMAGE, so a "--" after it (`cgprof run IMAGE -- CMD`, as with docker and
    // podman) reaches us as a word: it separates, it is not the command.
    std::vector<std::string> words = r.command;
    if (!r.image.empty()) words.insert(words.begin(), r.image);
    if (words.size() >= 2 && words[1] == "--") words.erase(words.begin() + 1);
    w.image = std::make_unique<image::PreparedImage>();
    apply_image(r, words, *w.image, w.spec);
    apply_sandbox_options(r.sandbox, w.spec);
    w.image_ref = words.front();
    w.image_digest =
        w.image->manifest_digest.empty() ? w.image->config_digest : w.image->manifest_digest;
    return w;
  }
  if (r.command.empty())
    throw Error("run: no command: cgprof run --rootfs DIR [--] COMMAND [ARG...]");
  w.spec.rootfs = r.rootfs;
  w.spec.argv = r.command;
  apply_sandbox_options(r.sandbox, w.spec);
  return w;
}

}  // namespace cgprof::run
