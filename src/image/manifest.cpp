#include "manifest.hpp"

#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "digest.hpp"

namespace cgprof::image {

using nlohmann::json;

namespace {

// index.json, manifests and configs (as the registry API caps a manifest: 4 MiB).
constexpr uint64_t kMaxMetadata = kMaxImageJsonBytes;
const char* const kOciIndex = "application/vnd.oci.image.index.v1+json";
const char* const kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
const char* const kOciManifest = "application/vnd.oci.image.manifest.v1+json";
const char* const kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
const char* const kRefName = "org.opencontainers.image.ref.name";

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] ": keep the useful part.
    std::string m = e.what();
    size_t p = m.find("] ");
    throw Error(what + ": invalid JSON: " + (p == std::string::npos ? m : m.substr(p + 2)));
  }
}

std::string get_string(const json& j, const char* key, const std::string& what, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw Error(what + ": missing \"" + key + "\"");
    return {};
  }
  if (!it->is_string()) throw Error(what + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

std::vector<std::string> get_strings(const json& j, const char* key, const std::string& what) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) throw Error(what + ": \"" + key + "\" is not an array of strings");
  for (auto& v : *it) {
    if (!v.is_string()) throw Error(what + ": \"" + key + "\" is not an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

struct Descriptor {
  std::string media_type, digest;
  uint64_t size = 0;
  json annotations, platform;
};

Descriptor parse_descriptor(const json& j, const std::string& what) {
  if (!j.is_object()) throw Error(what + ": descriptor is not an object");
  Descriptor d;
  d.media_type = get_string(j, "mediaType", what, false);
  d.digest = get_string(j, "digest", what, true);
  check_digest(d.digest, what);
  auto s = j.find("size");
  if (s == j.end() || !s->is_number_unsigned())
    throw Error(what + " " + short_digest(d.digest) + ": missing or negative \"size\"");
  d.size = s->get<uint64_t>();
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) d.annotations = *a;
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) d.platform = *p;
  return d;
}

std::string blob_path(const std::string& digest) {
  return "blobs/sha256/" + digest.substr(7);
}

// Reads a small blob, checking its size against the descriptor and its sha256 against its name.
std::string read_blob(const ImageSource& src, const std::string& digest,
                      std::optional<uint64_t> size, const std::string& what) {
  auto f = src.open(blob_path(digest));
  if (!f)
    throw Error(what + " blob " + digest + ": missing from " + src.path() + " (" +
                blob_path(digest) + ")");
  if (size && f->size != *size)
    throw Error(what + " blob " + digest + ": size " + std::to_string(f->size) +
                " does not match the descriptor's " + std::to_string(*size));
  auto data = src.read_small(blob_path(digest), kMaxMetadata);
  std::string got = sha256_digest(*data);
  if (got != digest) throw Error(what + " blob " + digest + ": content digest is " + got);
  return *data;
}

std::string platform_of(const json& p) {
  if (!p.is_object()) return "unknown";
  std::string s = p.value("os", "?") + "/" + p.value("architecture", "?");
  if (p.contains("variant") && p["variant"].is_string()) s += "/" + p["variant"].get<std::string>();
  return s;
}

bool is_index_type(const std::string& mt) {
  return mt == kOciIndex || mt == kDockerList;
}

}  // namespace

std::string normalise_layer_media_type(const std::string& mt) {
  static const char* const kTar = "application/vnd.oci.image.layer.v1.tar";
  if (mt == kTar || mt == "application/vnd.docker.image.rootfs.diff.tar" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar")
    return kTar;
  if (mt == "application/vnd.oci.image.layer.v1.tar+gzip" ||
      mt == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
      mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (mt == "application/vnd.oci.image.layer.v1.tar+zstd" ||
      mt == "application/vnd.docker.image.rootfs.diff.tar.zstd" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  return "";
}

size_t select_platform(const std::string& index_json, const Platform& want,
                       const std::string& what) {
  json idx = parse_json(index_json, what);
  if (!idx.is_object() || !idx.contains("manifests") || !idx["manifests"].is_array())
    throw Error(what + ": no \"manifests\" array");
  const json& ms = idx["manifests"];
  std::string seen;
  std::optional<size_t> any_variant;
  for (size_t i = 0; i < ms.size(); ++i) {
    const json& p = ms[i].is_object() && ms[i].contains("platform") ? ms[i]["platform"] : json();
    if (!p.is_object()) continue;
    seen += (seen.empty() ? "" : ", ") + platform_of(p);
    if (p.value("os", "") != want.os || p.value("architecture", "") != want.architecture) continue;
    std::string v =
        p.contains("variant") && p["variant"].is_string() ? p["variant"].get<std::string>() : "";
    if (!want.variant.empty()) {
      if (v == want.variant) return i;
      continue;
    }
    // No variant asked for: prefer the usual one (arm64 -> v8, none elsewhere), else the first.
    if (v.empty() || (want.architecture == "arm64" && v == "v8")) return i;
    if (!any_variant) any_variant = i;
  }
  if (any_variant) return *any_variant;
  throw Error(what + ": no manifest for platform " + want.str() + " (available: " +
              (seen.empty() ? "none with a platform" : seen) + "); choose one with --platform");
}

ImageConfig parse_image_config(const std::string& text, std::vector<std::string>* diff_ids,
                               Platform* platform, const std::string& what) {
  json j = parse_json(text, what);
  if (!j.is_object()) throw Error(what + ": not a JSON object");
  ImageConfig c;
  if (auto it = j.find("config"); it != j.end() && it->is_object()) {
    const std::string w = what + ": config";
    c.entrypoint = get_strings(*it, "Entrypoint", w);
    c.cmd = get_strings(*it, "Cmd", w);
    c.env = get_strings(*it, "Env", w);
    c.working_dir = get_string(*it, "WorkingDir", w, false);
    c.user = get_string(*it, "User", w, false);
  }
  if (platform) {
    platform->os = get_string(j, "os", what, false);
    platform->architecture = get_string(j, "architecture", what, false);
    platform->variant = get_string(j, "variant", what, false);
  }
  if (diff_ids) {
    auto rf = j.find("rootfs");
    if (rf == j.end() || !rf->is_object()) throw Error(what + ": missing \"rootfs\"");
    *diff_ids = get_strings(*rf, "diff_ids", what + ": rootfs");
    for (auto& d : *diff_ids) check_digest(d, what + ": rootfs.diff_ids");
  }
  return c;
}

namespace {

void finish_from_config(const ImageSource& src, const std::string& config_digest,
                        std::optional<uint64_t> config_size, ResolvedImage& r) {
  std::string cfg = read_blob(src, config_digest, config_size, "config");
  r.manifest.config_digest = config_digest;
  std::vector<std::string> diff_ids;
  r.manifest.config = parse_image_config(cfg, &diff_ids, &r.manifest.platform,
                                         "config " + short_digest(config_digest));
  if (diff_ids.size() != r.manifest.layers.size())
    throw Error("config " + short_digest(config_digest) + ": " + std::to_string(diff_ids.size()) +
                " diff_ids for " + std::to_string(r.manifest.layers.size()) + " layers");
  for (size_t i = 0; i < diff_ids.size(); ++i) r.manifest.layers[i].diff_id = diff_ids[i];
}

ResolvedImage resolve_oci(const ImageSource& src, const ImageRef& ref,
                          const std::optional<Platform>& platform) {
  const std::string what = src.path() + "/index.json";
  auto text = src.read_small("index.json", kMaxMetadata);
  if (!text) throw Error(what + ": missing (not an OCI image layout)");
  json idx = parse_json(*text, what);
  if (!idx.is_object() || !idx.contains("manifests") || !idx["manifests"].is_array())
    throw Error(what + ": no \"manifests\" array");
  std::vector<Descriptor> ds;
  for (auto& m : idx["manifests"]) ds.push_back(parse_descriptor(m, what));

  Descriptor chosen;
  std::string tags;
  for (auto& d : ds)
    if (d.annotations.contains(kRefName) && d.annotations[kRefName].is_string())
      tags += (tags.empty() ? "" : ", ") + d.annotations[kRefName].get<std::string>();
  if (!ref.digest.empty()) {
    bool found = false;
    for (auto& d : ds)
      if (d.digest == ref.digest) chosen = d, found = true;
    // A digest may also name a manifest inside a nested index; it is then read directly.
    if (!found) {
      auto f = src.open(blob_path(ref.digest));
      if (!f) throw Error(what + ": no manifest " + ref.digest);
      chosen.digest = ref.digest;
      chosen.size = f->size;
    }
  } else if (!ref.tag.empty()) {
    bool found = false;
    for (auto& d : ds)
      if (d.annotations.contains(kRefName) && d.annotations[kRefName] == ref.tag)
        chosen = d, found = true;
    if (!found)
      throw Error(what + ": no manifest tagged \"" + ref.tag +
                  "\" (tags: " + (tags.empty() ? "none" : tags) + ")");
  } else if (ds.size() == 1) {
    chosen = ds[0];
  } else if (ds.empty()) {
    throw Error(what + ": no manifests");
  } else {
    bool all_platforms = true;
    for (auto& d : ds) all_platforms &= d.platform.is_object();
    if (!all_platforms)
      throw Error(what + ": " + std::to_string(ds.size()) + " manifests; choose one with " +
                  src.path() + ":TAG or @sha256:DIGEST (tags: " + (tags.empty() ? "none" : tags) +
                  ")");
    chosen = ds[select_platform(*text, platform ? *platform : host_platform(), what)];
  }

  ResolvedImage r;
  r.manifest.source = ref.str();
  r.manifest.format = src.is_archive() ? "oci-archive" : "oci-layout";
  // Follow image indexes down to one manifest (bounded: an index may nest another).
  for (int depth = 0;; ++depth) {
    if (depth > 4) throw Error(what + ": image indexes nested too deeply");
    std::string body = read_blob(src, chosen.digest, chosen.size, "manifest");
    json m = parse_json(body, "manifest " + short_digest(chosen.digest));
    std::string mt = chosen.media_type;
    if (m.is_object() && m.contains("mediaType") && m["mediaType"].is_string())
      mt = m["mediaType"].get<std::string>();
    if (is_index_type(mt) || (mt.empty() && m.is_object() && m.contains("manifests"))) {
      std::string iw = "image index " + short_digest(chosen.digest);
      size_t i = select_platform(body, platform ? *platform : host_platform(), iw);
      chosen = parse_descriptor(m["manifests"][i], iw);
      continue;
    }
    const std::string mw = "manifest " + short_digest(chosen.digest);
    if (!mt.empty() && mt != kOciManifest && mt != kDockerManifest)
      throw Error(mw + ": unsupported media type \"" + mt + "\"");
    if (!m.is_object() || !m.contains("config") || !m.contains("layers") || !m["layers"].is_array())
      throw Error(mw + ": missing \"config\" or \"layers\"");
    r.manifest.manifest_digest = chosen.digest;
    Descriptor cfg = parse_descriptor(m["config"], mw + ": config");
    for (auto& l : m["layers"]) {
      Descriptor d = parse_descriptor(l, mw + ": layer");
      LayerInfo li;
      li.digest = d.digest;
      li.size = d.size;
      li.media_type = normalise_layer_media_type(d.media_type);
      if (li.media_type.empty())
        throw Error("layer blob " + d.digest + ": unsupported media type \"" + d.media_type + "\"");
      r.manifest.layers.push_back(li);
      r.layer_paths.push_back(blob_path(d.digest));
    }
    finish_from_config(src, cfg.digest, cfg.size, r);
    break;
  }
  if (platform) {
    const Platform& p = r.manifest.platform;
    if (p.os != platform->os || p.architecture != platform->architecture ||
        (!platform->variant.empty() && p.variant != platform->variant))
      throw Error("image " + ref.str() + " is " + p.str() + ", not the requested " +
                  platform->str());
  }
  return r;
}

bool tag_matches(const std::string& repo_tag, const std::string& want) {
  if (repo_tag == want) return true;
  auto ends = [&](const std::string& s) {
    return repo_tag.size() > s.size() &&
           repo_tag.compare(repo_tag.size() - s.size(), s.size(), s) == 0 &&
           repo_tag[repo_tag.size() - s.size() - 1] == '/';
  };
  if (ends(want)) return true;
  size_t c = repo_tag.rfind(':');  // "name:tag": a bare tag matches too
  return want.find(':') == std::string::npos && c != std::string::npos &&
         repo_tag.substr(c + 1) == want;
}

ResolvedImage resolve_docker(const ImageSource& src, const ImageRef& ref) {
  const std::string what = src.path() + ": manifest.json";
  auto text = src.read_small("manifest.json", kMaxMetadata);
  json j = parse_json(*text, what);
  if (!j.is_array() || j.empty()) throw Error(what + ": expected a non-empty array");
  const json* pick = nullptr;
  std::string tags;
  for (auto& e : j) {
    if (!e.is_object()) throw Error(what + ": entry is not an object");
    for (auto& t : get_strings(e, "RepoTags", what)) {
      tags += (tags.empty() ? "" : ", ") + t;
      if (!ref.tag.empty() && !pick && tag_matches(t, ref.tag)) pick = &e;
    }
  }
  if (!ref.digest.empty())
    throw Error("image " + ref.str() + ": a docker-archive has no manifest digests; select by tag");
  if (!ref.tag.empty() && !pick)
    throw Error(what + ": no image tagged \"" + ref.tag +
                "\" (tags: " + (tags.empty() ? "none" : tags) + ")");
  if (!pick) {
    if (j.size() != 1)
      throw Error(what + ": " + std::to_string(j.size()) + " images; choose one with " +
                  src.path() + ":TAG (tags: " + (tags.empty() ? "none" : tags) + ")");
    pick = &j[0];
  }
  ResolvedImage r;
  r.manifest.source = ref.str();
  r.manifest.format = "docker-archive";
  std::string cfg_name = get_string(*pick, "Config", what, true);
  auto layers = get_strings(*pick, "Layers", what);
  for (auto& name : layers) {
    auto f = src.open(name);
    if (!f) throw Error(what + ": layer " + name + " is missing from the archive");
    LayerInfo li;
    // The blobs/sha256/<hex> form names layers by digest (verified); the classic <id>/layer.tar
    // form does not, and relies on the diff_ids in the (digest-named) config.
    std::string hex = name.rfind("blobs/sha256/", 0) == 0 ? name.substr(13) : "";
    if (is_sha256_digest("sha256:" + hex)) li.digest = "sha256:" + hex;
    li.size = f->size;
    li.media_type = "application/vnd.docker.image.rootfs.diff.tar";  // compression sniffed
    r.manifest.layers.push_back(li);
    r.layer_paths.push_back(name);
  }
  auto f = src.open(cfg_name);
  if (!f) throw Error(what + ": config " + cfg_name + " is missing from the archive");
  auto cfg = src.read_small(cfg_name, kMaxMetadata);
  std::string digest = sha256_digest(*cfg);
  std::string stem = cfg_name.substr(cfg_name.rfind('/') + 1);
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
    stem.resize(stem.size() - 5);
  if (is_sha256_digest("sha256:" + stem) && "sha256:" + stem != digest)
    throw Error("config blob " + cfg_name + ": content digest is " + digest);
  if (cfg_name.rfind("blobs/sha256/", 0) == 0 && "sha256:" + cfg_name.substr(13) != digest)
    throw Error("config blob " + cfg_name + ": content digest is " + digest);
  // read_blob() would look in blobs/sha256/: verify in place instead.
  r.manifest.config_digest = digest;
  std::vector<std::string> diff_ids;
  r.manifest.config =
      parse_image_config(*cfg, &diff_ids, &r.manifest.platform, "config " + cfg_name);
  if (diff_ids.size() != r.manifest.layers.size())
    throw Error("config " + cfg_name + ": " + std::to_string(diff_ids.size()) + " diff_ids for " +
                std::to_string(r.manifest.layers.size()) + " layers");
  for (size_t i = 0; i < diff_ids.size(); ++i) r.manifest.layers[i].diff_id = diff_ids[i];
  return r;
}

}  // namespace

ResolvedImage resolve_image(const ImageSource& src, const ImageRef& ref,
                            const std::optional<Platform>& platform) {
  if (src.open("index.json")) return resolve_oci(src, ref, platform);
  if (src.open("manifest.json")) {
    ResolvedImage r = resolve_docker(src, ref);
    if (platform && (r.manifest.platform.os != platform->os ||
                     r.manifest.platform.architecture != platform->architecture))
      throw Error("image " + ref.str() + " is " + r.manifest.platform.str() +
                  ", not the requested " + platform->str());
    return r;
  }
  throw Error("image " + src.path() + ": neither index.json (OCI layout) nor manifest.json " +
              "(docker-archive) found");
}

}  // namespace cgprof::image
