#include "image_run.hpp"

#include <unistd.h>

#include <cstdlib>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

namespace cgprof::cli {

void add_image_run_options(CLI::App& cmd, run::RunRequest& o, std::string& max_layer_size) {
  const char* g = "Image";
  cmd.add_option("--platform", o.platform,
                 "OS/ARCH[/VARIANT] to pick from an image index (default: linux and the host's)")
      ->group(g);
  cmd.add_option_function<std::string>(
         "--entrypoint", [&o](const std::string& v) { o.entrypoint = v; },
         "Replace the image's Entrypoint (and drop its Cmd); \"\" clears it")
      ->type_name("CMD")
      ->group(g);
  add_max_layer_size_option(cmd, max_layer_size, g);
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

}  // namespace cgprof::cli
