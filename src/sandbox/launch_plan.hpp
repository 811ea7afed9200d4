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

namespace cgprof::sandbox {

// Child -> parent messages on the report pipe (and init -> parent on the status pipe).
// Smaller than PIPE_BUF, so each write is atomic.
struct ChildMsg {
  enum Kind : std::int32_t { kAboutToExec = 1, kExecFailed = 2, kSetupFailed = 3, kExited = 4 };
  std::int32_t kind = 0;
  std::int32_t code = 0;    // exit code (setup/exec failure) or si_code (exited)
  std::int32_t value = 0;   // errno (failures) or si_status (exited)
  std::int32_t notice = 0;  // bit 0: overlay unavailable, read-only fallback used
  std::int64_t ts_ns = 0;   // CLOCK_MONOTONIC
  char text[488] = {};
};

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
  std::vector<char*> argv;  // NULL-terminated, point into spec strings
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
  int report_fd = -1;  // write end: setup/exec messages, closed by a successful execve
  int status_fd = -1;  // write end: the workload's final status, from init
  int parent_pidfd = -1;
};

// Runs in the cloned child (PID 1 of the new pid namespace), on its own copy of the plan (it
// only fills in fds). Never returns.
[[noreturn]] void run_container_init(LaunchPlan& plan);

// Child-side helpers (rootfs_setup.cpp). Return 0 or fill msg (kSetupFailed) and return -1.
int setup_rootfs(LaunchPlan& plan, ChildMsg* msg, bool* used_overlay);
void child_fail_msg(ChildMsg* msg, const char* what, const char* path, int err);

// Writes "lowerdir=/proc/self/fd/A:/proc/self/fd/B..." (fds top first) into buf without
// allocating. Returns its length, or -1 when it does not fit. Also used by the image store.
int format_overlay_lowerdir(char* buf, size_t size, const int* fds, size_t n);

}  // namespace cgprof::sandbox
