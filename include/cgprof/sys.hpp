// Owned file descriptors and checked file helpers. Paths are relative to a directory fd
// wherever they may come from untrusted input, so tests can hand in a fixture tree.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace cgprof {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// openat(dirfd, path, flags|O_CLOEXEC, mode); throws Error naming the path on failure.
UniqueFd open_at(int dirfd, const std::string& path, int flags, mode_t mode = 0);

// Whole-file read; throws Error naming the path. dirfd may be AT_FDCWD.
std::string read_file_at(int dirfd, const std::string& path);
inline std::string read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }
// The same, "" when the file is missing or unreadable (optional host files: /etc/subuid, ...).
std::string read_file_or_empty(const std::string& path);

// Size caps for files a user or an image names (docs/SECURITY.md, "Bounded inputs").
inline constexpr std::size_t kMaxConfigFileBytes = 4u << 20;    // profiles, env, seccomp, experiments
inline constexpr std::size_t kMaxImageJsonBytes = 4u << 20;     // index.json, manifests, configs
inline constexpr std::size_t kMaxUserDbFileBytes = 16u << 20;   // an image's etc/passwd, etc/group
inline constexpr std::size_t kMaxResultJsonBytes = 64u << 20;   // run.json and friends

// Reads a file that a user or an image names: opened without blocking (O_NONBLOCK, so a FIFO
// cannot hang us) and without following a final symlink when nofollow is set; refused unless it
// is a regular file, and refused when larger than max_bytes. Errors name the path and the fix.
// dirfd may be AT_FDCWD.
std::string read_regular_file_at(int dirfd, const std::string& path, std::size_t max_bytes,
                                 bool nofollow = false);
// Opens a file a user or an image names for reading, with the same checks (non-blocking open,
// regular file only, optionally no final symlink) but no size cap: for streamed files
// (samples.bin). Throws Error naming the path and the fix.
UniqueFd open_regular_file_at(int dirfd, const std::string& path, bool nofollow = false);
// The same checks and cap on a file the caller opened itself (O_NONBLOCK, e.g. with openat2
// RESOLVE_IN_ROOT inside an image's rootfs); `path` names it in errors.
std::string read_regular_fd(UniqueFd fd, const std::string& path, std::size_t max_bytes);
inline std::string read_regular_file(const std::string& path, std::size_t max_bytes) {
  return read_regular_file_at(AT_FDCWD, path, max_bytes);
}

// Writes all of data to an existing file (O_WRONLY, no O_CREAT/O_TRUNC: suits cgroupfs/procfs).
void write_file_at(int dirfd, const std::string& path, std::string_view data);

// Reads everything from an open fd at offset 0 with pread.
std::string pread_all(int fd);

}  // namespace cgprof
