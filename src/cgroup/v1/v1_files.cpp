#include "src/cgroup/v1/v1_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::v1_detail {

std::optional<std::string> try_read(int dirfd, const char* name) {
  if (dirfd < 0) return std::nullopt;
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  UniqueFd owned(fd);
  try {
    return pread_all(fd);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<uint64_t> try_value(int dirfd, const char* name) {
  auto text = try_read(dirfd, name);
  uint64_t v = 0;
  if (!text || !parse_single_value(text->data(), text->size(), &v)) return std::nullopt;
  return v;
}

bool has_file(int dirfd, const char* name) {
  struct stat st;
  return dirfd >= 0 && ::fstatat(dirfd, name, &st, 0) == 0;
}

}  // namespace cgprof::v1_detail
