// Path handling for untrusted layer entries: every path is resolved inside the rootfs with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the rootfs dirfd, and the last component
// is then operated on with *at() calls that do not follow it. A symlink in the image is followed
// only as the kernel would follow it with the rootfs as "/", so nothing outside can be reached.
#pragma once

#include <string>
#include <vector>

#include "cgprof/sys.hpp"

namespace cgprof::image {

// Cleans an entry name: drops "./" prefixes, "." components, repeated and trailing '/'.
// Throws Error for absolute paths and for any ".." component (a layer never needs one, and an
// entry with one is an escape attempt). "" means the rootfs itself.
std::string clean_entry_path(const std::string& raw, const char* what = "entry");

// openat2 inside the root; returns -1 with errno set instead of throwing.
int open_in_root(int rootfd, const std::string& rel, int flags);

// The directory containing rel (a cleaned path), opened O_PATH. With `create`, missing parents are
// made (0755, owned by the caller) and their paths appended to *created.
UniqueFd open_parent(int rootfd, const std::string& rel, bool create,
                     std::vector<std::string>* created);

std::string base_name(const std::string& rel);
std::string dir_name(const std::string& rel);

}  // namespace cgprof::image
