// IMAGE in place of --rootfs for `cgprof run`: prepare the image in the store and fill the
// ProcessSpec from its config with docker's rules (Entrypoint + Cmd, arguments replace Cmd,
// --entrypoint replaces Entrypoint and drops Cmd; Env, WorkingDir and User as defaults that the
// sandbox options then override).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/image.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::cli {

struct ImageRunOptions {
  std::string platform;
  std::string max_layer_size;             // --max-layer-size, "" when not given
  std::optional<std::string> entrypoint;  // set (possibly "") when --entrypoint was given
  // Keeps the store entry's shared lock for the whole run (prune leaves it alone).
  std::shared_ptr<image::PreparedImage> prepared = std::make_shared<image::PreparedImage>();
};

void add_image_run_options(CLI::App& cmd, ImageRunOptions& o);

// --max-layer-size SIZE, for `run` and `image unpack|prepare`.
void add_max_layer_size_option(CLI::App& cmd, std::string& value, const char* group = nullptr);
// What they unpack with: rootless when not root, progress on a terminal, and the layer size limit
// from max_layer_size, else $CGPROF_MAX_LAYER_SIZE, else the default rule (0). Throws Error on a
// malformed size.
image::UnpackOptions unpack_options(const std::string& max_layer_size);

// words = IMAGE [ARG...]. Sets spec.rootfs, argv, env, cwd, user.
void apply_image(const ImageRunOptions& o, const std::vector<std::string>& words,
                 sandbox::ProcessSpec& spec);

// The argv docker would run: pure function of the config and the command line.
std::vector<std::string> image_argv(const image::ImageConfig& c,
                                    const std::optional<std::string>& entrypoint,
                                    const std::vector<std::string>& args);

}  // namespace cgprof::cli
