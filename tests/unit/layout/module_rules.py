#!/usr/bin/env python3
"""Checks the module rules of docs/ARCHITECTURE.md on the source tree (meson test `module-rules`).

- No module includes another module's private header (`#include "src/OTHER/..."`).
- A library module (and the CLI) includes only the public headers of the modules it may depend on;
  src/cli includes no cgroup, sampler or sandbox header.
- One owner per concern: the openat2 system call is made in src/common/sys.cpp only, and a file is
  renamed into place (rename(2)) only there; a directory rename elsewhere says so in a comment on
  the line before it.

- The run library (src/run) writes nothing on stderr or stdout: it tells its RunObserver, and the
  CLI prints (src/cli/run_output.cpp).
- No tracked file is larger than 1 MiB (benchmark output and images stay out of the repository;
  checked where SOURCE_ROOT is a git checkout).

Usage: module_rules.py SOURCE_ROOT. Prints each violation as FILE:LINE: what; exits 1 if any.
"""
import os
import re
import subprocess
import sys

MAX_TRACKED_BYTES = 1 << 20

# Public header -> module that implements it.
HEADER_MODULE = {
    "error": "common", "sys": "common", "units": "common", "clock": "common", "idmap": "common",
    "device": "device", "image": "image",
    "cgroup": "cgroup", "cgroup_v1": "cgroup", "cgroup_emulated": "cgroup", "stat_parsers": "cgroup",
    "sandbox": "sandbox", "signal_forwarder": "sandbox",
    "sampler": "sampler", "phases": "phases", "result": "result",
    "analysis": "analysis", "report": "report", "slurm": "report", "run": "run",
}
# What each module may include (besides itself). run sits on top of the library and may include
# every public header; cli only parses options and prints: it reaches the cgroup backends, the
# sampler and the sandbox through run.hpp only.
ALLOWED = {
    "common": set(),
    "device": {"common"},
    "image": {"common"},
    "cgroup": {"common", "device"},
    "sandbox": {"common", "cgroup"},
    "sampler": {"common", "cgroup"},
    "phases": {"common", "sampler", "cgroup"},
    "result": {"common", "cgroup", "sampler", "phases", "device"},
    "analysis": {"common", "result", "sampler", "cgroup", "phases", "device"},
    "report": {"common", "result", "analysis", "sampler", "cgroup", "phases", "device"},
    "cli": {"common", "device", "image", "result", "analysis", "report", "run"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def large_tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []  # not a git checkout (a release tarball): nothing to check
    problems = []
    for rel in out.decode("utf-8", "replace").split("\0"):
        path = os.path.join(root, rel)
        if rel and os.path.isfile(path) and os.path.getsize(path) > MAX_TRACKED_BYTES:
            problems.append(f"{rel}: {os.path.getsize(path)} bytes tracked; files over 1 MiB "
                            f"stay out of the repository (write them below an ignored directory)")
    return problems


def main(root):
    problems = []
    src = os.path.join(root, "src")
    for dirpath, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith((".cpp", ".hpp")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            module = rel.split(os.sep)[1]
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            for n, line in enumerate(lines, 1):
                m = INCLUDE.match(line)
                if m:
                    inc = m.group(1)
                    if inc.startswith("src/") and inc.split("/")[1] != module:
                        problems.append(f"{rel}:{n}: includes {inc}, a private header of "
                                        f"another module")
                    elif inc.startswith("cgprof/") and module in ALLOWED:
                        other = HEADER_MODULE.get(inc[len("cgprof/"):-len(".hpp")])
                        if other is None:
                            problems.append(f"{rel}:{n}: {inc} belongs to no module "
                                            f"(add it to HEADER_MODULE)")
                        elif other != module and other not in ALLOWED[module]:
                            problems.append(f"{rel}:{n}: module {module} includes {inc} of "
                                            f"module {other}, which it may not depend on")
                code = line.split("//")[0]
                if module == "run" and re.search(r"\b(stderr|stdout)\b|(?<!n)printf\s*\(|\bputs\s*\(|std::cerr|std::cout", code):
                    problems.append(f"{rel}:{n}: the run library prints (tell the RunObserver; "
                                    f"the CLI prints)")
                if "SYS_openat2" in code and rel != "src/common/sys.cpp":
                    problems.append(f"{rel}:{n}: openat2 called directly (use openat2_fd, "
                                    f"sys.hpp)")
                if re.search(r"(::|\b)rename\s*\(", code) and rel != "src/common/sys.cpp":
                    before = lines[n - 2] if n >= 2 else ""
                    if "Directory rename" not in before:
                        problems.append(f"{rel}:{n}: rename() outside write_file_atomic "
                                        f"(sys.hpp); a directory rename says so on the line "
                                        f"before (\"// Directory rename ...\")")
    problems += large_tracked_files(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} violation(s)" if problems else "module rules hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
