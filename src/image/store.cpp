// The content-addressed store of unpacked images: each layer once, stacked with overlayfs.
//
// Layout below the store directory (0700: the trees hold setuid files of other people's images):
//   layers/<lkey>/diff              one layer's diff in overlayfs format (whiteouts are 0/0
//                                   character devices, replaced directories are opaque through
//                                   user.overlay.opaque); see layers.hpp for how it is made
//   images/<key>/meta.json          an image: its source, digests and layer_keys (bottom first)
//   images/<key>/userdb/etc/        passwd and group of its merged view (for --user)
//   images/<key>/rootfs             instead of layers: one flat tree (probe_overlay() failed
//                                   when it was unpacked, or more than kMaxStackedLayers layers)
//   layers/<lkey>/stamp             written last when the layer was built: its diff's stamp
//   tmp/<key>.<random>/, tmp/layer-<lkey>.<random>/    unpacks in progress (renamed into place),
//                                   and what is being removed; a name's key says which lock
//                                   guards it, so whoever holds that lock removes leftovers
//   locks/<key>.lock, locks/layer-<lkey>.lock          flock: exclusive while unpacking or
//                                   pruning, shared while in use
// <key> is the hex of the config digest: the config lists the diff_ids, which are verified during
// the unpack, so it names the content exactly whatever compression or manifest carried it.
// <lkey> is the hex of the layer's OCI ChainID (its diff_id and those of the layers below it).
// An unprivileged unpack, whose owners differ, appends owner_key_suffix() to both ("-rootless",
// or "-rootless-UIDSTART-GIDSTART" when they are shifted into the caller's /etc/subuid range).
//
// The store directory must be ours, 0700, and every directory above it ours or root's and not
// writable by others unless sticky (check_store_dir): otherwise another user could plant the
// image root that a later run executes.
//
// Intact check (every prepare, a few stat calls, no tree walk): meta.json, written last, holds the
// stamp (inode and mtime) of each layer's diff directory, or of the flat rootfs, as published;
// each must still match (deleting a layer, or anything at its top, changes them). A failing entry
// is rebuilt under its lock, and so is each of its layers whose own stamp file does not match.
// Deeper deletions inside a layer are not seen (that would need a walk of the tree).
//
// Entries and layers are published by rename(2) and never modified. Locks: a run holds its
// image's lock shared; an image's layers are removed only when no remaining image lists them, and
// an unpacker holds each layer it builds or reuses shared until its image is published, so prune
// (which locks a layer exclusively before checking that nothing lists it) never removes a layer
// in use. Two unpackers of the same image serialize on its lock; of images sharing a layer, on
// the layer's lock: the work is done once.
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "apply.hpp"
#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "layers.hpp"
#include "secure_fs.hpp"
#include "userns.hpp"

namespace cgprof::image {

namespace {

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

uint64_t disk_usage_of(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd ? disk_usage(fd.get()) : 0;
}

void make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) throw_errno("mkdir", path);
}

void write_new_file(const std::string& path, const std::string& text) {
  UniqueFd f = open_at(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_errno("write", path);
}

// A new private directory below tmp/, named so that prune can tell whose lock guards it.
std::string make_tmp(const std::string& store, const std::string& key) {
  std::string tmp = store + "/tmp/" + key + ".XXXXXX";
  if (!::mkdtemp(tmp.data())) throw_errno("mkdtemp", tmp);
  return tmp;
}

nlohmann::json entry_meta(const ImageManifest& m, const UnpackOptions& opts) {
  return {
      {"source", m.source},
      {"format", m.format},
      {"manifest_digest", m.manifest_digest},
      {"config_digest", m.config_digest},
      {"platform", m.platform.str()},
      {"layers", m.layers.size()},
      {"rootless", opts.rootless},
      {"created", static_cast<int64_t>(::time(nullptr))},
  };
}

// Fills the temp entry (fill(tmp, meta), which may add to meta), writes its meta.json last and
// renames it to `entry`. The temp dir is removed on failure with `remove` (the owners of what fill
// made decide how).
void publish_entry(const std::string& store, const std::string& key, const std::string& entry,
                   nlohmann::json meta,
                   const std::function<void(const std::string&, nlohmann::json&)>& fill,
                   const std::function<void(const std::string&)>& remove) {
  std::string tmp = make_tmp(store, key);
  try {
    fill(tmp, meta);
    write_new_file(tmp + "/meta.json", meta.dump(2) + "\n");
    // Directory rename (publishes or unpublishes a whole entry), not an atomic file write.
    if (::rename(tmp.c_str(), entry.c_str()) != 0) throw_errno("rename to", entry);
  } catch (...) {
    remove(tmp);
    throw;
  }
}

// Copies etc/passwd and etc/group of the image (resolved inside it) into dir. A missing one is
// left out; one that is not a regular file (a FIFO would hang us while we hold the image's lock, a
// link to a device would never end) or is larger than kMaxUserDbFileBytes fails the prepare.
void copy_user_db(int rootfd, const std::string& dir) {
  for (const char* name : {"passwd", "group"}) {
    const std::string rel = std::string("etc/") + name;
    int fd = open_in_root(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      throw_errno("open", rel);
    }
    std::string text = with_context("the image's user database", [&] {
      return read_regular_fd(UniqueFd(fd), rel, kMaxUserDbFileBytes);
    });
    write_new_file(dir + "/" + name, text);
  }
}

std::vector<std::string> layer_keys_of(const nlohmann::json& meta) {
  return meta.value("layer_keys", std::vector<std::string>{});
}

nlohmann::json read_meta(const std::string& path) {
  return nlohmann::json::parse(read_regular_file_at(AT_FDCWD, path, kMaxImageJsonBytes, true));
}

// "INODE:MTIME_NS" of a directory, "" if it is not one. A stored tree is never modified, so its
// top directory keeps these until something is deleted or added at its top, or it is replaced.
std::string dir_stamp(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

// A stored layer is whole: its diff matches the stamp written when it was built.
bool layer_intact(const std::string& dir) {
  std::string stamp = dir_stamp(dir + "/diff");
  if (stamp.empty()) return false;
  try {
    return read_regular_file_at(AT_FDCWD, dir + "/stamp", 64, true) == stamp;
  } catch (const Error&) {
    return false;
  }
}

// Why the published entry cannot be served ("" when it is intact): its meta.json, written last,
// must list these layers with the stamps they still have (or the flat rootfs's).
std::string entry_damage(const std::string& store, const std::string& entry,
                         const std::vector<std::string>& layer_keys) {
  nlohmann::json meta;
  try {
    meta = read_meta(entry + "/meta.json");
  } catch (const std::exception&) {
    return "meta.json missing or unreadable";
  }
  if (!meta.contains("rootfs_stamp") && !meta.contains("layer_stamps"))
    return "made by an older cgprof, without stamps to check it by";
  if (meta.contains("rootfs_stamp")) {
    if (!meta["rootfs_stamp"].is_string() || dir_stamp(entry + "/rootfs") != meta["rootfs_stamp"])
      return "rootfs changed or missing";
    return "";
  }
  std::vector<std::string> stamps;
  try {
    stamps = meta.value("layer_stamps", std::vector<std::string>{});
    if (layer_keys_of(meta) != layer_keys || stamps.size() != layer_keys.size())
      return "meta.json lists other layers";
  } catch (const std::exception&) {
    return "meta.json malformed";
  }
  for (size_t i = 0; i < layer_keys.size(); ++i)
    if (dir_stamp(store + "/layers/" + layer_keys[i] + "/diff") != stamps[i])
      return "layer " + std::to_string(i + 1) + " (" + layer_keys[i].substr(0, 12) +
             ") changed or missing";
  if (dir_stamp(entry + "/userdb/etc").empty()) return "userdb missing";
  return "";
}

// Moves `path` out of the way (into tmp/, under the name prefix `tmp_prefix`, whose lock the
// caller holds) and removes it with `remove`.
void discard(const std::string& path, const std::string& tmp_prefix,
             const std::function<void(const std::string&)>& remove) {
  std::string tmp = tmp_prefix + ".discard-" + std::to_string(::getpid());
  // Directory rename (publishes or unpublishes a whole entry), not an atomic file write.
  if (::rename(path.c_str(), tmp.c_str()) != 0) throw_errno("rename", path);
  remove(tmp);
}

// Removes tmp/<name>.*: leftovers of unpackers of <name> that died. The caller holds <name>'s
// lock exclusively, so none of them is in use.
void remove_leftovers(const std::string& store, const std::string& name,
                      const std::function<void(const std::string&)>& remove) {
  for (auto& n : list_dir(store + "/tmp"))
    if (n.size() > name.size() && n.compare(0, name.size(), name) == 0 && n[name.size()] == '.')
      remove(store + "/tmp/" + n);
}

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Each directory of `path` from / down (the last one excluded): ours or root's, and not writable
// by group or others unless sticky (like /tmp, where others cannot rename or remove our entries).
void check_parents(const std::string& path, uid_t me) {
  for (size_t s = 0; s != std::string::npos && s < path.size(); s = path.find('/', s + 1)) {
    std::string p = s == 0 ? "/" : path.substr(0, s);
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) throw_errno("stat", p);
    if (!S_ISDIR(st.st_mode)) continue;  // a symlink: what it names is checked on the real path
    if (st.st_uid != me && st.st_uid != 0)
      throw Error("its parent " + p + " belongs to uid " + std::to_string(st.st_uid) +
                  ", who could replace the cache; put it under directories of your own or "
                  "root's (set CGPROF_CACHE_DIR)");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
      throw Error("its parent " + p + " is writable by others (mode " + mode_text(st.st_mode) +
                  ", not sticky), who could replace the cache; chmod go-w " + p +
                  " or set CGPROF_CACHE_DIR to another directory");
  }
}

}  // namespace

void check_store_dir(const std::string& dir) {
  const uid_t me = ::geteuid();
  std::string abs = dir;
  if (abs.empty() || abs[0] != '/') {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) throw_errno("getcwd");
    abs = std::string(cwd) + "/" + dir;
  }
  check_parents(abs, me);
  char real[PATH_MAX];
  if (!::realpath(abs.c_str(), real)) throw_errno("realpath", dir);
  check_parents(real, me);
  struct stat st;
  if (::lstat(real, &st) != 0) throw_errno("stat", real);
  if (!S_ISDIR(st.st_mode)) throw Error("not a directory");
  if (st.st_uid != me)
    throw Error("belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " +
                std::to_string(me) + "); use a cache directory of your own (set CGPROF_CACHE_DIR)");
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    throw Error("writable by others (mode " + mode_text(st.st_mode) +
                "), who may have planted images in it; remove it, or check it and chmod 700 " +
                dir);
  // Readable by others only: ours, so close it (it holds images' setuid files).
  if ((st.st_mode & 077) && ::chmod(real, 0700) != 0) throw_errno("chmod", dir);
}

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
  const std::string suffix = owner_key_suffix(opts);
  const std::string key = m.config_digest.substr(7) + suffix;
  const bool stackable = !m.layers.empty() && m.layers.size() <= kMaxStackedLayers;
  std::vector<std::string> layer_keys;  // bottom first
  if (stackable)
    for (const auto& c : chain_ids(m.layers)) layer_keys.push_back(c.substr(7) + suffix);
  return with_context("image store " + dir_, [&] {
    make_directories(dir_, 0700);
    check_store_dir(dir_);
    for (const char* sub : {"images", "layers", "tmp", "locks"})
      make_directories(dir_ + "/" + sub, 0700);
    PreparedImage p;
    p.manifest_digest = m.manifest_digest;
    p.config_digest = m.config_digest;
    p.config = m.config;
    const std::string entry = dir_ + "/images/" + key;
    const std::string lock_path = dir_ + "/locks/" + key + ".lock";
    p.lock = open_at(AT_FDCWD, lock_path, O_RDWR | O_CREAT, 0600);
    lock(p.lock.get(), LOCK_SH, lock_path);
    // A flat entry (rootfs/) is checked against its own stamp, whatever layer_keys says.
    p.cache_hit = exists(entry) && entry_damage(dir_, entry, layer_keys).empty();
    if (!p.cache_hit) {
      // Not there, or damaged: become the one unpacker. Whoever else wanted it waits here and
      // then finds it.
      lock(p.lock.get(), LOCK_EX, lock_path);
      remove_leftovers(dir_, key, remove_unpacked_tree);
      if (exists(entry)) {
        std::string damage = entry_damage(dir_, entry, layer_keys);
        if (!damage.empty()) {
          std::fprintf(stderr, "cgprof: notice: image store: %s: %s; unpacking it again\n",
                       entry.c_str(), damage.c_str());
          discard(entry, dir_ + "/tmp/" + key, remove_unpacked_tree);
        }
      }
      p.cache_hit = exists(entry);
      if (!p.cache_hit) {
        bool flat = !stackable;
        if (stackable) {
          try {
            unpack_stacked(img, key, layer_keys, opts);
          } catch (const Error& e) {
            if (e.exit_code() != kExitNoOverlay) throw;
            std::fprintf(stderr, "cgprof: notice: %s: storing %s as one flat tree\n",
                         e.message().c_str(), m.source.c_str());
            flat = true;
          }
        }
        if (flat) unpack_flat(img, key, opts);
      }
      lock(p.lock.get(), LOCK_SH, lock_path);
    }
    if (exists(entry + "/rootfs")) {
      p.rootfs = p.user_db = entry + "/rootfs";
    } else {
      for (auto it = layer_keys.rbegin(); it != layer_keys.rend(); ++it)
        p.layers.push_back(dir_ + "/layers/" + *it + "/diff");
      p.rootfs = p.layers.front();
      p.user_db = entry + "/userdb";
    }
    return p;
  });
}

void ImageStore::unpack_flat(const Image& img, const std::string& key, const UnpackOptions& opts) {
  publish_entry(
      dir_, key, dir_ + "/images/" + key, entry_meta(img.manifest(), opts),
      [&](const std::string& tmp, nlohmann::json& meta) {
        make_dir(tmp + "/rootfs", 0755);
        UniqueFd root = open_at(AT_FDCWD, tmp + "/rootfs", O_RDONLY | O_DIRECTORY);
        unpack_with_owners(img, root.get(), opts);
        meta["rootfs_stamp"] = dir_stamp(tmp + "/rootfs");
      },
      remove_unpacked_tree);
}

void ImageStore::unpack_stacked(const Image& img, const std::string& key,
                                const std::vector<std::string>& layer_keys,
                                const UnpackOptions& opts) {
  // In a child with its own mount namespace (and, rootless, the user namespace that shifts owners
  // as a run maps them, or maps the caller alone), so the overlays mounted here are nobody else's.
  std::optional<IdMapPlan> plan;
  UnpackOptions in = opts;
  if (opts.rootless) {
    plan = caller_id_maps();
    in.in_userns = plan->use_helpers;
  }
  auto remove = [](const std::string& path) { remove_tree_at(AT_FDCWD, path); };
  run_in_child(plan ? &*plan : nullptr, [&] {
    enter_private_mount_ns();
    if (layer_keys.size() > 1) probe_overlay(dir_ + "/tmp/" + key + ".probe");
    ApplyNotices notices;
    std::vector<UniqueFd> held;      // each layer shared until the image is published
    std::vector<std::string> below;  // the layers done so far, top first
    for (size_t i = 0; i < layer_keys.size(); ++i) {
      const std::string dir = dir_ + "/layers/" + layer_keys[i];
      const std::string lock_path = dir_ + "/locks/layer-" + layer_keys[i] + ".lock";
      UniqueFd l = open_at(AT_FDCWD, lock_path, O_RDWR | O_CREAT, 0600);
      lock(l.get(), LOCK_SH, lock_path);
      if (!layer_intact(dir)) {
        lock(l.get(), LOCK_EX, lock_path);
        const std::string name = "layer-" + layer_keys[i];
        remove_leftovers(dir_, name, remove);
        if (exists(dir) && !layer_intact(dir)) {
          // Damaged (something deleted it, or part of it): images using it are rebuilt too,
          // since their meta.json holds its old stamp.
          std::fprintf(stderr,
                       "cgprof: notice: image store: %s changed or incomplete; "
                       "unpacking it again\n",
                       dir.c_str());
          discard(dir, dir_ + "/tmp/" + name, remove);
        }
        if (!exists(dir)) {
          std::string tmp = make_tmp(dir_, name);
          try {
            make_dir(tmp + "/diff", 0755);
            apply_layer_stacked(img, i, below, tmp, in, notices);
            write_new_file(tmp + "/stamp", dir_stamp(tmp + "/diff"));
            // Directory rename (publishes or unpublishes a whole entry), not an atomic file write.
            if (::rename(tmp.c_str(), dir.c_str()) != 0) throw_errno("rename to", dir);
          } catch (...) {
            remove(tmp);
            throw;
          }
        }
        lock(l.get(), LOCK_SH, lock_path);
      }
      held.push_back(std::move(l));
      below.insert(below.begin(), dir + "/diff");
    }
    print_apply_notices(notices, in);
    nlohmann::json meta = entry_meta(img.manifest(), opts);
    meta["layer_keys"] = layer_keys;
    std::vector<std::string> stamps;
    for (auto& k : layer_keys) stamps.push_back(dir_stamp(dir_ + "/layers/" + k + "/diff"));
    meta["layer_stamps"] = stamps;
    publish_entry(
        dir_, key, dir_ + "/images/" + key, meta,
        [&](const std::string& tmp, nlohmann::json&) {
          make_dir(tmp + "/userdb", 0755);
          make_dir(tmp + "/userdb/etc", 0755);
          make_dir(tmp + "/mnt", 0700);
          with_merged_view(below, tmp + "/mnt",
                           [&](int root) { copy_user_db(root, tmp + "/userdb/etc"); });
          if (::rmdir((tmp + "/mnt").c_str()) != 0) throw_errno("rmdir", tmp + "/mnt");
        },
        remove);
  });
}

std::vector<CachedImage> ImageStore::list() const {
  std::vector<CachedImage> out;
  if (exists(dir_)) with_context("image store " + dir_, [&] { check_store_dir(dir_); });
  std::vector<std::vector<std::string>> keys;  // each image's layers
  std::map<std::string, int> users;            // layer -> images stacking it
  for (auto& key : list_dir(dir_ + "/images")) {
    CachedImage c;
    c.key = key;
    c.path = dir_ + "/images/" + key;
    std::vector<std::string> lk;
    try {
      auto meta = read_meta(c.path + "/meta.json");
      c.source = meta.value("source", "");
      c.manifest_digest = meta.value("manifest_digest", "");
      c.created = meta.value("created", int64_t{0});
      lk = layer_keys_of(meta);
    } catch (const std::exception&) {
      c.source = "(unreadable meta.json)";
    }
    if (exists(c.path + "/rootfs")) {
      c.bytes = c.unique_bytes = disk_usage_of(c.path + "/rootfs");
      lk.clear();
    }
    for (auto& k : lk) ++users[k];
    UniqueFd l(::open((dir_ + "/locks/" + key + ".lock").c_str(), O_RDWR | O_CLOEXEC));
    if (l && ::flock(l.get(), LOCK_EX | LOCK_NB) != 0) c.in_use = true;
    out.push_back(std::move(c));
    keys.push_back(std::move(lk));
  }
  std::map<std::string, uint64_t> sizes;
  for (size_t i = 0; i < out.size(); ++i) {
    for (auto& k : keys[i]) {
      auto [it, added] = sizes.try_emplace(k, 0);
      if (added) it->second = disk_usage_of(dir_ + "/layers/" + k);
      out[i].bytes += it->second;
      if (users[k] == 1) out[i].unique_bytes += it->second;
    }
    out[i].layers = keys[i].size();
  }
  return out;
}

PruneResult ImageStore::prune() {
  PruneResult res;
  if (!exists(dir_)) return res;
  for (auto& c : list()) {
    if (c.in_use) continue;
    const std::string lock_path = dir_ + "/locks/" + c.key + ".lock";
    UniqueFd l = open_at(AT_FDCWD, lock_path, O_RDWR | O_CREAT, 0600);
    if (::flock(l.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a run started meanwhile
    // Unpublish atomically first, so nobody sees a half-removed rootfs.
    std::string tmp = dir_ + "/tmp/" + c.key + ".prune-" + std::to_string(::getpid());
    // Directory rename (publishes or unpublishes a whole entry), not an atomic file write.
    if (::rename(c.path.c_str(), tmp.c_str()) != 0) throw_errno("rename", c.path);
    remove_unpacked_tree(tmp);
    if (c.layers == 0) res.bytes += c.bytes;
    res.images.push_back(c);
  }
  // Layers no remaining image lists. Locked first, then checked: an unpacker holds the layers it
  // uses until its image is published, so a layer locked here is not about to be listed.
  std::vector<std::pair<std::string, UniqueFd>> locked;
  for (auto& k : list_dir(dir_ + "/layers")) {
    UniqueFd l(
        ::open((dir_ + "/locks/layer-" + k + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (l && ::flock(l.get(), LOCK_EX | LOCK_NB) == 0) locked.emplace_back(k, std::move(l));
  }
  std::set<std::string> used;
  bool known = true;
  for (auto& key : list_dir(dir_ + "/images")) {
    try {
      for (auto& k : layer_keys_of(read_meta(dir_ + "/images/" + key + "/meta.json")))
        used.insert(k);
    } catch (const std::exception&) {
      known = false;  // an unreadable entry might use any layer: keep them all
    }
  }
  for (auto& [k, l] : locked) {
    if (!known || used.count(k)) continue;
    const std::string dir = dir_ + "/layers/" + k;
    uint64_t bytes = disk_usage_of(dir);
    std::string tmp = dir_ + "/tmp/layer-" + k + ".prune-" + std::to_string(::getpid());
    // Directory rename (publishes or unpublishes a whole entry), not an atomic file write.
    if (::rename(dir.c_str(), tmp.c_str()) != 0) throw_errno("rename", dir);
    remove_unpacked_tree(tmp);
    res.bytes += bytes;
    ++res.layers;
  }
  locked.clear();
  // Leftovers of unpacks that died (their lock is free again).
  for (auto& name : list_dir(dir_ + "/tmp")) {
    std::string key = name.substr(0, name.find('.'));
    UniqueFd l(
        ::open((dir_ + "/locks/" + key + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (l && ::flock(l.get(), LOCK_EX | LOCK_NB) != 0) continue;
    remove_unpacked_tree(dir_ + "/tmp/" + name);
  }
  return res;
}

}  // namespace cgprof::image
