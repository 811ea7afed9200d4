// The cgprof binary the build produced runs inside the VM, and the harness passes its environment.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cgprof_config.h"
#include "tests/common/test_env.hpp"

namespace {

using cgprof::testing_util::env;

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

TEST(VmHarness, PassesTheBuildEnvironment) {
  EXPECT_EQ(env("CGPROF_VM"), "1");
  EXPECT_TRUE(is_dir(env("CGPROF_BUILD_DIR"))) << "CGPROF_BUILD_DIR=" << env("CGPROF_BUILD_DIR");
  EXPECT_EQ(::access((env("CGPROF_SOURCE_DIR") + "/meson.build").c_str(), R_OK), 0)
      << "CGPROF_SOURCE_DIR=" << env("CGPROF_SOURCE_DIR");
  EXPECT_EQ(::access(env("CGPROF_BIN").c_str(), X_OK), 0) << "CGPROF_BIN=" << env("CGPROF_BIN");
}

TEST(VmHarness, ScratchDiskIsABlockDevice) {
  struct stat st {};
  ASSERT_EQ(::stat(env("CGPROF_VM_SCRATCH_DEV").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_TRUE(is_dir(env("CGPROF_VM_SCRATCH_DIR")));
}

TEST(VmHarness, CgprofVersionRunsInside) {
  std::string cmd = env("CGPROF_BIN") + " --version 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(out, "cgprof " CGPROF_VERSION "\n");
}

}  // namespace
