// openat2-based access to cgroup files, and the small text formats shared by the module.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"
#include "cgprof/units.hpp"

namespace cgprof {

UniqueFd open_beneath(int dirfd, const std::string& path, int flags) {
  int fd = openat2_fd(dirfd, path.c_str(), flags, RESOLVE_BENEATH);
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: cgroupfs has no symlinks, so O_NOFOLLOW on the last part is enough.
    fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) throw_errno("open", path);
  return UniqueFd(fd);
}

std::string read_cgroup_file(int dirfd, const std::string& path) {
  UniqueFd fd = open_beneath(dirfd, path, O_RDONLY);
  try {
    return pread_all(fd.get());
  } catch (Error& e) {
    throw Error::from_errno("read", path, e.sys_errno());
  }
}

void write_cgroup_file(int dirfd, const std::string& path, std::string_view value) {
  UniqueFd fd = open_beneath(dirfd, path, O_WRONLY);
  // cgroupfs takes one value per write(); a short write never happens for these small values.
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    throw Error::from_errno("write \"" + std::string(value) + "\" to", path, err);
  }
}

void move_into_cgroup(int cgroup_dirfd, pid_t pid) {
  write_cgroup_file(cgroup_dirfd, "cgroup.procs", std::to_string(pid));
}

bool file_exists_at(int dirfd, const char* name) {
  struct stat st;
  return ::fstatat(dirfd, name, &st, 0) == 0;
}

std::optional<std::string> try_read_cgroup_file(int dirfd, const char* name) {
  if (dirfd < 0 && dirfd != AT_FDCWD) return std::nullopt;
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  UniqueFd owned(fd);
  try {
    return pread_all(fd);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<uint64_t> try_read_cgroup_value(int dirfd, const char* name) {
  auto text = try_read_cgroup_file(dirfd, name);
  uint64_t v = 0;
  if (!text || !parse_single_value(text->data(), text->size(), &v)) return std::nullopt;
  return v;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n' && text[j] != '\t') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace cgprof
