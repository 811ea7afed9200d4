// Private to the sandbox: everything the container's init needs, prepared by the parent BEFORE
// clone. After clone the child must not allocate (another thread of cgprof may have held the
// malloc lock at that instant), so it only reads this plan and uses fixed buffers and raw
// syscalls.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cgprof/sandbox.hpp"
#include "src/sandbox/child_msg.hpp"

namespace cgprof::sandbox {

inline constexpr int kInitImageFd = 5;  // the sealed memfd, during the exec of the init only
static_assert(kInitImageFd == kInitStatusFd + 1);

struct PlannedVolume {
  std::string source;  // host path (checked by the parent, opened again by the child: an fd
                       // from the parent's mount namespace cannot be bind-mounted in the child's)
  int source_fd = -1;  // O_PATH, opened by the child
  bool is_dir = true;
  bool read_only = false;
  std::string target;  // relative to the container root, no leading '/'
};

struct LaunchPlan {
  const ProcessSpec* spec = nullptr;
  int rootfs_fd = -1;  // O_PATH|O_DIRECTORY, opened by the child in its own mount namespace
  std::vector<int> layer_fds;  // one per spec->rootfs_layers (sized by the parent), child-opened
  std::vector<PlannedVolume> volumes;
  std::vector<char*> init_argv;  // "cgprof-init", "--", the command; NULL-terminated
  std::vector<char*> envp;  // NULL-terminated
  std::vector<std::string> env_storage;
  std::string path_env;  // PATH used to find argv[0] inside the rootfs
  std::string cwd_rel;   // cwd without leading '/'
  bool user_namespace = false;
  bool can_setgroups = true;  // false with a single-id map (setgroups is "deny")
  bool real_root = true;      // mknod allowed; else device nodes are bind-mounted from the host
  std::vector<std::uint8_t> seccomp_bpf;          // sock_filter[]; empty = unconfined
  std::string hosts, hostname_file, resolv_conf;  // generated /etc files
  int sync_fd = -1;    // read end: parent writes 'G' once maps/cgroup are in place
  int report_fd = -1;  // write end: setup/exec messages; cgprof-init gets it as fd 3
  int status_fd = -1;  // write end: the workload's final status; cgprof-init gets it as fd 4
  int init_image_fd = -1;  // the sealed memfd holding cgprof-init (init_image_fd())
  int parent_pidfd = -1;
  // Placed by writing cgroup.procs after the clone (cgroup v1, or v2 without
  // CLONE_INTO_CGROUP): the child was cloned without CLONE_NEWCGROUP and creates its cgroup
  // namespace after the go, so that the namespace's root is the run's cgroup, as runc does.
  bool unshare_cgroupns = false;
  // cgroup v1 hierarchies ("cpu,cpuacct", "memory", ...) shown read-only under /sys/fs/cgroup
  // in the container, each rooted at the run's cgroup (docker's view on a v1 host).
  std::vector<std::string> cgroup_v1_hierarchies;
  int stdout_fd = -1, stderr_fd = -1;  // LaunchOptions: dup'ed onto 1 and 2 before the exec
  std::string mark_fifo;               // LaunchOptions: bound read-only at kMarkDevPath
  int mark_fifo_fd = -1;               // O_PATH, opened by the child (as volumes are)
};

// Runs in the cloned child (PID 1 of the new pid namespace), on its own copy of the plan (it
// only fills in fds): sets the container up and execs cgprof-init. Never returns.
[[noreturn]] void run_container_child(LaunchPlan& plan);

// The sealed memfd holding cgprof-init, created on first use and kept for the process's life.
// Throws Error when memfds cannot be made.
int init_image_fd();

// Child-side helpers (rootfs_setup.cpp). Return 0 or fill msg (kSetupFailed) and return -1.
int setup_rootfs(LaunchPlan& plan, ChildMsg* msg, bool* used_overlay);
void child_fail_msg(ChildMsg* msg, const char* what, const char* path, int err);

}  // namespace cgprof::sandbox
