#include "cgprof/sys.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/units.hpp"

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

int openat2_fd(int dirfd, const char* path, int flags, std::uint64_t resolve) noexcept {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

int make_directories_noalloc(const char* dir, mode_t mode, size_t* failed_len) noexcept {
  const size_t n = std::strlen(dir);
  char buf[PATH_MAX];
  if (n >= sizeof buf) return -ENAMETOOLONG;
  std::memcpy(buf, dir, n + 1);
  for (size_t pos = 0; pos <= n;) {
    size_t slash = pos;
    while (slash < n && buf[slash] != '/') ++slash;
    const char saved = buf[slash];
    buf[slash] = '\0';  // buf is now the prefix up to this component
    const bool skip = slash == 0 || std::strcmp(buf, ".") == 0 || std::strcmp(buf, "..") == 0;
    size_t rest = slash;
    while (rest < n && dir[rest] == '/') ++rest;
    const bool last = rest == n;
    if (!skip && ::mkdir(buf, last ? mode : 0755) != 0 && errno != EEXIST) {
      if (failed_len) *failed_len = slash;
      return -errno;
    }
    buf[slash] = saved;
    if (last) break;
    pos = slash + 1;
  }
  struct stat st;
  if (::stat(dir, &st) != 0) {
    if (failed_len) *failed_len = n;
    return -errno;
  }
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

void make_directories(const std::string& dir, mode_t mode) {
  size_t failed = dir.size();
  const int rc = make_directories_noalloc(dir.c_str(), mode, &failed);
  if (rc == -ENOTDIR)
    throw Error(dir + ": exists and is not a directory (remove it or choose another path)",
                kExitCgprofFailed, ENOTDIR);
  if (rc < 0) throw Error::from_errno("mkdir", dir.substr(0, failed), -rc);
}

void write_file_atomic(const std::string& path, std::string_view text, mode_t mode) {
  static std::atomic<unsigned> counter{0};
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  struct stat old {};
  const bool replacing = ::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode);
  std::string tmp;
  UniqueFd fd;
  for (int attempt = 0; !fd; ++attempt) {
    tmp = dir + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
          std::to_string(counter.fetch_add(1));
    int f = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (f >= 0) fd.reset(f);
    else if (errno != EEXIST || attempt > 100) throw_errno("create", tmp);
  }
  try {
    if (replacing && ::fchmod(fd.get(), old.st_mode & 07777) != 0) throw_errno("chmod", tmp);
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("write", tmp);
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) throw_errno("fsync", tmp);
    if (::close(fd.release()) != 0) throw_errno("write", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("rename to", path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

std::optional<std::vector<unsigned>> try_parse_cpu_ranges(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::vector<unsigned> cpus;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    uint64_t lo, hi;
    p = parse_u64(p, end, &lo);
    if (!p || lo > kMaxCpuId) return std::nullopt;
    hi = lo;
    if (p < end && *p == '-') {
      p = parse_u64(p + 1, end, &hi);
      if (!p || hi < lo || hi > kMaxCpuId) return std::nullopt;
    }
    for (uint64_t c = lo; c <= hi; ++c) cpus.push_back(static_cast<unsigned>(c));
    if (p < end) {
      if (*p != ',' || p + 1 == end) return std::nullopt;
      ++p;
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::vector<unsigned> parse_cpu_ranges(std::string_view text) {
  auto cpus = try_parse_cpu_ranges(text);
  if (!cpus)
    throw Error("CPU list \"" + std::string(text) + "\": expected CPU numbers from 0 to " +
                std::to_string(kMaxCpuId) + " and ranges, like \"0-3,6\"");
  return std::move(*cpus);
}

std::string format_cpu_ranges(const std::vector<unsigned>& unsorted) {
  std::vector<unsigned> cpus = unsorted;
  std::sort(cpus.begin(), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] <= cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (cpus[j] > cpus[i]) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<unsigned> own_cpu_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) throw_errno("sched_getaffinity", "cgprof");
  std::vector<unsigned> cpus;
  for (unsigned c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

int format_overlay_lowerdir(char* buf, size_t size, const int* fds, size_t n) {
  size_t len = 0;
  for (size_t i = 0; i < n; ++i) {
    int w = std::snprintf(buf + len, size - len, "%s/proc/self/fd/%d", i ? ":" : "lowerdir=",
                          fds[i]);
    if (w < 0 || static_cast<size_t>(w) >= size - len) return -1;
    len += static_cast<size_t>(w);
  }
  return static_cast<int>(len);
}

}  // namespace cgprof
