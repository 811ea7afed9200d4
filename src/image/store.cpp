// The content-addressed store of unpacked root filesystems.
//
// Layout below the store directory (0700: rootfs trees hold setuid files of other people's images):
//   images/<key>/rootfs, images/<key>/meta.json   published entries, never modified
//   tmp/<key>.<random>/                            unpacks in progress (renamed into images/)
//   locks/<key>.lock                               flock: exclusive while unpacking or pruning,
//                                                  shared while a run uses the entry
// <key> is the hex of the config digest: the config lists the diff_ids, which are verified during
// the unpack, so it names the rootfs content exactly whatever compression or manifest carried it
// (an unprivileged unpack, whose owners differ, appends owner_key_suffix(): "-rootless", or
// "-rootless-UIDSTART-GIDSTART" when they are shifted into the caller's /etc/subuid range).
// Layers are not shared between entries (no overlay stacking); each entry is a full tree.
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "secure_fs.hpp"
#include "userns.hpp"

namespace cgprof::image {

namespace {

void mkdir_p(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) throw_errno("mkdir", path);
  size_t s = path.rfind('/');
  if (s == std::string::npos || s == 0) throw_errno("mkdir", path);
  mkdir_p(path.substr(0, s), 0755);
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throw_errno("mkdir", path);
}

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

void lock(int fd, int op, const std::string& what) {
  while (::flock(fd, op) != 0) {
    if (errno != EINTR) throw_errno("flock", what);
  }
}

uint64_t disk_usage(int dirfd) {
  uint64_t total = 0;
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return 0;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    total += static_cast<uint64_t>(st.st_blocks) * 512;
    if (S_ISDIR(st.st_mode)) {
      int c = ::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (c >= 0) {
        total += disk_usage(c);
        ::close(c);
      }
    }
  }
  ::closedir(d);
  return total;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    throw_errno("opendir", path);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::string ImageStore::default_dir() {
  if (const char* d = std::getenv("CGPROF_CACHE_DIR"); d && *d) return d;
  if (::geteuid() == 0) return "/var/cache/cgprof";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
    return std::string(x) + "/cgprof";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/cgprof";
  throw Error("image store: neither $CGPROF_CACHE_DIR, $XDG_CACHE_HOME nor $HOME is set");
}

ImageStore::ImageStore(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

PreparedImage ImageStore::prepare(const ImageRef& ref, const std::optional<Platform>& platform,
                                  const UnpackOptions& opts) {
  Image img(ref, platform);
  const ImageManifest& m = img.manifest();
  const std::string key = m.config_digest.substr(7) + owner_key_suffix(opts);
  return with_context("image store " + dir_, [&] {
    mkdir_p(dir_, 0700);
    for (const char* sub : {"images", "tmp", "locks"}) mkdir_p(dir_ + "/" + sub, 0700);
    PreparedImage p;
    p.manifest_digest = m.manifest_digest;
    p.config_digest = m.config_digest;
    p.config = m.config;
    const std::string entry = dir_ + "/images/" + key;
    p.rootfs = entry + "/rootfs";
    const std::string lock_path = dir_ + "/locks/" + key + ".lock";
    p.lock = open_at(AT_FDCWD, lock_path, O_RDWR | O_CREAT, 0600);
    lock(p.lock.get(), LOCK_SH, lock_path);
    if (exists(entry)) {
      p.cache_hit = true;
      return p;
    }
    // Not there: become the one unpacker. Whoever else wanted it waits here and then finds it.
    lock(p.lock.get(), LOCK_EX, lock_path);
    if (!exists(entry)) {
      std::string tmp = dir_ + "/tmp/" + key + ".XXXXXX";
      if (!::mkdtemp(tmp.data())) throw_errno("mkdtemp", tmp);
      try {
        if (::mkdir((tmp + "/rootfs").c_str(), 0755) != 0) throw_errno("mkdir", tmp + "/rootfs");
        UniqueFd root = open_at(AT_FDCWD, tmp + "/rootfs", O_RDONLY | O_DIRECTORY);
        unpack_with_owners(img, root.get(), opts);
        nlohmann::json meta = {
            {"source", m.source},
            {"format", m.format},
            {"manifest_digest", m.manifest_digest},
            {"config_digest", m.config_digest},
            {"platform", m.platform.str()},
            {"layers", m.layers.size()},
            {"rootless", opts.rootless},
            {"created", static_cast<int64_t>(::time(nullptr))},
        };
        UniqueFd f = open_at(AT_FDCWD, tmp + "/meta.json", O_WRONLY | O_CREAT | O_EXCL, 0600);
        std::string text = meta.dump(2) + "\n";
        if (::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
          throw_errno("write", tmp + "/meta.json");
        if (::rename(tmp.c_str(), entry.c_str()) != 0) throw_errno("rename to", entry);
      } catch (...) {
        remove_unpacked_tree(tmp);
        throw;
      }
    } else {
      p.cache_hit = true;
    }
    lock(p.lock.get(), LOCK_SH, lock_path);
    return p;
  });
}

std::vector<CachedImage> ImageStore::list() const {
  std::vector<CachedImage> out;
  for (auto& key : list_dir(dir_ + "/images")) {
    CachedImage c;
    c.key = key;
    c.path = dir_ + "/images/" + key;
    try {
      auto meta = nlohmann::json::parse(read_file(c.path + "/meta.json"));
      c.source = meta.value("source", "");
      c.manifest_digest = meta.value("manifest_digest", "");
      c.created = meta.value("created", int64_t{0});
    } catch (const std::exception&) {
      c.source = "(unreadable meta.json)";
    }
    UniqueFd root(::open((c.path + "/rootfs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root) c.bytes = disk_usage(root.get());
    UniqueFd l(::open((dir_ + "/locks/" + key + ".lock").c_str(), O_RDWR | O_CLOEXEC));
    if (l && ::flock(l.get(), LOCK_EX | LOCK_NB) != 0) c.in_use = true;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<CachedImage> ImageStore::prune() {
  std::vector<CachedImage> removed;
  for (auto& c : list()) {
    if (c.in_use) continue;
    const std::string lock_path = dir_ + "/locks/" + c.key + ".lock";
    UniqueFd l = open_at(AT_FDCWD, lock_path, O_RDWR | O_CREAT, 0600);
    if (::flock(l.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a run started meanwhile
    // Unpublish atomically first, so nobody sees a half-removed rootfs.
    std::string tmp = dir_ + "/tmp/" + c.key + ".prune-" + std::to_string(::getpid());
    if (::rename(c.path.c_str(), tmp.c_str()) != 0) throw_errno("rename", c.path);
    remove_unpacked_tree(tmp);
    removed.push_back(c);
  }
  // Leftovers of unpacks that died (their lock is free again).
  for (auto& name : list_dir(dir_ + "/tmp")) {
    std::string key = name.substr(0, name.find('.'));
    UniqueFd l(
        ::open((dir_ + "/locks/" + key + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (l && ::flock(l.get(), LOCK_EX | LOCK_NB) != 0) continue;
    remove_unpacked_tree(dir_ + "/tmp/" + name);
  }
  return removed;
}

}  // namespace cgprof::image
