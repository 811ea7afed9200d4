#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

TEST(ExitStatus, DockerValues) {
  EXPECT_EQ(exit_status_from_wait(CLD_EXITED, 0).exit_code(), 0);
  EXPECT_EQ(exit_status_from_wait(CLD_EXITED, 3).exit_code(), 3);
  ExitStatus killed = exit_status_from_wait(CLD_KILLED, SIGKILL);
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.exit_code(), 137);
  EXPECT_EQ(exit_status_from_wait(CLD_DUMPED, SIGSEGV).exit_code(), 139);
  EXPECT_EQ(exit_status_from_wait(CLD_KILLED, SIGTERM).exit_code(), 143);
}

TEST(ExitStatus, ExecErrnos) {
  EXPECT_EQ(exit_code_for_exec_errno(ENOENT), 127);
  EXPECT_EQ(exit_code_for_exec_errno(ENOTDIR), 127);
  EXPECT_EQ(exit_code_for_exec_errno(EACCES), 126);
  EXPECT_EQ(exit_code_for_exec_errno(ENOEXEC), 126);
  EXPECT_EQ(exit_code_for_exec_errno(EISDIR), 126);
}

}  // namespace
}  // namespace cgprof::sandbox
