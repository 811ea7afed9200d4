// The checks escape-probe makes (tests/escape/escape_probe.cpp); each must report "held: NAME".
// Shared by the host runner (tests/escape/) and the VM runner (tests/vm/sandbox/).
#pragma once

namespace escape {

inline const char* const kChecks[] = {
    "own-fds-only-0-2",      "other-processes-fds",       "host-file-read",
    "host-file-create",      "caller-env-and-argv",       "init-seccomp-nnp-caps",
    "init-not-dumpable",     "forge-status-through-init", "ptrace-and-process_vm",
    "pidfd_getfd",           "af_vsock",                  "personality",
    "keyctl",                "unshare-userns",            "mount",
    "cgroup-files-read-only",
};
inline constexpr int kProbeExit = 3;  // what the probe exits with when nothing escaped

}  // namespace escape
