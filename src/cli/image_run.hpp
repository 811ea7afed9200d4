// The image options of `cgprof run` (--platform, --entrypoint, --max-layer-size) and the
// unpack options that `run` and `image unpack|prepare` share.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cgprof/image.hpp"
#include "cgprof/run.hpp"

namespace cgprof::cli {

// --platform and --entrypoint into the request; --max-layer-size into max_layer_size.
void add_image_run_options(CLI::App& cmd, run::RunRequest& o, std::string& max_layer_size);

// --max-layer-size SIZE, for `run` and `image unpack|prepare`.
void add_max_layer_size_option(CLI::App& cmd, std::string& value, const char* group = nullptr);
// What they unpack with: rootless when not root, progress on a terminal, and the layer size limit
// from max_layer_size, else $CGPROF_MAX_LAYER_SIZE, else the default rule (0). Throws Error on a
// malformed size.
image::UnpackOptions unpack_options(const std::string& max_layer_size);

}  // namespace cgprof::cli
