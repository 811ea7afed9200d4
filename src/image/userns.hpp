// Rootless unpacking with owners: the work runs in a child process inside a user namespace mapped
// the way the launcher maps a rootless run (cgprof/idmap.hpp: the caller -> 0, the caller's
// /etc/subuid range -> 1..N), so an entry owned by uid U in the image is owned by the range's
// U-th id on disk and appears as U again inside the container.
#pragma once

#include <functional>
#include <optional>

#include "cgprof/image.hpp"
#include "cgprof/idmap.hpp"

namespace cgprof::image {

// The launcher's maps for the calling user when they shift owners: not root, an /etc/subuid and
// /etc/subgid range and newuidmap/newgidmap installed. nullopt otherwise (files stay the caller's).
std::optional<IdMapPlan> owner_shift_plan();

// Runs f in a forked child that is root in a new user namespace with `plan`'s maps. An Error thrown
// by f is rethrown here with the same message and exit code; the child's stderr is ours.
void run_in_userns(const IdMapPlan& plan, const std::function<void()>& f);
// The same with a null plan: a forked child without a user namespace (e.g. root, to unshare a
// mount namespace without touching the caller's).
void run_in_child(const IdMapPlan* plan, const std::function<void()>& f);

// image.unpack_into(rootfs_fd), in that user namespace when opts.rootless and the caller has one.
void unpack_with_owners(const Image& image, int rootfs_fd, const UnpackOptions& opts);

// What the owners of a rootless unpack depend on, for the store key: "" (root), "-rootless" (all
// the caller's) or "-rootless-UIDSTART-GIDSTART" (shifted into those ranges).
std::string owner_key_suffix(const UnpackOptions& opts);

}  // namespace cgprof::image
