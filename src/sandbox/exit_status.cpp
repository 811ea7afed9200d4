// Mapping of process outcomes to docker's exit codes.
#include <signal.h>

#include <cerrno>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {

ExitStatus exit_status_from_wait(int cld_code, int status_or_signal) {
  ExitStatus s;
  if (cld_code == CLD_EXITED) {
    s.code = status_or_signal;
  } else {
    s.signal = status_or_signal;
  }
  return s;
}

int exit_code_for_exec_errno(int err) {
  // runc/docker: a missing file (or a missing #! interpreter) is "not found", anything else that
  // stops execve (permissions, format, a directory) is "cannot execute".
  return err == ENOENT || err == ENOTDIR ? kExitNotFound : kExitCannotExecute;
}

const char* to_string(CgroupPlacement p) {
  switch (p) {
    case CgroupPlacement::kNone:
      return "none";
    case CgroupPlacement::kCloneIntoCgroup:
      return "clone3(CLONE_INTO_CGROUP)";
    case CgroupPlacement::kCgroupProcs:
      return "cgroup.procs";
  }
  return "?";
}

}  // namespace cgprof::sandbox
