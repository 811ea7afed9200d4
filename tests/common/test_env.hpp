// Small helpers shared by test executables of several modules.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace cgprof::testing_util {

// The environment variable's value, "" when unset (the VM harness passes paths this way).
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// True if something exists at `path` (stat(2) succeeds, following a final symlink).
inline bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace cgprof::testing_util
