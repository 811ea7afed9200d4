// Small cgroupfs helpers for the harness's own VM tests (the cgroup module has the real ones).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <sstream>
#include <string>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::vmtest {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

inline std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

// The controllers listed in DIR/cgroup.controllers (or another list file of the same format).
inline std::set<std::string> controllers(const std::string& dir,
                                         const std::string& file = "cgroup.controllers") {
  return words(read_file(dir + "/" + file));
}

// Absolute cgroupfs path of this process's cgroup, from the v2 line "0::/path" of
// /proc/self/cgroup.
inline std::string own_cgroup() {
  std::istringstream in(read_file("/proc/self/cgroup"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) == 0) return std::string(kCgroupRoot) + line.substr(3);
  }
  throw Error("/proc/self/cgroup: no cgroup v2 line \"0::/...\"");
}

// A cgroup directory that is removed again, whatever the test does in between.
class ScopedCgroup {
 public:
  explicit ScopedCgroup(std::string path) : path_(std::move(path)) {
    if (::mkdir(path_.c_str(), 0755) != 0) throw_errno("mkdir", path_);
  }
  ScopedCgroup(const ScopedCgroup&) = delete;
  ScopedCgroup& operator=(const ScopedCgroup&) = delete;
  ~ScopedCgroup() {
    // Never kill ourselves: a test that failed halfway may still sit inside.
    try {
      std::string own = own_cgroup();
      if (own == path_ || own.rfind(path_ + "/", 0) == 0) {
        write_file_at(AT_FDCWD, path_.substr(0, path_.rfind('/')) + "/cgroup.procs", "0");
      }
    } catch (const Error&) {
      return;  // left behind; the VM suite reports cgroups left behind
    }
    if (::access((path_ + "/cgroup.kill").c_str(), W_OK) == 0) {
      try {
        write_file_at(AT_FDCWD, path_ + "/cgroup.kill", "1");
      } catch (const Error&) {
        // Nothing to kill; rmdir below reports what is left.
      }
    }
    // Killed tasks leave the cgroup asynchronously; retry briefly before giving up.
    for (int i = 0; i < 200 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10000);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace cgprof::vmtest
