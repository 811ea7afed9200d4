// The workload of a run, resolved from its request: the process spec, and the image it came
// from (held for the whole run: its shared lock keeps `image prune` away).
#pragma once

#include <memory>
#include <string>

#include "cgprof/image.hpp"
#include "cgprof/run.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::run {

struct Workload {
  sandbox::ProcessSpec spec;
  std::unique_ptr<image::PreparedImage> image;  // null for a root file system
  std::string image_ref;                        // the reference as given ("" for a rootfs)
  // The manifest digest, or the config digest of a classic docker-archive that has no manifest.
  std::string image_digest;
};

// Prepares the image (or checks the root file system's command) and applies the sandbox options.
// Throws Error naming the option or the image.
Workload resolve_workload(const RunRequest& request);

}  // namespace cgprof::run
