#include "image_run.hpp"

#include <unistd.h>

#include <cstdlib>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

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
  add_max_layer_size_option(cmd, o.max_layer_size, g);
}

void add_max_layer_size_option(CLI::App& cmd, std::string& value, const char* group) {
  auto* opt =
      cmd.add_option("--max-layer-size", value,
                     "The most bytes one image layer may expand to (default: 1 GiB + 100 x its "
                     "compressed size; also $CGPROF_MAX_LAYER_SIZE)")
          ->type_name("SIZE");
  if (group) opt->group(group);
}

image::UnpackOptions unpack_options(const std::string& max_layer_size) {
  image::UnpackOptions o;
  o.rootless = ::geteuid() != 0;
  o.progress = ::isatty(2);
  std::string what = "--max-layer-size";
  std::string text = max_layer_size;
  if (text.empty()) {
    const char* env = std::getenv("CGPROF_MAX_LAYER_SIZE");
    if (!env || !*env) return o;
    what = "CGPROF_MAX_LAYER_SIZE";
    text = env;
  }
  std::optional<uint64_t> v = parse_size(text);
  if (!v || *v == 0)
    throw Error(what + " \"" + text + "\": expected a size greater than 0, like 32GiB");
  o.max_layer_bytes = *v;
  return o;
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
  image::UnpackOptions uo = unpack_options(o.max_layer_size);
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
