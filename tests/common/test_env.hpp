// Small helpers shared by test executables of several modules.
#pragma once

#include <cstdlib>
#include <string>

namespace cgprof::testing_util {

// The environment variable's value, "" when unset (the VM harness passes paths this way).
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace cgprof::testing_util
