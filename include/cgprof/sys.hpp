// Owned file descriptors and checked file helpers. Paths are relative to a directory fd
// wherever they may come from untrusted input, so tests can hand in a fixture tree.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// ---- the one owner of each of these concerns in src/ (issue 14) ----

// The one openat2(2) call, for opening what exists (no O_CREAT). `resolve` is RESOLVE_IN_ROOT
// (a path inside an image's or a container's root: links are followed as if dirfd were "/") or
// RESOLVE_BENEATH (a path that must stay below a trusted directory: cgroupfs, an image layout);
// RESOLVE_NO_MAGICLINKS and O_CLOEXEC are always added. Retries EINTR and EAGAIN (a rename or
// mount raced the lookup). Returns the fd, or -1 with errno set (ENOSYS before Linux 5.6).
// Allocates nothing and is async-signal-safe: the container's child calls it after clone.
int openat2_fd(int dirfd, const char* path, int flags, std::uint64_t resolve) noexcept;

// mkdir -p: makes DIR and its missing parents (parents 0755, DIR itself `mode`, both minus the
// umask). An existing directory is fine; an existing non-directory is an Error naming it. Throws
// Error naming the first component that could not be made.
void make_directories(const std::string& dir, mode_t mode = 0755);
// The same without allocating (the container's child calls it after clone): 0, or -errno; on a
// failed mkdir, *failed_len (if given) is the length of the prefix of DIR that could not be
// made; -ENOTDIR when DIR exists and is not a directory; -ENAMETOOLONG past PATH_MAX.
int make_directories_noalloc(const char* dir, mode_t mode, size_t* failed_len = nullptr) noexcept;

// Replaces `path` with `text` so that readers see the old file or the new one, never half of
// either: written to a temporary file next to it (".NAME.tmp-PID-N", O_EXCL), fsync'ed, then
// rename(2)d over it. A replaced file keeps its permission bits; a new one gets `mode` minus the
// umask. On any failure the temporary file is removed and Error names the path. The one place
// in src/ that renames for an atomic write.
void write_file_atomic(const std::string& path, std::string_view text, mode_t mode = 0644);

// overlayfs: "lowerdir=/proc/self/fd/A:/proc/self/fd/B..." (fds top first) into buf, without
// allocating (the container's child formats it after clone; the image store too). Returns its
// length, or -1 when it does not fit.
int format_overlay_lowerdir(char* buf, size_t size, const int* fds, size_t n);

// CPU lists as the kernel writes and reads them (cpuset.cpus, /sys/devices/system/cpu/online):
// "0-3,6" <-> {0,1,2,3,6}. One bounds policy for every list cgprof reads (a profile's
// cpu.cpuset, --cpuset-cpus, a cgroup's cpuset.cpus.effective): CPU numbers 0..kMaxCpuId, the
// largest NR_CPUS the kernel can be built with (8192). Trailing newlines and spaces are ignored
// (file contents); "" is the empty list. The result is sorted, without duplicates.
inline constexpr unsigned kMaxCpuId = 8191;
// nullopt when malformed or out of bounds.
std::optional<std::vector<unsigned>> try_parse_cpu_ranges(std::string_view text);
// The same, throwing Error ("CPU list \"TEXT\": expected ...") instead of nullopt.
std::vector<unsigned> parse_cpu_ranges(std::string_view text);
// {0,1,2,3,6} -> "0-3,6" (the input sorted).
std::string format_cpu_ranges(const std::vector<unsigned>& cpus);
// The CPUs this process may run on (sched_getaffinity), sorted; throws Error if it fails.
std::vector<unsigned> own_cpu_affinity();

}  // namespace cgprof
