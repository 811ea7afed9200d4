// OCI images read by cgprof itself: references, platform selection, verified streaming of blobs,
// secure layer application and a content-addressed store of unpacked root filesystems.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgprof/sys.hpp"

namespace cgprof::image {

// What the user typed, split into a filesystem path and an optional selector.
//   dir            OCI layout (a lone manifest needs no tag) or an archive file
//   dir:tag        org.opencontainers.image.ref.name annotation (or RepoTags in a docker-archive)
//   dir@sha256:..  manifest digest
// An existing path always wins over a split at ':' so paths containing ':' keep working.
struct ImageRef {
  std::string path;
  std::string tag;     // empty: none given
  std::string digest;  // "sha256:<64 hex>", empty: none given
  std::string str() const;
};
ImageRef parse_image_ref(const std::string& text);

// os/arch[/variant], e.g. linux/arm64/v8. Empty variant matches any variant.
struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;
  std::string str() const;
};
Platform parse_platform(const std::string& text);  // throws Error on a malformed value
Platform host_platform();                          // linux + uname machine in GOARCH spelling

// The parts of the image config that a run honours (docker semantics).
struct ImageConfig {
  std::vector<std::string> entrypoint, cmd, env;
  std::string working_dir, user;
};

struct LayerInfo {
  std::string digest;      // blob digest ("sha256:...")
  std::string media_type;  // normalised to the OCI spelling
  uint64_t size = 0;       // compressed size in bytes, as the manifest says
  std::string diff_id;     // digest of the uncompressed tar, from the config
};

// A resolved image: everything needed to unpack it, read from the layout/archive and verified.
struct ImageManifest {
  std::string source;           // the reference as given
  std::string format;           // "oci-layout", "oci-archive", "docker-archive"
  std::string manifest_digest;  // empty for a classic docker-archive (it has no manifest blob)
  std::string config_digest;    // identifies the unpacked rootfs (it lists the diff_ids)
  Platform platform;
  ImageConfig config;
  std::vector<LayerInfo> layers;
};

class ImageSource;    // private: an open layout or archive
struct ApplyNotices;  // private: what applying layers skipped (apply.hpp)

struct UnpackOptions {
  // Rootless: device nodes are skipped with one notice. With an /etc/subuid range (and
  // newuidmap), unpack_to_directory and ImageStore unpack in a user namespace mapped as the
  // launcher maps a rootless run, so owners are shifted into the range; without one, files belong
  // to the caller (whom the launcher maps to root).
  bool rootless = false;
  // Set by them while unpacking in that user namespace: owners are set, unmapped ones kept ours.
  bool in_userns = false;
  // Show "layer i/n: bytes/total" on stderr; the caller passes isatty(2).
  bool progress = false;
  // The most bytes one layer may expand to: its uncompressed tar, and the sum of its files'
  // apparent sizes (a sparse file counts at its full size). 0: default_layer_limit() of each
  // layer's blob size. Set from --max-layer-size or $CGPROF_MAX_LAYER_SIZE.
  uint64_t max_layer_bytes = 0;
};

// The default limit on a layer's expansion: kLayerLimitFloor + kLayerLimitRatio times its
// compressed size. Real layers expand 2-5 times (text-heavy ones ~10); gzip can reach ~1000 and
// zstd far more, so 100 leaves real images a wide margin while a 4 MiB gzip bomb that claims
// 4 GiB stops at its first header (1.4 GiB allowed).
inline constexpr uint64_t kLayerLimitFloor = uint64_t{1} << 30;
inline constexpr uint64_t kLayerLimitRatio = 100;
uint64_t default_layer_limit(uint64_t blob_size);

// An opened image. Holds the layout/archive open so blobs are read from what was inspected.
class Image {
 public:
  Image(const ImageRef& ref, const std::optional<Platform>& platform);
  ~Image();
  Image(Image&&) noexcept;
  Image& operator=(Image&&) noexcept;

  const ImageManifest& manifest() const { return manifest_; }

  // Applies every layer, in order, to the directory `rootfs_fd`, verifying each blob's digest,
  // size and diff_id while it streams. Throws Error naming the blob/entry on any failure; the
  // caller discards the directory then (it is not usable).
  void unpack_into(int rootfs_fd, const UnpackOptions& opts) const;
  // Applies layer i alone (with the same checks), counting what it skipped into `notices`.
  void apply_layer_at(size_t i, int rootfs_fd, const UnpackOptions& opts,
                      ApplyNotices& notices) const;

 private:
  std::unique_ptr<ImageSource> source_;
  ImageManifest manifest_;
  std::vector<std::string> layer_paths_;
};

// Unpacks into DIR (which must not exist or be empty) through a temporary sibling directory
// (DIR.cgprof-tmp-PID-XXXXXX, flock'ed while in use) renamed into place at the end, so a failure
// leaves DIR as it was. DIR ends up mode 0700 (the image's root mode is not kept): the tree holds
// the image's setuid files and device nodes. Temp dirs that killed unpacks left in DIR's parent
// are removed first (remove_stale_unpack_dirs).
void unpack_to_directory(const Image& image, const std::string& dir, const UnpackOptions& opts);
// Removes the NAME.cgprof-tmp-PID-XXXXXX directories in `parent` (ours) whose owner is gone: no
// process has PID, and their flock is free. A live unpack's, in any pid namespace, is kept.
void remove_stale_unpack_dirs(const std::string& parent);

// A prepared image in the store, read-only by convention. While this object lives the image's
// entry holds a shared lock, so `cgprof image prune` leaves it, and the layers it uses, alone.
struct PreparedImage {
  std::string rootfs;               // the flat tree, or the top layer of a stacked image
  std::vector<std::string> layers;  // stacked image: layer directories, top first (overlayfs
                                    // format, user.overlay.* xattrs); empty: rootfs is flat
  std::string user_db;              // a directory holding the image's etc/passwd and etc/group
  std::string manifest_digest;
  std::string config_digest;
  ImageConfig config;
  bool cache_hit = false;
  UniqueFd lock;  // shared flock on the entry; released on destruction
};

struct CachedImage {
  std::string key;  // config digest hex (+ the rootless owner suffix)
  std::string source, manifest_digest, path;
  uint64_t bytes = 0;         // disk usage (st_blocks) of its flat tree or of all its layers
  uint64_t unique_bytes = 0;  // the part no other image shares (its layers used by it alone)
  size_t layers = 0;          // stored layers it stacks (0: a flat tree)
  int64_t created = 0;
  bool in_use = false;
};

struct PruneResult {
  std::vector<CachedImage> images;  // entries removed
  size_t layers = 0;                // layers removed (no remaining image used them)
  uint64_t bytes = 0;               // disk usage freed
};

class ImageStore {
 public:
  // $CGPROF_CACHE_DIR, else /var/cache/cgprof for root, else $XDG_CACHE_HOME/cgprof, else
  // ~/.cache/cgprof.
  static std::string default_dir();
  explicit ImageStore(std::string dir = default_dir());

  // Returns the image's layers (or flat rootfs), unpacking what is missing once: a layer another
  // image already stored is reused, and a second caller waits on the locks and then finds the
  // work done. A cache hit reads only the manifest and config.
  PreparedImage prepare(const ImageRef& ref, const std::optional<Platform>& platform,
                        const UnpackOptions& opts);

  std::vector<CachedImage> list() const;
  // Removes images not in use (a non-blocking exclusive lock succeeds), then layers no remaining
  // image uses, and stale temp dirs.
  PruneResult prune();

  const std::string& dir() const { return dir_; }

 private:
  void unpack_stacked(const Image& img, const std::string& key,
                      const std::vector<std::string>& layer_keys, const UnpackOptions& opts);
  void unpack_flat(const Image& img, const std::string& key, const UnpackOptions& opts);
  std::string dir_;
};

// Refuses (Error) a store directory that another user could tamper with: it must be ours and not
// writable by others, and every directory above it (as given and as resolved) ours or root's and
// not writable by group or others unless sticky (/tmp is fine). One readable by others is made
// 0700. Called by ImageStore before it uses the directory.
void check_store_dir(const std::string& dir);

// Removes a directory tree below dirfd without following symlinks. Missing is fine.
void remove_tree_at(int dirfd, const std::string& name);
// remove_tree_at(AT_FDCWD, path), in the owner-shifting user namespace when the caller has one
// (files owned by its subordinate ids cannot be removed from outside).
void remove_unpacked_tree(const std::string& path);

}  // namespace cgprof::image
