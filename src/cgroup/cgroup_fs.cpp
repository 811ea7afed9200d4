// openat2-based access to cgroup files, and the small text formats shared by the module.
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof/stat_parsers.hpp"
#include "cgprof/units.hpp"

namespace cgprof {

UniqueFd open_beneath(int dirfd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: cgroupfs has no symlinks, so O_NOFOLLOW on the last part is enough.
    fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) throw_errno("open", path);
  return UniqueFd(static_cast<int>(fd));
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

std::vector<unsigned> parse_cpu_ranges(std::string_view text) {
  std::vector<unsigned> cpus;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const char* p = text.data();
  const char* end = p + text.size();
  auto bad = [&] {
    return Error("CPU list \"" + std::string(text) +
                 "\": expected numbers and ranges like \"0-3,6\"");
  };
  while (p < end) {
    uint64_t lo, hi;
    p = parse_u64(p, end, &lo);
    if (!p || lo > 4095) throw bad();
    hi = lo;
    if (p < end && *p == '-') {
      p = parse_u64(p + 1, end, &hi);
      if (!p || hi < lo || hi > 4095) throw bad();
    }
    for (uint64_t c = lo; c <= hi; ++c) cpus.push_back(static_cast<unsigned>(c));
    if (p < end) {
      if (*p != ',' || p + 1 == end) throw bad();
      ++p;
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_ranges(const std::vector<unsigned>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace cgprof
