#include "cgprof/sys.hpp"

#include <cerrno>

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
