// Image layers stored once and stacked with overlayfs (the store's layout is in store.cpp).
//
// A stored layer is the layer's diff in overlayfs format: deletions are whiteouts (0/0 character
// devices), replaced directories are opaque (user.overlay.opaque). It is made the way containerd's
// overlay snapshotter makes it: the layer's tar is applied by apply_layer() onto an overlay mount
// whose lowers are the layers below and whose upper is the new layer's directory, so the kernel
// writes the whiteouts and copies up what a hardlink to a lower file needs. The mounts here use
// `userxattr` (user.overlay.* xattrs), which works as root, rootless and in a user namespace
// alike; root's layers also get trusted.overlay.opaque, so a run as real root can mount without
// userxattr (see rootfs_setup.cpp). A run in a user namespace mounts with userxattr.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cgprof/image.hpp"

namespace cgprof::image {

struct ApplyNotices;

// The most layers stacked at run time (the overlay mount options must fit in a page); an image
// with more is stored as one flat tree.
inline constexpr size_t kMaxStackedLayers = 128;

// Error exit code (internal, never shown) of apply_layer_stacked when overlayfs cannot be mounted
// here: the store falls back to a flat tree.
inline constexpr int kExitNoOverlay = 3;

// OCI ChainIDs ("sha256:..."): ChainID(L1) = DiffID(L1), ChainID(Ln) = sha256(ChainID(Ln-1) + " "
// + DiffID(Ln)). A layer's diff may depend on the layers below it (a hardlink to a lower file is
// a copy in the diff), so a stored layer is named by its chain, not by its own diff_id.
std::vector<std::string> chain_ids(const std::vector<LayerInfo>& layers);

// Makes the calling process's mount namespace private (a new one, nothing propagates back).
// Only for a throwaway child (run_in_child).
void enter_private_mount_ns();

// Applies layer `index` of the image into `dir`/diff (which exists), stacked on `lowers` (layer
// diff directories, top first; empty for the first layer, applied directly). `dir` is a scratch
// directory on the store's filesystem for the overlay's work and mount directories, removed again
// before returning. Runs in a private mount namespace (enter_private_mount_ns).
void apply_layer_stacked(const Image& image, size_t index, const std::vector<std::string>& lowers,
                         const std::string& dir, const UnpackOptions& opts, ApplyNotices& notices);

// Mounts a small overlay in a scratch directory PREFIX-XXXXXX (on the store's filesystem) and
// replaces a lower directory in it, throwing Error(kExitNoOverlay) when overlayfs cannot stack
// layers there (no overlayfs, an upper it refuses, no user xattrs on the upper): checked
// before any layer is built, so a store where it cannot does no work twice. Runs in a private
// mount namespace.
void probe_overlay(const std::string& prefix);

// Calls f with a read-only fd of the merged view of `layers` (top first): the directory itself
// for one layer, else an overlay of them mounted on `mnt` (an empty directory) for the duration.
// Runs in a private mount namespace.
void with_merged_view(const std::vector<std::string>& layers, const std::string& mnt,
                      const std::function<void(int rootfd)>& f);

// Prints the unpack notices (device nodes, owners, xattrs skipped) once per kind.
void print_apply_notices(const ApplyNotices& notices, const UnpackOptions& opts);

}  // namespace cgprof::image
