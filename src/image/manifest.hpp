// Reading index.json / manifests / configs (OCI and docker-archive) into an ImageManifest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgprof/image.hpp"
#include "source.hpp"

namespace cgprof::image {

// Media types we can unpack, normalised to the OCI spelling; "" if unknown.
std::string normalise_layer_media_type(const std::string& media_type);

// Picks the manifest for `want` from an image index's "manifests" array (JSON text).
// Returns the index into the array; throws Error listing the available platforms if none fits.
size_t select_platform(const std::string& index_json, const Platform& want,
                       const std::string& what);

struct ResolvedImage {
  ImageManifest manifest;
  std::vector<std::string> layer_paths;  // member names of the layer blobs inside the source
};

ResolvedImage resolve_image(const ImageSource& src, const ImageRef& ref,
                            const std::optional<Platform>& platform);

// Parses the parts of an image config a run uses (OCI / docker "config" object).
ImageConfig parse_image_config(const std::string& config_json, std::vector<std::string>* diff_ids,
                               Platform* platform, const std::string& what);

}  // namespace cgprof::image
