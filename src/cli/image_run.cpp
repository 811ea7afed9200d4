#include "image_run.hpp"

#include <unistd.h>

#include "cgprof/error.hpp"

namespace cgprof::cli {

void add_image_run_options(CLI::App& cmd, ImageRunOptions& o) {
  const char* g = "Image";
  cmd.add_option("--platform", o.platform,
                 "OS/ARCH[/VARIANT] to pick from an image index (default: linux and the host's)")
      ->group(g);
  cmd.add_option_function<std::string>(
         "--entrypoint", [&o](const std::string& v) { o.entrypoint = v; },
         "Replace the image's Entrypoint (and drop its Cmd); \"\" clears it")
      ->type_name("CMD")
      ->group(g);
}

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

void apply_image(const ImageRunOptions& o, const std::vector<std::string>& words,
                 sandbox::ProcessSpec& spec) {
  if (words.empty())
    throw Error("run: no image: cgprof run [OPTIONS] IMAGE [COMMAND [ARG...]] (or --rootfs DIR)");
  std::optional<image::Platform> platform;
  if (!o.platform.empty()) platform = image::parse_platform(o.platform);
  image::UnpackOptions uo;
  uo.rootless = ::geteuid() != 0;
  uo.progress = ::isatty(2);
  image::ImageStore store;
  *o.prepared = store.prepare(image::parse_image_ref(words[0]), platform, uo);
  const image::ImageConfig& c = o.prepared->config;
  spec.rootfs = o.prepared->rootfs;
  if (o.prepared->layers.size() > 1) spec.rootfs_layers = o.prepared->layers;
  spec.user_db_root = o.prepared->user_db;
  spec.argv = image_argv(c, o.entrypoint, {words.begin() + 1, words.end()});
  if (spec.argv.empty())
    throw Error("run: image " + words[0] +
                " has no Entrypoint or Cmd: give a COMMAND after the image");
  spec.env = c.env;
  if (!c.working_dir.empty()) spec.cwd = c.working_dir;
  spec.user = c.user;
}

}  // namespace cgprof::cli
