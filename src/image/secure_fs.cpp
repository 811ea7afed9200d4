#include "secure_fs.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"

namespace cgprof::image {

std::string clean_entry_path(const std::string& raw, const char* what) {
  if (!raw.empty() && raw[0] == '/')
    throw Error(std::string(what) + " " + raw + ": absolute path in layer (escape attempt)");
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string::npos) j = raw.size();
    size_t len = j - i;
    if (len == 2 && raw.compare(i, 2, "..") == 0)
      throw Error(std::string(what) + " " + raw + ": \"..\" in layer path (escape attempt)");
    if (len > 0 && !(len == 1 && raw[i] == '.')) {
      if (!out.empty()) out += '/';
      out.append(raw, i, len);
    }
    i = j + 1;
  }
  if (out.find('\0') != std::string::npos) throw Error(std::string(what) + ": NUL in path");
  return out;
}

int open_in_root(int rootfd, const std::string& rel, int flags) {
  return openat2_fd(rootfd, rel.empty() ? "." : rel.c_str(), flags, RESOLVE_IN_ROOT);
}

std::string base_name(const std::string& rel) {
  size_t s = rel.rfind('/');
  return s == std::string::npos ? rel : rel.substr(s + 1);
}

std::string dir_name(const std::string& rel) {
  size_t s = rel.rfind('/');
  return s == std::string::npos ? std::string() : rel.substr(0, s);
}

UniqueFd open_parent(int rootfd, const std::string& rel, bool create,
                     std::vector<std::string>* created) {
  std::string parent = dir_name(rel);
  int fd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT || !create) throw_errno("openat2", parent.empty() ? "/" : parent);
  // Some parent is missing: walk down, resolving each prefix from the root again so a symlink
  // among the existing components is still followed inside the root only.
  UniqueFd cur(open_in_root(rootfd, "", O_PATH | O_DIRECTORY));
  if (!cur) throw_errno("openat2", "/");
  size_t i = 0;
  while (i < parent.size()) {
    size_t j = parent.find('/', i);
    if (j == std::string::npos) j = parent.size();
    std::string prefix = parent.substr(0, j);
    std::string comp = parent.substr(i, j - i);
    int nfd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (nfd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
        throw_errno("mkdir", prefix);
      if (created) created->push_back(prefix);
      nfd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
    }
    if (nfd < 0) throw_errno("openat2", prefix);
    cur.reset(nfd);
    i = j + 1;
  }
  return cur;
}

void remove_tree_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw_errno("unlink", name);
  // A directory (EISDIR on Linux; EPERM on some filesystems). O_NOFOLLOW|O_DIRECTORY: a symlink
  // swapped in meanwhile is not followed.
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // Rootless: a read-only directory from the image; make it ours to empty.
    ::fchmodat(dirfd, name.c_str(), 0700, 0);
    fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) throw_errno("open", name);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    throw_errno("opendir", name);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  {
    struct stat st;
    if (::fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700) ::fchmod(fd, 0700);
  }
  try {
    for (auto& n : names) remove_tree_at(fd, n);
  } catch (Error& e) {
    ::closedir(d);
    e.context(name);
    throw;
  }
  ::closedir(d);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw_errno("rmdir", name);
}

}  // namespace cgprof::image
