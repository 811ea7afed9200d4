#include "apply.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <locale.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "entry_content.hpp"
#include "secure_fs.hpp"
#include "write_pool.hpp"

namespace cgprof::image {

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaque = ".wh..wh..opq";
// Regular files up to this size are read into memory and created by the writer threads; bigger
// ones are written by the reader as they stream, so the pool never holds more than its limit.
constexpr int64_t kMaxQueuedFile = int64_t{16} << 20;

std::string entry_clause(const std::string& path) {
  return "entry " + (path.empty() ? std::string("/") : path);
}

// A directory the reader resolved, shared with the jobs creating files in it. `id` (device and
// inode) names the directory whatever path reached it: two paths through a symlink are one place.
struct ParentDir {
  UniqueFd fd;
  std::string id;

  explicit ParentDir(UniqueFd f) : fd(std::move(f)), id(id_of(fd.get())) {}
  static std::string id_of(int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw_errno("stat");
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + "/";
  }
  // The pool key of the entry `name` in this directory.
  std::string key(const std::string& name) const { return id + name; }
};

// A regular file handed to a writer thread.
struct FileJob {
  std::string path;
  std::shared_ptr<const ParentDir> dir;
  std::string name;
  int64_t size;
  EntryMeta meta;
  FileContent content;
};

// A writer thread's failure, already naming its entry: the reader rethrows it from whatever entry
// it is at, without adding that entry's name.
struct WriterError : Error {
  explicit WriterError(const Error& e) : Error(e) {}
};

// with_context() for the reader: an Error gains `clause`, a WriterError passes as it is.
template <class F>
decltype(auto) in_context(const std::string& clause, F&& f) {
  try {
    return f();
  } catch (WriterError&) {
    throw;
  } catch (Error& e) {
    e.context(clause);
    throw;
  }
}

// Applies the entries in tar order from the calling thread (the reader), except the content of
// regular files: those are created, written and finished by the writer pool, in parallel. The
// reader keeps the result identical to applying every entry in order:
// - it creates a file's parent directories before queuing the file;
// - a later entry at the same place (parent directory + name) first waits for the queued file
//   there, and so does a hardlink to it;
// - removals (whiteouts, opaque directories, replacements) first wait for all queued files;
// - a path that fails to resolve is resolved again after all queued files are written (it may
//   run through one that is not created yet).
// The writers only ever create a new name in a directory the reader resolved (O_EXCL|O_NOFOLLOW),
// so what they can reach is what the reader can reach.
class Applier {
 public:
  Applier(int rootfd, const ApplyOptions& opts, ApplyNotices& n)
      : root_(rootfd), opts_(opts), n_(n) {}

  void entry(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) throw Error("entry with an unreadable name");
    std::string path = clean_entry_path(raw);
    pool_.check();  // a writer failed (ENOSPC, EIO, ...): stop here, read no further
    in_context(entry_clause(path), [&] { apply(a, e, path); });
  }

  // Directory modes and mtimes last, deepest first: writing the children would change the mtime,
  // and a read-only mode would stop an unprivileged writer.
  void finish() {
    pool_.drain();
    std::stable_sort(dirs_.begin(), dirs_.end(), [](const DirMeta& a, const DirMeta& b) {
      return std::count(a.path.begin(), a.path.end(), '/') + !a.path.empty() >
             std::count(b.path.begin(), b.path.end(), '/') + !b.path.empty();
    });
    for (auto it = dirs_.begin(); it != dirs_.end(); ++it) {
      const std::string& p = it->path;
      in_context(entry_clause(p), [&] {
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

  // A directory's mode and times, set by finish(). A directory named again later in the layer
  // takes the later entry's (the last entry wins, as tar, umoci and containerd do).
  void record_dir(const std::string& path, const EntryMeta& meta) {
    DirMeta d{path, meta.perm, {meta.times[0], meta.times[1]}};
    auto [it, added] = dir_index_.try_emplace(path, dirs_.size());
    if (added)
      dirs_.push_back(std::move(d));
    else
      dirs_[it->second] = std::move(d);
  }

  // The directory containing path, in entry order (see the class comment): a path that does not
  // resolve now may run through a file still queued, so it is resolved again, and missing
  // parents created, once the queue is empty.
  UniqueFd open_parent_in_order(const std::string& path, bool create) {
    int fd = open_in_root(root_, dir_name(path), O_PATH | O_DIRECTORY);
    if (fd >= 0) return UniqueFd(fd);
    pool_.drain();
    std::vector<std::string> made;
    UniqueFd dir = open_parent(root_, path, create, &made);
    for (auto& m : made) created_.insert(std::move(m));
    return dir;
  }

  std::shared_ptr<const ParentDir> parent_of(const std::string& path) {
    std::string dir = dir_name(path);
    if (cached_ && dir == cached_dir_) return cached_;
    cached_ = std::make_shared<const ParentDir>(open_parent_in_order(path, true));
    cached_dir_ = dir;
    return cached_;
  }

  void remove_existing(int dfd, const std::string& name) {
    pool_.drain();  // the files queued below name are written before it goes
    remove_tree_at(dfd, name);
    // The cached parent may have been inside what was removed.
    cached_.reset();
  }

  void chown_at(int dfd, const char* name, const EntryMeta& m, int flags) {
    if (!opts_.set_owners) {
      // We cannot own files as other ids; they stay ours, which the launcher maps to root.
      if (m.uid != 0 || m.gid != 0) note([&] { ++n_.owners_skipped; });
      return;
    }
    if (::fchownat(dfd, name, m.uid, m.gid, flags) == 0) return;
    // EINVAL: an id the user namespace does not map; the entry stays ours (root inside).
    if (errno != EINVAL || !opts_.rootless) throw_errno("chown");
    note([&] { ++n_.owners_skipped; });
  }

  void set_xattrs(int fd, const EntryMeta& m) {
    for (const auto& x : m.xattrs) {
      const std::string& name = x.first;
      // overlayfs metadata (opaque, redirect, metacopy): the store stacks layers with overlayfs,
      // which would act on it; an image must not steer it. Dropped silently, as containerd does.
      if (name.rfind("trusted.overlay.", 0) == 0 || name.rfind("user.overlay.", 0) == 0) continue;
      if (::fsetxattr(fd, name.c_str(), x.second.data(), x.second.size(), 0) == 0) continue;
      if (errno == EPERM || errno == ENOTSUP || errno == EACCES) {
        note([&] {
          if (n_.xattrs_skipped++ == 0) n_.first_xattr = name;
        });
        continue;
      }
      throw_errno("setxattr", name);
    }
  }

  // The layer's size limit, at each regular file's header (libarchive gives a sparse file's
  // apparent size), so a bomb fails before a byte of it is written.
  void count_file_bytes(int64_t size) {
    file_bytes_ += static_cast<uint64_t>(std::max<int64_t>(size, 0));
    if (opts_.max_file_bytes && file_bytes_ > opts_.max_file_bytes) throw Error(opts_.limit_error);
  }

  // Counts a notice; the writer threads count too.
  template <class F>
  void note(F&& f) {
    std::lock_guard<std::mutex> lock(notices_mu_);
    f();
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

  static UniqueFd create_file(int dfd, const std::string& name) {
    UniqueFd fd(
        ::openat(dfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw_errno("create");
    return fd;
  }

  // Size, owner, mode, xattrs and times of a regular file whose data (up to `end`) is written.
  void finish_file(int fd, int64_t end, int64_t size, const EntryMeta& m) {
    if (end < size && ::ftruncate(fd, size) != 0) throw_errno("truncate");  // trailing hole
    chown_at(fd, "", m, AT_EMPTY_PATH);
    // After chown: chown clears setuid bits and security.capability.
    if (::fchmod(fd, m.perm) != 0) throw_errno("chmod");
    set_xattrs(fd, m);
    if (::futimens(fd, m.times) != 0) throw_errno("utimens");
  }

  // On a writer thread.
  void write_job(const FileJob& job) {
    UniqueFd fd = create_file(job.dir->fd.get(), job.name);
    finish_file(fd.get(), job.content.write(fd.get()), job.size, job.meta);
  }

  void regular_file(struct archive* a, struct archive_entry* e, const std::string& path,
                    std::shared_ptr<const ParentDir> dir, EntryMeta meta) {
    const std::string name = base_name(path);
    struct stat st;
    // Replace, never write through: a lower hardlink or symlink must stay as it was.
    if (::fstatat(dir->fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      remove_existing(dir->fd.get(), name);
    else if (errno != ENOENT)
      throw_errno("stat");
    const int64_t size = archive_entry_size(e);
    count_file_bytes(size);
    if (size > kMaxQueuedFile) {
      UniqueFd fd = create_file(dir->fd.get(), name);
      int64_t end = 0;
      for_each_block(a, [&](const char* p, size_t len, int64_t off) {
        pwrite_all(fd.get(), p, len, off);
        end = std::max(end, off + int64_t(len));
      });
      finish_file(fd.get(), end, size, meta);
      return;
    }
    auto job = std::make_shared<FileJob>(FileJob{path, dir, name, size, std::move(meta), {}});
    job->content.read(a, size, static_cast<size_t>(kMaxQueuedFile));
    pool_.submit(dir->key(name), dir->id, job->content.bytes.size() + path.size(), [this, job] {
      try {
        write_job(*job);
      } catch (Error& err) {
        err.context(entry_clause(job->path));
        throw WriterError(err);
      }
    });
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
    EntryMeta meta = meta_of(e);
    if (path.empty()) {  // the root directory itself
      chown_at(root_, "", meta, AT_EMPTY_PATH);
      record_dir(path, meta);
      return;
    }
    const char* hardlink = archive_entry_hardlink(e);
    const mode_t type = archive_entry_filetype(e);
    // Held for the whole entry: remove_existing drops the cache, not this directory.
    std::shared_ptr<const ParentDir> parent = parent_of(path);
    pool_.wait(parent->key(base));  // a file queued here is written before this entry replaces it
    const int dfd = parent->fd.get();
    const char* name = base.c_str();

    if (hardlink) {
      std::string target = clean_entry_path(hardlink, "hardlink target");
      if (target == path) return;
      if (target.empty()) throw Error("hardlink to the root directory");
      std::string tbase = base_name(target);
      UniqueFd tdir = in_context("hardlink target " + target,
                                 [&] { return open_parent_in_order(target, false); });
      pool_.wait(ParentDir::id_of(tdir.get()) + tbase);
      struct stat st;
      if (::fstatat(tdir.get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error::from_errno("hardlink target", target, errno);
      if (S_ISDIR(st.st_mode)) throw Error("hardlink target " + target + " is a directory");
      if (::linkat(tdir.get(), tbase.c_str(), dfd, name, 0) != 0) {
        if (errno != EEXIST) throw_errno("link", target);
        remove_existing(dfd, name);
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
            if (::mkdirat(dfd, name, 0700) != 0) throw_errno("mkdir");
          }
        }
        chown_at(dfd, name, meta, AT_SYMLINK_NOFOLLOW);
        if (!meta.xattrs.empty()) {
          UniqueFd fd(::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!fd) throw_errno("open");
          set_xattrs(fd.get(), meta);
        }
        record_dir(path, meta);
        break;
      }
      case AE_IFREG:
        regular_file(a, e, path, std::move(parent), std::move(meta));
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) throw Error("symlink without a target");
        if (::symlinkat(target, dfd, name) != 0) {
          if (errno != EEXIST) throw_errno("symlink");
          remove_existing(dfd, name);
          if (::symlinkat(target, dfd, name) != 0) throw_errno("symlink");
        }
        chown_at(dfd, name, meta, AT_SYMLINK_NOFOLLOW);
        if (::utimensat(dfd, name, meta.times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("utimensat");
        break;
      }
      case AE_IFIFO:
      case AE_IFCHR:
      case AE_IFBLK: {
        if (type != AE_IFIFO && opts_.rootless) {
          note([&] { ++n_.devices_skipped; });
          return;
        }
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        mode_t m = (type == AE_IFIFO ? S_IFIFO : type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600;
        if (::mknodat(dfd, name, m, dev) != 0) {
          if (errno != EEXIST) throw_errno("mknod");
          remove_existing(dfd, name);
          if (::mknodat(dfd, name, m, dev) != 0) throw_errno("mknod");
        }
        chown_at(dfd, name, meta, AT_SYMLINK_NOFOLLOW);
        if (::fchmodat(dfd, name, meta.perm, 0) != 0) throw_errno("chmod");
        if (::utimensat(dfd, name, meta.times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("utimensat");
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
  std::mutex notices_mu_;
  std::unordered_set<std::string> created_;
  std::vector<DirMeta> dirs_;
  std::unordered_map<std::string, size_t> dir_index_;  // path -> its entry in dirs_
  uint64_t file_bytes_ = 0;
  std::shared_ptr<const ParentDir> cached_;
  std::string cached_dir_;
  // Last member: destroyed first, so a failed layer stops and joins the writers while what their
  // jobs use (this Applier's members) is still alive.
  WritePool pool_;
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
      throw TarError(std::string("tar: ") + (msg ? msg : "unreadable header"));
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
