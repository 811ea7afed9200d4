#include "apply.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <locale.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "secure_fs.hpp"

namespace cgprof::image {

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaque = ".wh..wh..opq";

class Applier {
 public:
  Applier(int rootfd, const ApplyOptions& opts, ApplyNotices& n)
      : root_(rootfd), opts_(opts), n_(n) {}

  void entry(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) throw Error("entry with an unreadable name");
    std::string path = clean_entry_path(raw);
    with_context("entry " + (path.empty() ? std::string("/") : path), [&] { apply(a, e, path); });
  }

  // Directory modes and mtimes last, deepest first: writing the children would change the mtime,
  // and a read-only mode would stop an unprivileged writer.
  void finish() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      const std::string& p = it->path;
      with_context("entry " + (p.empty() ? std::string("/") : p), [&] {
        UniqueFd parent;
        std::string name = ".";
        int dfd = root_;
        if (!p.empty()) {
          parent = open_parent(root_, p, false, nullptr);
          dfd = parent.get();
          name = base_name(p);
        }
        struct stat st;
        if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
          return;  // replaced later in the layer
        if (::fchmodat(dfd, name.c_str(), it->mode, 0) != 0) throw_errno("chmod");
        if (::utimensat(dfd, name.c_str(), it->times, AT_SYMLINK_NOFOLLOW) != 0)
          throw_errno("utimensat");
      });
    }
  }

 private:
  struct DirMeta {
    std::string path;
    mode_t mode;
    struct timespec times[2];
  };

  int parent_fd(const std::string& path) {
    std::string dir = dir_name(path);
    if (cached_ && dir == cached_dir_) return cached_.get();
    std::vector<std::string> made;
    cached_ = open_parent(root_, path, true, &made);
    cached_dir_ = dir;
    for (auto& m : made) created_.insert(std::move(m));
    return cached_.get();
  }

  void remove_existing(int dfd, const std::string& name) {
    remove_tree_at(dfd, name);
    // The cached parent may have been inside what was removed (dfd may be it: reset after).
    cached_.reset();
  }

  static void times_of(struct archive_entry* e, struct timespec t[2]) {
    t[1].tv_sec = archive_entry_mtime(e);
    t[1].tv_nsec = archive_entry_mtime_nsec(e);
    if (archive_entry_atime_is_set(e)) {
      t[0].tv_sec = archive_entry_atime(e);
      t[0].tv_nsec = archive_entry_atime_nsec(e);
    } else {
      t[0] = t[1];
    }
  }

  void chown_at(int dfd, const char* name, struct archive_entry* e, int flags) {
    uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
    gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
    if (!opts_.set_owners) {
      // We cannot own files as other ids; they stay ours, which the launcher maps to root.
      if (uid != 0 || gid != 0) ++n_.owners_skipped;
      return;
    }
    if (::fchownat(dfd, name, uid, gid, flags) == 0) return;
    // EINVAL: an id the user namespace does not map; the entry stays ours (root inside).
    if (errno != EINVAL || !opts_.rootless) throw_errno("chown");
    ++n_.owners_skipped;
  }

  void set_xattrs(int fd, struct archive_entry* e) {
    if (archive_entry_xattr_reset(e) == 0) return;
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      // overlayfs metadata (opaque, redirect, metacopy): the store stacks layers with overlayfs,
      // which would act on it; an image must not steer it. Dropped silently, as containerd does.
      if (std::strncmp(name, "trusted.overlay.", 16) == 0 ||
          std::strncmp(name, "user.overlay.", 13) == 0)
        continue;
      if (::fsetxattr(fd, name, value, size, 0) == 0) continue;
      if (errno == EPERM || errno == ENOTSUP || errno == EACCES) {
        if (n_.xattrs_skipped++ == 0) n_.first_xattr = name;
        continue;
      }
      throw_errno("setxattr", name);
    }
  }

  void whiteout(const std::string& dir, const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      throw Error("invalid whiteout name \"" + name + "\"");
    std::string target = dir.empty() ? name : dir + "/" + name;
    if (created_.count(target)) return;  // same layer: a whiteout hides only lower layers
    int fd = open_in_root(root_, dir, O_PATH | O_DIRECTORY);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return;  // nothing below to hide
      throw_errno("openat2", dir);
    }
    UniqueFd dfd(fd);
    remove_existing(dfd.get(), name);
  }

  // Removes what lower layers put below dir, keeping what this layer created.
  void opaque(int dfd, const std::string& dir) {
    int fd = ::openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("open", dir);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      throw_errno("opendir", dir);
    }
    std::vector<std::pair<std::string, bool>> children;
    while (struct dirent* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n == "." || n == "..") continue;
      children.emplace_back(std::move(n), de->d_type == DT_DIR);
    }
    ::closedir(d);
    for (auto& [n, is_dir] : children) {
      std::string child = dir.empty() ? n : dir + "/" + n;
      if (!created_.count(child)) {
        remove_existing(dfd, n);
        continue;
      }
      struct stat st;
      if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        UniqueFd cfd(::openat(dfd, n.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!cfd) throw_errno("open", child);
        opaque(cfd.get(), child);
      }
    }
  }

  void write_data(struct archive* a, int fd, int64_t size) {
    const void* buf;
    size_t len;
    la_int64_t off;
    int64_t pos = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        throw Error(std::string("tar: ") + archive_error_string(a));
      const char* p = static_cast<const char*>(buf);
      while (len) {
        ssize_t n = off == pos ? ::write(fd, p, len) : ::pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("write");
        p += n;
        len -= static_cast<size_t>(n);
        off += n;
        if (off > pos) pos = off;
      }
      if (::lseek(fd, pos, SEEK_SET) < 0) throw_errno("lseek");
    }
    if (pos < size && ::ftruncate(fd, size) != 0) throw_errno("truncate");  // trailing hole
  }

  void apply(struct archive* a, struct archive_entry* e, const std::string& path) {
    const std::string base = base_name(path);
    if (base.rfind(kWhiteoutPrefix, 0) == 0) {
      std::string dir = dir_name(path);
      if (base == kOpaque) {
        int fd = open_in_root(root_, dir, O_PATH | O_DIRECTORY | (dir.empty() ? 0 : O_NOFOLLOW));
        if (fd < 0) {
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return;
          throw_errno("openat2", dir);
        }
        UniqueFd dfd(fd);
        opaque(dfd.get(), dir);
      } else {
        whiteout(dir, base.substr(4));
      }
      return;
    }
    struct timespec times[2];
    times_of(e, times);
    const mode_t perm = archive_entry_perm(e) & 07777;
    if (path.empty()) {  // the root directory itself
      chown_at(root_, "", e, AT_EMPTY_PATH);
      dirs_.push_back({path, perm, {times[0], times[1]}});
      return;
    }
    const char* hardlink = archive_entry_hardlink(e);
    const mode_t type = archive_entry_filetype(e);
    int dfd = parent_fd(path);
    const char* name = base.c_str();

    if (hardlink) {
      std::string target = clean_entry_path(hardlink, "hardlink target");
      if (target == path) return;
      if (target.empty()) throw Error("hardlink to the root directory");
      UniqueFd tdir;
      try {
        tdir = open_parent(root_, target, false, nullptr);
      } catch (Error& err) {
        err.context("hardlink target " + target);
        throw;
      }
      std::string tbase = base_name(target);
      struct stat st;
      if (::fstatat(tdir.get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error::from_errno("hardlink target", target, errno);
      if (S_ISDIR(st.st_mode)) throw Error("hardlink target " + target + " is a directory");
      if (::linkat(tdir.get(), tbase.c_str(), dfd, name, 0) != 0) {
        if (errno != EEXIST) throw_errno("link", target);
        remove_existing(dfd, name);
        dfd = parent_fd(path);
        if (::linkat(tdir.get(), tbase.c_str(), dfd, name, 0) != 0) throw_errno("link", target);
      }
      created_.insert(path);
      return;
    }

    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(dfd, name, 0700) != 0) {
          if (errno != EEXIST) throw_errno("mkdir");
          struct stat st;
          if (::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("stat");
          if (!S_ISDIR(st.st_mode)) {
            remove_existing(dfd, name);
            dfd = parent_fd(path);
            if (::mkdirat(dfd, name, 0700) != 0) throw_errno("mkdir");
          }
        }
        chown_at(dfd, name, e, AT_SYMLINK_NOFOLLOW);
        if (archive_entry_xattr_count(e) > 0) {
          UniqueFd fd(::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!fd) throw_errno("open");
          set_xattrs(fd.get(), e);
        }
        dirs_.push_back({path, perm, {times[0], times[1]}});
        break;
      }
      case AE_IFREG: {
        int fd = ::openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
          // Replace, never write through: a lower hardlink or symlink must stay as it was.
          remove_existing(dfd, name);
          dfd = parent_fd(path);
          fd = ::openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0) throw_errno("create");
        UniqueFd f(fd);
        write_data(a, fd, archive_entry_size(e));
        chown_at(fd, "", e, AT_EMPTY_PATH);
        // After chown: chown clears setuid bits and security.capability.
        if (::fchmod(fd, perm) != 0) throw_errno("chmod");
        set_xattrs(fd, e);
        if (::futimens(fd, times) != 0) throw_errno("utimens");
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) throw Error("symlink without a target");
        if (::symlinkat(target, dfd, name) != 0) {
          if (errno != EEXIST) throw_errno("symlink");
          remove_existing(dfd, name);
          dfd = parent_fd(path);
          if (::symlinkat(target, dfd, name) != 0) throw_errno("symlink");
        }
        chown_at(dfd, name, e, AT_SYMLINK_NOFOLLOW);
        if (::utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("utimensat");
        break;
      }
      case AE_IFIFO:
      case AE_IFCHR:
      case AE_IFBLK: {
        if (type != AE_IFIFO && opts_.rootless) {
          ++n_.devices_skipped;
          return;
        }
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        mode_t m = (type == AE_IFIFO ? S_IFIFO : type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600;
        if (::mknodat(dfd, name, m, dev) != 0) {
          if (errno != EEXIST) throw_errno("mknod");
          remove_existing(dfd, name);
          dfd = parent_fd(path);
          if (::mknodat(dfd, name, m, dev) != 0) throw_errno("mknod");
        }
        chown_at(dfd, name, e, AT_SYMLINK_NOFOLLOW);
        if (::fchmodat(dfd, name, perm, 0) != 0) throw_errno("chmod");
        if (::utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("utimensat");
        break;
      }
      default:
        return;  // sockets and unknown types carry nothing a rootfs needs
    }
    created_.insert(path);
  }

  int root_;
  ApplyOptions opts_;
  ApplyNotices& n_;
  std::unordered_set<std::string> created_;
  std::vector<DirMeta> dirs_;
  UniqueFd cached_;
  std::string cached_dir_;
};

}  // namespace

void apply_layer(struct archive* a, int rootfd, const ApplyOptions& opts, ApplyNotices& notices) {
  Applier ap(rootfd, opts, notices);
  struct archive_entry* e;
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      const char* msg = archive_error_string(a);
      throw Error(std::string("tar: ") + (msg ? msg : "unreadable header"));
    }
    ap.entry(a, e);
  }
  ap.finish();
}

void with_utf8_locale(const std::function<void()>& f) {
  locale_t loc = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  locale_t old = loc ? ::uselocale(loc) : static_cast<locale_t>(0);
  try {
    f();
  } catch (...) {
    if (loc) {
      ::uselocale(old);
      ::freelocale(loc);
    }
    throw;
  }
  if (loc) {
    ::uselocale(old);
    ::freelocale(loc);
  }
}

void apply_tar_bytes(const void* data, size_t len, int rootfd, const ApplyOptions& opts,
                     ApplyNotices& notices) {
  with_utf8_locale([&] {
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
      std::string m = archive_error_string(a) ? archive_error_string(a) : "open failed";
      archive_read_free(a);
      throw Error("tar: " + m);
    }
    try {
      apply_layer(a, rootfd, opts, notices);
    } catch (...) {
      archive_read_free(a);
      throw;
    }
    archive_read_free(a);
  });
}

}  // namespace cgprof::image
