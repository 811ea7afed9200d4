// Runs `cgprof run` as root or as an unprivileged user (setpriv), on the test rootfs.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace sandbox_test {

enum class Mode {
  kRoot,            // no user namespace
  kRootlessSubuid,  // unprivileged user with /etc/subuid entries: full id range via newuidmap
  kRootlessSingle,  // unprivileged user without: only itself mapped to 0
};
std::string mode_name(const ::testing::TestParamInfo<Mode>& info);

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Skips the current test when the mode cannot run here (e.g. root modes when not root).
bool mode_available(Mode m, std::string* why);
#define REQUIRE_MODE(m)                                                  \
  do {                                                                   \
    std::string why_;                                                    \
    if (!::sandbox_test::mode_available(m, &why_)) GTEST_SKIP() << why_; \
  } while (0)

// The rootfs this mode runs on (rootless users need a copy they own).
std::string rootfs(Mode m);
// Host uid the mode runs cgprof as.
uid_t host_uid(Mode m);

// cgprof run --rootfs ROOTFS ARGS... ; waits; captures output.
RunResult run(Mode m, const std::vector<std::string>& args,
              const std::vector<std::string>& extra_env = {});
// Same with an explicit argv after "cgprof" (for bad-rootfs cases).
RunResult run_raw(Mode m, const std::vector<std::string>& args_after_cgprof);

// A running cgprof, for signal tests.
class Running {
 public:
  Running(Mode m, const std::vector<std::string>& args);
  ~Running();
  pid_t pid() const { return pid_; }
  // Reads stdout until a line equal to `line` arrived (or 30 s passed): true if it did.
  bool wait_for_line(const std::string& line);
  RunResult finish();  // waits for exit, collects the rest of the output

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
  bool done_ = false;
  RunResult result_;
};

// A listing of the tree (path, type, mode, owner, size, mtime, content hash, link target).
std::string tree_digest(const std::string& dir);
// Pids of all descendants of pid on the host.
std::vector<pid_t> descendants(pid_t pid);
bool process_exists(pid_t pid);
std::string temp_dir();  // a fresh directory readable by every test user

}  // namespace sandbox_test
