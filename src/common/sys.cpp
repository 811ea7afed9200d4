#include "cgprof/sys.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "cgprof/error.hpp"

namespace cgprof {

UniqueFd open_at(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("open", path);
  return UniqueFd(fd);
}

std::string pread_all(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", "fd " + std::to_string(fd));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

std::string read_file_at(int dirfd, const std::string& path) {
  UniqueFd fd = open_at(dirfd, path, O_RDONLY);
  try {
    return pread_all(fd.get());
  } catch (Error& e) {
    throw Error::from_errno("read", path, e.sys_errno());
  }
}

namespace {

const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a regular file";
}

std::string size_text(std::size_t n) {
  if (n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

// fstat of fd; throws unless it is a regular file.
struct stat stat_regular(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_errno("stat", path);
  if (!S_ISREG(st.st_mode))
    throw Error(path + ": is " + file_kind(st.st_mode) + ", not a regular file (give a regular file)",
                kExitCgprofFailed, EINVAL);
  return st;
}

}  // namespace

UniqueFd open_regular_file_at(int dirfd, const std::string& path, bool nofollow) {
  int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
  int fd = ::openat(dirfd, path.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP && nofollow)
      throw Error(path + ": is a symbolic link (give a regular file)", kExitCgprofFailed, err);
    throw Error::from_errno("open", path, err);
  }
  UniqueFd owned(fd);
  stat_regular(fd, path);
  return owned;
}

std::string read_regular_file_at(int dirfd, const std::string& path, std::size_t max_bytes,
                                 bool nofollow) {
  return read_regular_fd(open_regular_file_at(dirfd, path, nofollow), path, max_bytes);
}

std::string read_regular_fd(UniqueFd owned, const std::string& path, std::size_t max_bytes) {
  const int fd = owned.get();
  const struct stat st = stat_regular(fd, path);
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw Error(path + ": " + std::to_string(st.st_size) + " bytes, over the " +
                    size_text(max_bytes) + " limit for this kind of file",
                kExitCgprofFailed, EFBIG);
  std::string out;
  out.resize(max_bytes < static_cast<std::size_t>(st.st_size) + 1 ? max_bytes + 1
                                                                    : static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes) break;
      out.resize(std::min(max_bytes + 1, out.size() * 2));
    }
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", path);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes)  // grew while we read it
    throw Error(path + ": over the " + size_text(max_bytes) + " limit for this kind of file",
                kExitCgprofFailed, EFBIG);
  out.resize(got);
  return out;
}

std::string read_file_or_empty(const std::string& path) {
  try {
    return read_file(path);
  } catch (const Error&) {
    return {};
  }
}

void write_file_at(int dirfd, const std::string& path, std::string_view data) {
  UniqueFd fd = open_at(dirfd, path, O_WRONLY);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      throw Error::from_errno("write \"" + std::string(data) + "\" to", path, err);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace cgprof
