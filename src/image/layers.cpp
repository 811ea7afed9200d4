#include "layers.hpp"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apply.hpp"
#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "digest.hpp"

namespace cgprof::image {

namespace {

constexpr unsigned long kMountFlags = MS_NODEV | MS_NOSUID | MS_NOEXEC;

// An overlay mounted on `mnt` for the lifetime of this object (detached on the way out, so an
// exception never leaves the scratch directory mounted over).
class OverlayMount {
 public:
  // lowers: directories, top first. upper/work empty: a read-only overlay of the lowers.
  OverlayMount(const std::vector<std::string>& lowers, const std::string& upper,
               const std::string& work, const std::string& mnt)
      : mnt_(mnt) {
    std::vector<UniqueFd> fds;
    std::vector<int> raw;
    for (const auto& l : lowers) {
      fds.push_back(open_at(AT_FDCWD, l, O_PATH | O_DIRECTORY));
      raw.push_back(fds.back().get());
    }
    char lowerdir[4096];
    if (format_overlay_lowerdir(lowerdir, sizeof lowerdir, raw.data(), raw.size()) < 0)
      throw Error("overlayfs: too many layers to stack (" + std::to_string(raw.size()) + ")");
    std::string o = lowerdir;
    if (!upper.empty()) o += ",upperdir=" + upper + ",workdir=" + work;
    o += ",userxattr";
    unsigned long flags = kMountFlags | (upper.empty() ? MS_RDONLY : 0);
    if (::mount("overlay", mnt.c_str(), "overlay", flags, o.c_str()) != 0) {
      int err = errno;
      throw Error("overlayfs cannot be mounted here (" + mnt + ": " + std::strerror(err) + ")",
                  kExitNoOverlay, err);
    }
  }
  ~OverlayMount() {
    if (!mnt_.empty()) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;

  void unmount() {
    if (::umount2(mnt_.c_str(), 0) != 0) throw_errno("umount", mnt_);
    mnt_.clear();
  }

 private:
  std::string mnt_;
};

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) throw_errno("mkdir", path);
}

// The new layer's root directory starts as the merged root below it: overlay never copies the
// root up (the upper's own root is used), and a layer without a "./" entry must not change it.
void copy_root_attributes(const std::string& from, const std::string& to) {
  struct stat st;
  if (::stat(from.c_str(), &st) != 0) throw_errno("stat", from);
  (void)::lchown(to.c_str(), st.st_uid, st.st_gid);  // an unmapped owner stays ours
  if (::chmod(to.c_str(), st.st_mode & 07777) != 0) throw_errno("chmod", to);
  struct timespec t[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), t, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("utimensat", to);
}

// Root's layers carry the opaque marker in both namespaces: user.overlay.opaque, written by the
// userxattr mount that built them and read by runs in a user namespace, and trusted.overlay.opaque,
// read by a run as real root without userxattr, whose throwaway upper on tmpfs then keeps every
// overlay feature even where tmpfs has no user xattrs (before Linux 6.6).
void mirror_opaque(int dirfd, const std::string& path) {
  char v[8];
  ssize_t n = ::fgetxattr(dirfd, "user.overlay.opaque", v, sizeof v);
  if (n > 0 && ::fsetxattr(dirfd, "trusted.overlay.opaque", v, static_cast<size_t>(n), 0) != 0)
    throw_errno("setxattr trusted.overlay.opaque", path);
  DIR* d = ::fdopendir(::dup(dirfd));
  if (!d) throw_errno("opendir", path);
  std::vector<std::string> dirs;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    struct stat st;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR ||
        (e->d_type == DT_UNKNOWN && ::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISDIR(st.st_mode)))
      dirs.push_back(std::move(name));
  }
  ::closedir(d);
  for (const auto& name : dirs) {
    UniqueFd c(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!c) throw_errno("open", path + "/" + name);
    mirror_opaque(c.get(), path + "/" + name);
  }
}

}  // namespace

std::vector<std::string> chain_ids(const std::vector<LayerInfo>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) {
    check_digest(l.diff_id, "diff_id");
    out.push_back(out.empty() ? l.diff_id : sha256_digest(out.back() + " " + l.diff_id));
  }
  return out;
}

void enter_private_mount_ns() {
  if (::unshare(CLONE_NEWNS) != 0) throw_errno("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw_errno("make private", "/");
}

void apply_layer_stacked(const Image& image, size_t index, const std::vector<std::string>& lowers,
                         const std::string& dir, const UnpackOptions& opts, ApplyNotices& notices) {
  const std::string diff = dir + "/diff";
  if (lowers.empty()) {
    UniqueFd root = open_at(AT_FDCWD, diff, O_RDONLY | O_DIRECTORY);
    image.apply_layer_at(index, root.get(), opts, notices);
    return;
  }
  copy_root_attributes(lowers.front(), diff);
  const std::string work = dir + "/work", mnt = dir + "/mnt";
  make_dir(work);
  make_dir(mnt);
  {
    OverlayMount m(lowers, diff, work, mnt);
    {
      UniqueFd root = open_at(AT_FDCWD, mnt, O_RDONLY | O_DIRECTORY);
      image.apply_layer_at(index, root.get(), opts, notices);
    }
    m.unmount();
  }
  if (::rmdir(mnt.c_str()) != 0) throw_errno("rmdir", mnt);
  remove_tree_at(AT_FDCWD, work);
  if (!opts.rootless) mirror_opaque(open_at(AT_FDCWD, diff, O_RDONLY | O_DIRECTORY).get(), diff);
}

void probe_overlay(const std::string& prefix) {
  std::string dir = prefix + "-XXXXXX";
  if (!::mkdtemp(dir.data())) throw_errno("mkdtemp", dir);
  try {
    for (const char* d : {"/lower", "/lower/d", "/upper", "/work", "/mnt"}) make_dir(dir + d);
    OverlayMount m(std::vector<std::string>{dir + "/lower"}, dir + "/upper", dir + "/work",
                   dir + "/mnt");
    // A directory deleted and made again is what needs the upper's xattrs (it becomes opaque):
    // without user xattrs there (tmpfs before Linux 6.6) overlayfs mounts but fails this (EIO).
    const std::string d = dir + "/mnt/d";
    if (::rmdir(d.c_str()) != 0 || ::mkdir(d.c_str(), 0700) != 0) {
      int err = errno;
      throw Error("overlayfs cannot record a replaced directory here (" + d + ": " +
                      std::strerror(err) + ")",
                  kExitNoOverlay, err);
    }
    m.unmount();
  } catch (...) {
    remove_tree_at(AT_FDCWD, dir);
    throw;
  }
  remove_tree_at(AT_FDCWD, dir);
}

void with_merged_view(const std::vector<std::string>& layers, const std::string& mnt,
                      const std::function<void(int rootfd)>& f) {
  if (layers.size() == 1) {
    UniqueFd root = open_at(AT_FDCWD, layers.front(), O_RDONLY | O_DIRECTORY);
    return f(root.get());
  }
  OverlayMount m(layers, "", "", mnt);
  {
    UniqueFd root = open_at(AT_FDCWD, mnt, O_RDONLY | O_DIRECTORY);
    f(root.get());
  }
  m.unmount();
}

}  // namespace cgprof::image
