// Child side: builds the container's file system view in its private mount namespace, then
// pivot_roots into it. Runs after clone, so: no allocation, fixed buffers, errors as messages.
//
// Layout (all inside a tmpfs mounted on /tmp of the PRIVATE mount namespace, so nothing is ever
// visible on the host and everything vanishes with the namespace):
//   /tmp/u, /tmp/w   overlay upper and work dirs (the throwaway write layer)
//   /tmp/r           the new root: overlay(lower = rootfs, or the image's stored layers) or a
//                    read-only bind of the rootfs
//   /tmp/f           generated /etc/hosts, /etc/hostname, /etc/resolv.conf
// Every target inside the new root is resolved with openat2(RESOLVE_IN_ROOT) from the root's fd,
// so a symlink in the rootfs can never redirect a mount onto the host.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cgprof/sys.hpp"
#include "src/sandbox/launch_plan.hpp"

namespace cgprof::sandbox {
namespace {

constexpr unsigned kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr std::uint64_t kMaskAttrs =
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// Paths docker masks (files get /dev/null, directories an empty read-only tmpfs) and the ones it
// makes read-only. Relative to /proc or /sys of the container.
constexpr const char* kMaskedProc[] = {"kcore",       "keys",        "latency_stats", "timer_list",
                                       "timer_stats", "sched_debug", "acpi",          "asound",
                                       "scsi",        "interrupts"};
constexpr const char* kMaskedSys[] = {"firmware", "devices/virtual/powercap"};
constexpr const char* kReadOnlyProc[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
// Device nodes bind-mounted from the host: works unchanged in a user namespace (where mknod is
// refused) and lets /dev itself be nodev, so a container root cannot mknod its way to a disk.
constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr const char* kDevLinks[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"}};

struct Fail {
  ChildMsg* msg;
  int operator()(const char* what, const char* path, int err) const {
    child_fail_msg(msg, what, path, err);
    return -1;
  }
};

// -errno instead of -1, as the other child-side helpers return.
int openat2_in_root(int root_fd, const char* rel, int flags) {
  int fd = openat2_fd(root_fd, rel, flags, RESOLVE_IN_ROOT);
  return fd < 0 ? -errno : fd;
}

enum class Create { kNo, kDir, kFile };

// O_PATH fd of rel inside the root, creating missing components when asked (only possible on the
// overlay: in read-only mode creation fails and the caller reports it). Like runc's
// MkdirAllInRoot: every prefix is resolved from the root with RESOLVE_IN_ROOT, so a symlink on
// the way -- absolute, relative, with "..", or dangling -- is followed *inside* the root, and a
// dangling one gets its target created there (docker's behaviour for `-v HOST:/link`).
int resolve(int root_fd, const char* rel, Create create) {
  int fd = openat2_in_root(root_fd, rel[0] ? rel : ".", O_PATH);
  if (fd >= 0 || fd != -ENOENT || create == Create::kNo) return fd;
  // path = the part already resolved (as written, relative to the root), then what is left.
  char path[4096], rest[4096];
  if (strlen(rel) >= sizeof rest) return -ENAMETOOLONG;
  snprintf(rest, sizeof rest, "%s", rel);
  path[0] = '\0';
  int parent = openat2_in_root(root_fd, ".", O_PATH);
  if (parent < 0) return parent;
  int links = 0;
  char* comp = rest;
  for (;;) {
    while (*comp == '/') ++comp;
    char* slash = strchr(comp, '/');
    bool last = !slash || slash[strspn(slash, "/")] == '\0';
    if (slash) *slash = '\0';
    if (*comp == '\0') break;
    size_t plen = strlen(path);
    if (plen + strlen(comp) + 2 >= sizeof path) {
      ::close(parent);
      return -ENAMETOOLONG;
    }
    snprintf(path + plen, sizeof path - plen, "%s%s", plen ? "/" : "", comp);
    int next = openat2_in_root(root_fd, path, O_PATH);
    if (next == -ENOENT) {
      char target[4096];
      ssize_t tn = ::readlinkat(parent, comp, target, sizeof target - 1);
      if (tn >= 0) {
        // A dangling symlink: continue with its target (from the root if absolute, else from
        // the link's directory) followed by what was left of the path.
        if (++links > 40) {
          ::close(parent);
          return -ELOOP;
        }
        target[tn] = '\0';
        path[plen] = '\0';
        char joined[4096];
        int n = snprintf(joined, sizeof joined, "%s%s%s%s%s",
                         target[0] == '/' ? "" : path, target[0] == '/' || !plen ? "" : "/", target,
                         last ? "" : "/", last ? "" : slash + 1);
        if (n < 0 || static_cast<size_t>(n) >= sizeof joined) {
          ::close(parent);
          return -ENAMETOOLONG;
        }
        memcpy(rest, joined, static_cast<size_t>(n) + 1);
        path[0] = '\0';
        ::close(parent);
        parent = openat2_in_root(root_fd, ".", O_PATH);
        if (parent < 0) return parent;
        comp = rest;
        continue;
      }
      int rc;
      if (last && create == Create::kFile) {
        rc = ::openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (rc >= 0) ::close(rc);
      } else {
        rc = ::mkdirat(parent, comp, 0755);
      }
      if (rc < 0 && errno != EEXIST) {
        int err = -errno;
        ::close(parent);
        return err;
      }
      next = openat2_in_root(root_fd, path, O_PATH);
    }
    ::close(parent);
    if (next < 0) return next;
    parent = next;
    if (last) return parent;
    comp = slash + 1;
  }
  return parent;
}

// mount(2) onto the fd's target through its /proc/self/fd link (the old root's /proc is still
// ours at this point).
int mount_on_fd(const char* src, int target_fd, const char* fstype, unsigned long flags,
                const char* data) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", target_fd);
  return ::mount(src, path, fstype, flags, data) == 0 ? 0 : -errno;
}

int mount_in_root(int root_fd, const char* rel, Create create, const char* src, const char* fstype,
                  unsigned long flags, const char* data) {
  int fd = resolve(root_fd, rel, create);
  if (fd < 0) return fd;
  int rc = mount_on_fd(src, fd, fstype, flags, data);
  ::close(fd);
  return rc;
}

// Clone the mount tree at (from_fd, from) and attach it at (to_fd, to), with extra attributes
// (MOUNT_ATTR_*). Empty paths mean "the fd itself".
int bind(int from_fd, const char* from, int to_fd, const char* to, bool recursive,
         std::uint64_t attrs) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  if (!from[0]) flags |= AT_EMPTY_PATH;
  int tree = ::open_tree(from_fd, from, flags);
  if (tree < 0) return -errno;
  if (attrs) {
    mount_attr attr{};
    attr.attr_set = attrs;
    if (::mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                        sizeof attr) < 0) {
      int err = -errno;
      ::close(tree);
      return err;
    }
  }
  unsigned mflags = MOVE_MOUNT_F_EMPTY_PATH | (to[0] ? 0 : MOVE_MOUNT_T_EMPTY_PATH);
  int rc = ::move_mount(tree, "", to_fd, to, mflags) == 0 ? 0 : -errno;
  ::close(tree);
  return rc;
}

int write_scratch_file(const char* path, const std::string& content) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  const char* p = content.data();
  size_t left = content.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = -errno;
      ::close(fd);
      return err;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  ::close(fd);
  return 0;
}

int setup_dev(int root_fd, int mark_fifo_fd, const Fail& fail) {
  int rc = mount_in_root(root_fd, "dev", Create::kDir, "tmpfs", "tmpfs",
                         MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME, "mode=755,size=65536k");
  if (rc < 0) return fail("mount tmpfs on", "/dev", -rc);
  int dev = openat2_in_root(root_fd, "dev", O_PATH | O_DIRECTORY);
  if (dev < 0) return fail("open", "/dev", -dev);
  char host[32];
  for (const char* node : kDevNodes) {
    int f = ::openat(dev, node, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (f < 0) return fail("create /dev node", node, errno);
    ::close(f);
    snprintf(host, sizeof host, "/dev/%s", node);
    rc = bind(AT_FDCWD, host, dev, node, false, 0);
    // A host without a controlling tty may lack nothing here, but keep going without /dev/tty.
    if (rc < 0 && !(rc == -ENOENT || rc == -ENXIO)) return fail("bind host", host, -rc);
  }
  if (mark_fifo_fd >= 0) {
    const char* node = kMarkDevPath + 5;  // "cgprof-mark"
    int f = ::openat(dev, node, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (f < 0) return fail("create /dev node", node, errno);
    ::close(f);
    // Read-only: the workload can open the FIFO for writing, and change nothing of it.
    rc = bind(mark_fifo_fd, "", dev, node, false,
              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (rc < 0) return fail("bind the phase-mark FIFO on", kMarkDevPath, -rc);
  }
  for (const auto& l : kDevLinks)
    if (::symlinkat(l[1], dev, l[0]) < 0) return fail("symlink /dev", l[0], errno);
  for (const char* d : {"pts", "shm", "mqueue"})
    if (::mkdirat(dev, d, 0755) < 0) return fail("mkdir /dev", d, errno);
  int sub = openat2_in_root(dev, "pts", O_PATH);
  rc = mount_on_fd("devpts", sub, "devpts", MS_NOSUID | MS_NOEXEC,
                   "newinstance,ptmxmode=0666,mode=0620,gid=5");
  // gid 5 (tty) may not be mapped in a single-id user namespace.
  if (rc == -EINVAL)
    rc = mount_on_fd("devpts", sub, "devpts", MS_NOSUID | MS_NOEXEC,
                     "newinstance,ptmxmode=0666,mode=0620");
  ::close(sub);
  if (rc < 0) return fail("mount devpts on", "/dev/pts", -rc);
  rc = bind(AT_FDCWD, "/tmp/s", dev, "shm", false,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (rc < 0) return fail("mount tmpfs on", "/dev/shm", -rc);
  sub = openat2_in_root(dev, "mqueue", O_PATH);
  rc = mount_on_fd("mqueue", sub, "mqueue", kNoSuidDevExec, nullptr);
  ::close(sub);
  if (rc < 0) return fail("mount mqueue on", "/dev/mqueue", -rc);
  ::close(dev);
  return 0;
}

int setup_proc(int root_fd, const Fail& fail) {
  int rc = mount_in_root(root_fd, "proc", Create::kDir, "proc", "proc", kNoSuidDevExec, nullptr);
  if (rc < 0) return fail("mount proc on", "/proc", -rc);
  int proc = openat2_in_root(root_fd, "proc", O_PATH | O_DIRECTORY);
  if (proc < 0) return fail("open", "/proc", -proc);
  for (const char* m : kMaskedProc) {
    struct stat st;
    if (::fstatat(proc, m, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // not on this kernel
    if (S_ISDIR(st.st_mode)) {
      rc = bind(AT_FDCWD, "/tmp/e", proc, m, false, kMaskAttrs);
    } else {
      rc = bind(AT_FDCWD, "/dev/null", proc, m, false, 0);
    }
    if (rc < 0) return fail("mask /proc", m, -rc);
  }
  for (const char* r : kReadOnlyProc) {
    if (::faccessat(proc, r, F_OK, AT_SYMLINK_NOFOLLOW) < 0) continue;
    rc = bind(proc, r, proc, r, true,
              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (rc < 0) return fail("make read-only /proc", r, -rc);
  }
  ::close(proc);
  return 0;
}

// cgroup v1 as docker shows it: a tmpfs at /sys/fs/cgroup holding one read-only mount per
// hierarchy the run uses ("cpu,cpuacct" mounted with those controllers), each rooted at the
// run's cgroup by the cgroup namespace; then the tmpfs is made read-only too. Best effort: a
// hierarchy the kernel will not mount here (a user namespace) is left out, the run goes on.
void mount_cgroup_v1(const LaunchPlan& plan, int root_fd, int cg_dir) {
  if (mount_on_fd("tmpfs", cg_dir, "tmpfs", kNoSuidDevExec, "mode=755,size=64k") < 0) return;
  // cg_dir still names the directory under the new mount: look the path up again.
  int tmp = openat2_in_root(root_fd, "sys/fs/cgroup", O_PATH | O_DIRECTORY);
  if (tmp < 0) return;
  for (const std::string& h : plan.cgroup_v1_hierarchies) {
    if (::mkdirat(tmp, h.c_str(), 0555) < 0 && errno != EEXIST) continue;
    int d = ::openat(tmp, h.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) continue;
    mount_on_fd("cgroup", d, "cgroup", MS_RDONLY | kNoSuidDevExec, h.c_str());
    ::close(d);
  }
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", tmp);
  ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kNoSuidDevExec, nullptr);
  ::close(tmp);
}

int setup_sys(const LaunchPlan& plan, int root_fd, const Fail& fail) {
  int target = resolve(root_fd, "sys", Create::kDir);
  if (target < 0) return fail("create mount point", "/sys", -target);
  int rc = mount_on_fd("sysfs", target, "sysfs", MS_RDONLY | kNoSuidDevExec, nullptr);
  if (rc < 0) {
    // A user namespace may only mount sysfs for a network namespace it owns (not --net host):
    // show the host's /sys read-only instead.
    rc = bind(AT_FDCWD, "/sys", target, "", true,
              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (rc < 0) {
      ::close(target);
      return fail("mount sysfs (and bind the host's /sys) on", "/sys", -rc);
    }
  } else {
    // The container's own cgroup namespace root, read-only, as docker shows it.
    int cg = openat2_in_root(root_fd, "sys/fs/cgroup", O_PATH | O_DIRECTORY);
    if (cg >= 0) {
      if (plan.cgroup_v1_hierarchies.empty()) {
        mount_on_fd("cgroup2", cg, "cgroup2", MS_RDONLY | kNoSuidDevExec, nullptr);
      } else {
        mount_cgroup_v1(plan, root_fd, cg);
      }
      ::close(cg);
    }
  }
  ::close(target);
  int sys = openat2_in_root(root_fd, "sys", O_PATH | O_DIRECTORY);
  if (sys < 0) return fail("open", "/sys", -sys);
  for (const char* m : kMaskedSys) {
    int d = openat2_in_root(sys, m, O_PATH | O_DIRECTORY);
    if (d < 0) continue;
    rc = bind(AT_FDCWD, "/tmp/e", d, "", false, kMaskAttrs);
    ::close(d);
    if (rc < 0) return fail("mask /sys", m, -rc);
  }
  ::close(sys);
  (void)plan;
  return 0;
}

int setup_etc_files(const LaunchPlan& plan, int root_fd, bool writable_root, const Fail& fail) {
  struct File {
    const char* scratch;
    const char* target;
    const std::string* content;
  } files[] = {{"/tmp/f/hosts", "etc/hosts", &plan.hosts},
               {"/tmp/f/hostname", "etc/hostname", &plan.hostname_file},
               {"/tmp/f/resolv.conf", "etc/resolv.conf", &plan.resolv_conf}};
  if (::mkdir("/tmp/f", 0755) < 0) return fail("mkdir", "/tmp/f", errno);
  for (const auto& f : files) {
    int rc = write_scratch_file(f.scratch, *f.content);
    if (rc < 0) return fail("write", f.scratch, -rc);
    // A dangling or absolute symlink (resolv.conf -> /run/...) must not decide where the bind
    // lands: resolve it inside the root; create the file only when the root is writable.
    int target = resolve(root_fd, f.target, writable_root ? Create::kFile : Create::kNo);
    if (target < 0) {
      if (!writable_root) continue;  // read-only rootfs without such a file: leave it out
      return fail("create", f.target, -target);
    }
    struct stat st;
    if (::fstat(target, &st) == 0 && S_ISREG(st.st_mode))
      rc = bind(AT_FDCWD, f.scratch, target, "", false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    ::close(target);
    if (rc < 0) return fail("bind", f.target, -rc);
  }
  return 0;
}

// True when fd lies on the file system mounted at rel in the root (/proc, /sys, /dev).
bool on_mount_of(int root_fd, const char* rel, const struct stat& st) {
  int fd = openat2_in_root(root_fd, rel, O_PATH | O_DIRECTORY);
  if (fd < 0) return false;
  struct stat m {};
  bool same = ::fstat(fd, &m) == 0 && m.st_dev == st.st_dev;
  ::close(fd);
  return same;
}

int setup_volumes(const LaunchPlan& plan, int root_fd, const Fail& fail) {
  for (const auto& v : plan.volumes) {
    int target = resolve(root_fd, v.target.c_str(), v.is_dir ? Create::kDir : Create::kFile);
    if (target < 0) return fail("create volume mount point", v.target.c_str(), -target);
    // parse_volume refused /proc, /sys and /dev by name; an image's symlink (data -> /proc)
    // resolves there too, so judge where the target really is.
    struct stat st {};
    if (::fstat(target, &st) < 0 || on_mount_of(root_fd, "proc", st) ||
        on_mount_of(root_fd, "sys", st) || on_mount_of(root_fd, "dev", st)) {
      ::close(target);
      return fail("volume target resolves into /proc, /sys or /dev (refused, as runc does):",
                  v.target.c_str(), EPERM);
    }
    std::uint64_t attrs = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID;
    if (v.read_only) attrs |= MOUNT_ATTR_RDONLY;
    int rc = bind(v.source_fd, "", target, "", true, attrs);
    ::close(target);
    if (rc < 0) return fail("bind volume onto", v.target.c_str(), -rc);
  }
  return 0;
}

}  // namespace

void child_fail_msg(ChildMsg* msg, const char* what, const char* path, int err) {
  msg->kind = ChildMsg::kSetupFailed;
  msg->code = 125;
  msg->value = err;
  snprintf(msg->text, sizeof msg->text, "%s %s: %s", what, path, strerror(err));
}

int setup_rootfs(LaunchPlan& plan, ChildMsg* msg, bool* used_overlay) {
  Fail fail{msg};
  const ProcessSpec& spec = *plan.spec;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return fail("make private", "/", errno);
  // Opened here, not in the parent: only mounts of our own namespace can be cloned or stacked.
  plan.rootfs_fd = ::open(spec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.rootfs_fd < 0) return fail("open rootfs", spec.rootfs.c_str(), errno);
  for (size_t i = 0; i < plan.layer_fds.size(); ++i) {
    plan.layer_fds[i] = ::open(spec.rootfs_layers[i].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (plan.layer_fds[i] < 0) return fail("open image layer", spec.rootfs_layers[i].c_str(), errno);
  }
  for (auto& v : plan.volumes) {
    v.source_fd = ::open(v.source.c_str(), O_PATH | O_CLOEXEC);
    if (v.source_fd < 0) return fail("open volume", v.source.c_str(), errno);
  }
  // Before /tmp is covered below: a rootless cgprof may keep it in /tmp/cgprof-UID.
  if (!plan.mark_fifo.empty()) {
    plan.mark_fifo_fd = ::open(plan.mark_fifo.c_str(), O_PATH | O_CLOEXEC);
    if (plan.mark_fifo_fd < 0)
      return fail("open the phase-mark FIFO", plan.mark_fifo.c_str(), errno);
  }
  if (::mount("cgprof", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return fail("mount scratch tmpfs on", "/tmp (private mount namespace)", errno);
  // u, w: overlay upper/work; r: the new root; t, s: the container's /tmp and /dev/shm; e: an
  // empty read-only directory to mask paths with. Bind mounts of one tmpfs instead of a tmpfs
  // each: fewer superblocks to create and tear down on every run.
  for (const char* d : {"/tmp/u", "/tmp/w", "/tmp/r", "/tmp/t", "/tmp/s", "/tmp/e"})
    if (::mkdir(d, 0755) < 0) return fail("mkdir", d, errno);
  if (::chmod("/tmp/t", 01777) < 0 || ::chmod("/tmp/s", 01777) < 0 || ::chmod("/tmp/e", 0555) < 0)
    return fail("chmod", "/tmp (scratch)", errno);

  char lower[64];
  snprintf(lower, sizeof lower, "/proc/self/fd/%d", plan.rootfs_fd);
  *used_overlay = false;
  const bool stacked = plan.layer_fds.size() > 1;
  if (stacked) {
    // An image stored as layers: they are the overlay's lowers; without an upper the overlay is
    // read-only (--read-only). In a user namespace trusted.* xattrs are out of reach, so the
    // store's user.overlay.* ones are used (userxattr); as real root the trusted.overlay.* ones the
    // store also wrote, which keeps the tmpfs upper fully featured where tmpfs lacks user xattrs.
    char opts[4096];
    int n = format_overlay_lowerdir(opts, sizeof opts, plan.layer_fds.data(), plan.layer_fds.size());
    const bool writable = spec.rootfs_mode == RootfsMode::kOverlay;
    if (n < 0 || snprintf(opts + n, sizeof opts - static_cast<size_t>(n), "%s%s",
                          writable ? ",upperdir=/tmp/u,workdir=/tmp/w" : "",
                          plan.user_namespace ? ",userxattr" : "") >=
                     static_cast<int>(sizeof opts) - n)
      return fail("stack the image layers", "(too many for one overlay mount)", E2BIG);
    if (::mount("overlay", "/tmp/r", "overlay", MS_NODEV | (writable ? 0 : MS_RDONLY), opts) < 0)
      return fail("mount overlayfs of the image layers on", "/tmp/r", errno);
    for (int& fd : plan.layer_fds) ::close(fd);
    *used_overlay = writable;
  } else if (spec.rootfs_mode == RootfsMode::kOverlay) {
    char opts[160];
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=/tmp/u,workdir=/tmp/w", lower);
    *used_overlay = ::mount("overlay", "/tmp/r", "overlay", MS_NODEV, opts) == 0;
    if (!*used_overlay) msg->notice |= 1;
  }
  if (!*used_overlay && !stacked) {
    // Read-only from the first instant, so creating a missing mount point cannot touch the
    // user's rootfs (it fails with EROFS and is reported instead).
    int rc =
        bind(plan.rootfs_fd, "", AT_FDCWD, "/tmp/r", true, MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY);
    if (rc < 0) return fail("bind rootfs", spec.rootfs.c_str(), -rc);
  }
  int root = ::open("/tmp/r", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return fail("open new root", "/tmp/r", errno);

  int rc;
  if (setup_proc(root, fail) < 0 || setup_dev(root, plan.mark_fifo_fd, fail) < 0 ||
      setup_sys(plan, root, fail) < 0)
    return -1;
  int tmp = resolve(root, "tmp", Create::kDir);
  if (tmp < 0) return fail("create mount point", "/tmp", -tmp);
  rc = bind(AT_FDCWD, "/tmp/t", tmp, "", false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  ::close(tmp);
  if (rc < 0) return fail("mount scratch space on", "/tmp", -rc);
  if (!*used_overlay) {
    // Read-only rootfs: give the usual scratch places a tmpfs when they exist.
    for (const char* d : {"run", "var/tmp"})
      mount_in_root(root, d, Create::kNo, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  }
  if (setup_etc_files(plan, root, *used_overlay, fail) < 0) return -1;
  if (setup_volumes(plan, root, fail) < 0) return -1;

  if (::fchdir(root) < 0) return fail("chdir", "/tmp/r", errno);
  ::close(root);
  if (::syscall(SYS_pivot_root, ".", ".") < 0) return fail("pivot_root", "/tmp/r", errno);
  if (::umount2(".", MNT_DETACH) < 0) return fail("detach old root", "/", errno);
  if (::chdir("/") < 0) return fail("chdir", "/", errno);
  return 0;
}

}  // namespace cgprof::sandbox
