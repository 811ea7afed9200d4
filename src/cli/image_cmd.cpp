// cgprof image inspect|unpack|prepare|ls|prune
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "cgprof/units.hpp"
#include "commands.hpp"
#include "image_run.hpp"

namespace cgprof::cli {

namespace {

struct ImageArgs {
  std::string image, dir, platform, max_layer_size;
  bool json = false;
};

std::optional<image::Platform> platform_of(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return image::parse_platform(s);
}

nlohmann::json config_json(const image::ImageConfig& c) {
  return {{"Entrypoint", c.entrypoint},
          {"Cmd", c.cmd},
          {"Env", c.env},
          {"WorkingDir", c.working_dir},
          {"User", c.user}};
}

void inspect(const ImageArgs& a) {
  image::Image img(image::parse_image_ref(a.image), platform_of(a.platform));
  const image::ImageManifest& m = img.manifest();
  nlohmann::json layers = nlohmann::json::array();
  uint64_t total = 0;
  for (auto& l : m.layers) {
    total += l.size;
    layers.push_back({{"digest", l.digest.empty() ? nullptr : nlohmann::json(l.digest)},
                      {"media_type", l.media_type},
                      {"size", l.size},
                      {"diff_id", l.diff_id}});
  }
  nlohmann::json platform = {{"os", m.platform.os}, {"architecture", m.platform.architecture}};
  if (!m.platform.variant.empty()) platform["variant"] = m.platform.variant;
  nlohmann::json out = {
      {"reference", m.source},
      {"format", m.format},
      {"digest", m.manifest_digest.empty() ? nullptr : nlohmann::json(m.manifest_digest)},
      {"config_digest", m.config_digest},
      {"platform", platform},
      {"size", total},
      {"layers", layers},
      {"config", config_json(m.config)},
  };
  std::cout << out.dump(2) << "\n";
}

std::string age(int64_t created) {
  int64_t s = static_cast<int64_t>(std::time(nullptr)) - created;
  char buf[32];
  if (s < 120)
    std::snprintf(buf, sizeof buf, "%llds ago", static_cast<long long>(s));
  else if (s < 7200)
    std::snprintf(buf, sizeof buf, "%lldm ago", static_cast<long long>(s / 60));
  else if (s < 172800)
    std::snprintf(buf, sizeof buf, "%lldh ago", static_cast<long long>(s / 3600));
  else
    std::snprintf(buf, sizeof buf, "%lldd ago", static_cast<long long>(s / 86400));
  return buf;
}

}  // namespace

void add_image_command(CLI::App& app, Outcome& /*out*/) {
  auto args = std::make_shared<ImageArgs>();
  CLI::App* img =
      app.add_subcommand("image", "Inspect and unpack OCI images, manage the image cache");
  img->require_subcommand(1);
  const char* image_help =
      "OCI layout DIR, DIR:TAG, DIR@sha256:DIGEST, or an oci-archive / docker-archive FILE[:TAG]";

  CLI::App* ins = img->add_subcommand(
      "inspect", "Print an image's digest, platform, layers and config as JSON");
  ins->add_option("--platform", args->platform,
                  "OS/ARCH[/VARIANT] to pick from an image index (default: host)");
  ins->add_option("IMAGE", args->image, image_help)->required();
  ins->callback([args] { inspect(*args); });

  CLI::App* unp = img->add_subcommand("unpack", "Unpack an image's layers into a new or empty DIR");
  unp->add_option("--platform", args->platform,
                  "OS/ARCH[/VARIANT] to pick from an image index (default: host)");
  unp->add_option("IMAGE", args->image, image_help)->required();
  add_max_layer_size_option(*unp, args->max_layer_size);
  unp->add_option("DIR", args->dir, "Target directory (must not exist, or be empty)")->required();
  unp->callback([args] {
    image::UnpackOptions o = unpack_options(args->max_layer_size);
    image::Image i(image::parse_image_ref(args->image), platform_of(args->platform));
    image::unpack_to_directory(i, args->dir, o);
  });

  CLI::App* prep = img->add_subcommand(
      "prepare",
      "Unpack an image into the cache (as `run` does) and print its rootfs path, or its layer "
      "directories top first, one a line");
  prep->add_option("--platform", args->platform,
                   "OS/ARCH[/VARIANT] to pick from an image index (default: host)");
  add_max_layer_size_option(*prep, args->max_layer_size);
  prep->add_option("IMAGE", args->image, image_help)->required();
  prep->callback([args] {
    image::UnpackOptions o = unpack_options(args->max_layer_size);
    image::ImageStore store;
    auto p = store.prepare(image::parse_image_ref(args->image), platform_of(args->platform), o);
    if (!p.cache_hit)
      std::fprintf(stderr, "cgprof: unpacked %s into the cache\n", args->image.c_str());
    if (p.layers.empty()) std::cout << p.rootfs << "\n";
    for (auto& l : p.layers) std::cout << l << "\n";
  });

  CLI::App* ls = img->add_subcommand("ls", "List the unpacked images in the cache");
  ls->add_flag("--json", args->json, "Print JSON instead of a table");
  ls->callback([args] {
    image::ImageStore store;
    auto list = store.list();
    if (args->json) {
      nlohmann::json out = nlohmann::json::array();
      for (auto& c : list)
        out.push_back({{"key", c.key},
                       {"source", c.source},
                       {"digest", c.manifest_digest},
                       {"path", c.path},
                       {"bytes", c.bytes},
                       {"unique_bytes", c.unique_bytes},
                       {"layers", c.layers},
                       {"created", c.created},
                       {"in_use", c.in_use}});
      std::cout << out.dump(2) << "\n";
      return;
    }
    // SIZE counts shared layers in every image using them; UNIQUE only what the image alone uses.
    std::printf("%-14s %-11s %-11s %-7s %-10s %-5s %s\n", "ID", "SIZE", "UNIQUE", "LAYERS",
                "CREATED", "USED", "SOURCE");
    for (auto& c : list)
      std::printf("%-14s %-11s %-11s %-7s %-10s %-5s %s\n", c.key.substr(0, 12).c_str(),
                  format_size(c.bytes).c_str(), format_size(c.unique_bytes).c_str(),
                  c.layers ? std::to_string(c.layers).c_str() : "flat", age(c.created).c_str(),
                  c.in_use ? "yes" : "no", escape_control(c.source).c_str());
  });

  CLI::App* pr = img->add_subcommand("prune",
                                     "Remove cached images that no run is using, then the layers "
                                     "no remaining image uses");
  pr->callback([] {
    image::ImageStore store;
    auto r = store.prune();
    for (auto& c : r.images)
      std::printf("removed %s %s\n", c.key.substr(0, 12).c_str(), c.source.c_str());
    std::printf("%zu image(s) removed, %zu unused layer(s) removed, %s freed\n", r.images.size(),
                r.layers, format_size(r.bytes).c_str());
  });
}

}  // namespace cgprof::cli
