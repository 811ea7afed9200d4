// Helpers for the `cgprof run` VM tests: a busybox rootfs with the static workloads, running
// $CGPROF_BIN with captured output, reading run.json, and finding leftover cgroups.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/common/test_env.hpp"

namespace cgprof_vm {

using cgprof::testing_util::env;

// Builds (once per process) a rootfs under /tmp with rootfs-tools/make-busybox-rootfs plus the
// workloads cpu-burn, mem-alloc, file-read, fork-heavy in /bin. Owned by the calling user.
const std::string& test_rootfs();

struct RunOut {
  int code = -1;  // exit code, or 128+signal
  std::string out, err;
};

// Runs $CGPROF_BIN ARGS... and waits.
RunOut cgprof(const std::vector<std::string>& args);

// The same as user and group UID (through /usr/bin/setpriv; the caller is root); UID 0: as the
// caller.
RunOut cgprof_as(uid_t uid, const std::vector<std::string>& args);

// Runs $CGPROF_BIN ARGS... with stdout and stderr on a pseudo-terminal; `out` is all it wrote.
RunOut cgprof_on_tty(const std::vector<std::string>& args);

// Starts $CGPROF_BIN ARGS... in the background (stdout/stderr to files); finish() waits.
class Background {
 public:
  // as_uid != 0: as that user and group (see cgprof_as).
  explicit Background(const std::vector<std::string>& args, uid_t as_uid = 0);
  ~Background();
  pid_t pid() const { return pid_; }
  // Waits (bounded: 120 s) until its stdout (or stderr) contains `text`; false if it never did.
  bool wait_for_output(const std::string& text, bool stderr_too = false) const;
  RunOut finish();

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

// A fresh directory name under /tmp for --output (not created).
std::string fresh_output_dir(const std::string& tag);

nlohmann::json read_run_json(const std::string& dir);

// Every directory named "cgprof" or below one, anywhere in /sys/fs/cgroup.
std::vector<std::string> leftover_cgroups();

}  // namespace cgprof_vm
