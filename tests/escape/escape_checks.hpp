// What the escape runners share (tests/escape/ on the host, tests/vm/sandbox/ in the VM): the
// checks escape-probe makes, the bait each run gets, the probe's arguments and the verdict.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace escape {

// Every check the probe makes; each must report "held: NAME".
inline const char* const kChecks[] = {
    "own-fds-only-0-2",      "other-processes-fds",       "host-file-read",
    "host-file-create",      "caller-env-and-argv",       "init-seccomp-nnp-caps",
    "init-not-dumpable",     "forge-status-through-init", "ptrace-and-process_vm",
    "pidfd_getfd",           "af_vsock",                  "personality",
    "keyctl",                "unshare-userns",            "mount",
    "cgroup-files-read-only",
};
inline constexpr int kProbeExit = 3;  // what the probe exits with when nothing escaped

// The secret and where it lies: a random token in `dir` (a fresh directory every test user may
// write, so a way out for an unprivileged cgprof would show) as "marker", in an empty env file
// named after it (which puts it into cgprof's argv), in cgprof's environment
// (CGPROF_ESCAPE_SECRET, for the runner to pass), and two fds a careless caller leaks: 7 (the
// marker) and 8 (its directory), without O_CLOEXEC. Removed again on destruction.
class Bait {
 public:
  explicit Bait(std::string dir) : dir_(std::move(dir)) {
    std::random_device rd;
    token_ = "cgprofsecret";
    for (int i = 0; i < 16; ++i) token_ += "0123456789abcdef"[rd() % 16];
    chmod(dir_.c_str(), 0777);
    std::ofstream(dir_ + "/marker") << token_ << "\n";
    chmod((dir_ + "/marker").c_str(), 0666);
    std::ofstream(env_file()) << "";
    int f = open((dir_ + "/marker").c_str(), O_RDWR);
    int d = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_EQ(dup2(f, 7), 7);
    EXPECT_EQ(dup2(d, 8), 8);
    close(f);
    close(d);
  }
  ~Bait() {
    close(7);
    close(8);
    for (const char* f : {"/marker", "/pwned"}) unlink((dir_ + f).c_str());
    unlink(env_file().c_str());
    rmdir(dir_.c_str());
  }
  Bait(const Bait&) = delete;
  Bait& operator=(const Bait&) = delete;

  const std::string& token() const { return token_; }
  std::string env_file() const { return dir_ + "/" + token_ + ".env"; }
  std::string secret_env() const { return "CGPROF_ESCAPE_SECRET=" + token_; }

  // The `cgprof run` arguments after the caller's own options: the probe's container settings,
  // the env file, and the probe (at probe_path inside the rootfs) with its arguments.
  std::vector<std::string> run_args(const std::string& probe_path) const {
    std::string reversed = token_;
    std::reverse(reversed.begin(), reversed.end());
    return {"--hostname", "escape-probe", "-e", "CGPROF_ESCAPE_PROBE=inside-a-container",
            "--env-file", env_file(), "--", probe_path, reversed, dir_,
            std::to_string(kProbeExit)};
  }

  // The verdict on one run: every check reported and held, the exit status is the probe's own,
  // and nothing was created on the host.
  void expect_all_held(const std::string& out, const std::string& err, int code) const {
    EXPECT_EQ(out.find("ESCAPE:"), std::string::npos) << out << err;
    for (const char* check : kChecks)
      EXPECT_NE(out.find(std::string("held: ") + check + "\n"), std::string::npos)
          << "the probe did not report " << check << " as held:\n" << out << err;
    EXPECT_EQ(code, kProbeExit) << out << err;
    EXPECT_EQ(access((dir_ + "/pwned").c_str(), F_OK), -1) << "the probe created a host file";
  }

 private:
  std::string dir_, token_;
};

// Gives root a subordinate id range (for --rootless as root) unless it has one, as the test
// harness does for its users.
inline void ensure_root_subid_range() {
  for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
    std::ifstream in(f);
    std::string line;
    bool has = false;
    while (std::getline(in, line)) has = has || line.rfind("root:", 0) == 0;
    in.close();
    if (!has) std::ofstream(f, std::ios::app) << "root:1000000:65536\n";
  }
}

}  // namespace escape
