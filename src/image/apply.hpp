// Applying one layer (an uncompressed tar read by libarchive) to a rootfs directory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "cgprof/error.hpp"

struct archive;

namespace cgprof::image {

struct ApplyOptions {
  bool rootless = false;  // device nodes are skipped (counted)
  // Owners are set with chown. Off (rootless without an id range): files stay the caller's.
  // Rootless in a user namespace: ids the namespace does not map stay the caller's (counted).
  bool set_owners = true;
  // The most bytes the layer's regular files may hold together, each counted at its apparent
  // size (a sparse file at its full size), checked at each header before any data is written;
  // 0: no limit. Past it, Error(limit_error).
  uint64_t max_file_bytes = 0;
  std::string limit_error = {};
};

// A damaged tar stream (libarchive could not read a header or data). Any other failure while
// applying (a write error, the size limit) is not one: the caller need not read on to explain it.
struct TarError : Error {
  using Error::Error;
};

// Things skipped because we lack the privilege; the caller prints one notice per kind.
struct ApplyNotices {
  uint64_t devices_skipped = 0;
  uint64_t owners_skipped = 0;  // rootless: entries owned by someone other than root
  uint64_t xattrs_skipped = 0;
  std::string first_xattr;
};

// Reads every entry of `a` (already opened, tar format) and applies it below rootfd: whiteouts and
// opaque directories hide only what lower layers put there; directory modes and mtimes are set
// once the layer is complete. Throws Error naming the entry. Regular files are created by up to
// 4 writer threads (write_pool.hpp) that the call starts and joins before it returns or throws:
// they act with the calling thread's credentials and namespaces as of the call.
void apply_layer(struct archive* a, int rootfd, const ApplyOptions& opts, ApplyNotices& notices);

// Convenience for tests and the fuzzer: applies an in-memory uncompressed tar.
void apply_tar_bytes(const void* data, size_t len, int rootfd, const ApplyOptions& opts,
                     ApplyNotices& notices);

// Runs f with the calling thread's LC_CTYPE set to C.UTF-8, so libarchive hands pax (UTF-8)
// names through unchanged whatever the process locale is.
void with_utf8_locale(const std::function<void()>& f);

}  // namespace cgprof::image
