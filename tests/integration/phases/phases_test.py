#!/usr/bin/env python3
"""Phase marks on the host's kernel, as root: $CGPROF_MARK from a shell workload, --mark-regex
from its output (passed through unchanged), a flood of marks with bounded memory, the Python
helper, and what the container can do with the FIFO. Runs with --no-cgroup (the host has no
cgroup v2), so phases carry wall time only; run.json with CPU per phase is tested in the VM
(tests/vm/run/phases_vm_test.cpp).

Usage: phases_test.py CGPROF_BINARY SOURCE_DIR"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

CGPROF = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
failures = []


def check(cond, what, why=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else "\n     " + why[-3000:]))
    if not cond:
        failures.append(what)
    return cond


def cgprof(*args, rootfs):
    cmd = [CGPROF, "run", "--no-cgroup", "--rootfs", rootfs] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    # The largest resident set of any child so far (cgprof, and what it reaped).
    return r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN)


def phases(err):
    """{name: (count, wall total s, mean s)} from the terminal phase table."""
    unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
    rows = {}
    for m in re.finditer(r"^  (\S+?)\*? +(\d+) +([\d.]+) (s|ms|us) +([\d.]+) (s|ms|us) ", err, re.M):
        rows[m.group(1)] = (int(m.group(2)), float(m.group(3)) * unit[m.group(4)],
                            float(m.group(5)) * unit[m.group(6)])
    return rows


def marks_line(err):
    m = re.search(r"marks: (\d+) received, (\d+) dropped, (\d+) names truncated, (\d+) beyond", err)
    return tuple(int(x) for x in m.groups()) if m else None


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="cgprof-phases-")
    try:
        rootfs = work + "/rootfs"
        subprocess.run([SRC + "/rootfs-tools/make-busybox-rootfs", rootfs], check=True,
                       stdout=subprocess.DEVNULL)

        script = ('echo load > "$CGPROF_MARK"; sleep 0.3; '
                  'for i in 1 2 3 4 5; do echo infer > "$CGPROF_MARK"; sleep 0.2; done; '
                  'echo - > "$CGPROF_MARK"')
        code, out, err, _ = cgprof("--", "/bin/sh", "-c", script, rootfs=rootfs)
        p = phases(err)
        check(code == 0 and "load" in p and "infer" in p, "load and infer phases from $CGPROF_MARK",
              err)
        if "load" in p and "infer" in p:
            check(p["load"][0] == 1 and 0.25 <= p["load"][1] < 3, "load: once, ~0.3 s", str(p))
            check(p["infer"][0] == 5 and 0.15 <= p["infer"][2] < 2, "infer: 5 times, mean ~0.2 s",
                  str(p))
        check(marks_line(err) == (7, 0, 0, 0), "7 marks received, none dropped", err)

        lines = "hello\nPHASE load\n  PHASE not-at-start\nPHASE infer\nPHASE infer\nbye\n"
        code, out, err, _ = cgprof("--mark-regex", r"^PHASE (\w+)", "--", "/bin/sh", "-c",
                                   "printf '%s' '" + lines + "'; echo 'PHASE infer' >&2",
                                   rootfs=rootfs)
        p = phases(err)
        check(out == lines, "--mark-regex passes stdout through unchanged", repr(out))
        check(p.get("load", (0,))[0] == 1 and p.get("infer", (0,))[0] == 3,
              "--mark-regex '^PHASE (\\w+)': load once, infer 3 times (stdout and stderr)", err)
        check("not" not in p, "a line not matching the regex is no mark", err)

        # 200k marks over 50k names, plus a 10 KB line: a result, bounded memory.
        flood = ("awk 'BEGIN { for (i = 0; i < 200000; i++) print \"n\" (i % 50000) }' "
                 "> \"$CGPROF_MARK\"; head -c 10000 /dev/zero | tr '\\0' x > \"$CGPROF_MARK\"; "
                 "echo >> \"$CGPROF_MARK\"")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        code, out, err, usage = cgprof("--", "/bin/sh", "-c", flood, rootfs=rootfs)
        ml = marks_line(err)
        check(code == 0 and ml is not None and ml[0] + ml[1] == 200001,
              "200k marks over 50k names: every mark received or counted as dropped", err[-2000:])
        check(ml is not None and ml[2] == 1 and ml[3] > 0,
              "the 10 KB line is cut, names beyond the cap go to the overflow bucket", str(ml))
        check("(other names)" in err, "the overflow bucket is in the table", err[-2000:])
        rss_mb = usage.ru_maxrss / 1024
        check(rss_mb < 200, "cgprof stayed under 200 MB RSS (%.0f MB)" % rss_mb,
              "before %d KB" % before)

        # What the container can do with the FIFO: write marks, nothing to the inode or its dir.
        probe = ('m="$CGPROF_MARK"; '
                 'chmod 666 "$m" 2>/dev/null && echo CHMOD-OK; '
                 'chown 1:1 "$m" 2>/dev/null && echo CHOWN-OK; '
                 'touch -d 2001-01-01 "$m" 2>/dev/null && echo TOUCH-OK; '
                 'rm -f "$m" 2>/dev/null; [ -p "$m" ] || echo RM-OK; '
                 'ls "$m/.." >/dev/null 2>&1 && echo DOTDOT-OK; '
                 'mv "$m" /tmp/x 2>/dev/null && echo MV-OK; '
                 'ln "$m" /tmp/y 2>/dev/null && echo LINK-OK; '
                 'ln "$m" /dev/y 2>/dev/null && echo DEVLINK-OK; '
                 'grep -c " /dev/cgprof-mark ro," /proc/self/mountinfo; '
                 'echo probe > "$m"')
        code, out, err, _ = cgprof("-u", "1000", "--", "/bin/sh", "-c", probe, rootfs=rootfs)
        check(code == 0 and out.strip() == "1" and "probe" in phases(err),
              "as uid 1000 the workload can write marks to a read-only bind mount of the FIFO "
              "and cannot chmod, chown, touch, remove, move, link or climb out of it",
              out + err)
        code, out, err, _ = cgprof("--", "/bin/sh", "-c", probe, rootfs=rootfs)
        check(out.strip() == "1", "as container root, the same", out + err)
        code, out, err, _ = cgprof("--no-marks", "--", "/bin/sh", "-c",
                                   'echo "[$CGPROF_MARK]"; ls /dev/cgprof-mark 2>&1 | head -1',
                                   rootfs=rootfs)
        check(out.startswith("[]\n") and "No such file" in out and "phases" not in err,
              "--no-marks: no $CGPROF_MARK, no FIFO, no table", out + err)
        # A directory is named PID.RANDOM after the cgprof that made it; one whose cgprof is still
        # alive belongs to another run in progress (tests run in parallel), not to a leak.
        leftover = [d for d in os.listdir("/run/cgprof") if os.path.isdir("/run/cgprof/" + d)
                    and not os.path.exists("/proc/" + d.split(".")[0])] \
            if os.path.isdir("/run/cgprof") else []
        check(not leftover, "no FIFO directory left behind in /run/cgprof", str(leftover))

        # Rootless, without $XDG_RUNTIME_DIR: the FIFO is in /tmp/cgprof-UID, which the
        # container's scratch /tmp covers in its mount namespace; marks still arrive.
        os.chmod(work, 0o755)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                            "-u", "XDG_RUNTIME_DIR", "HOME=/tmp", CGPROF, "run", "--no-cgroup",
                            "--rootfs", rootfs, "--", "/bin/sh", "-c",
                            'echo rootless > "$CGPROF_MARK"'],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0 and phases(r.stderr).get("rootless", (0,))[0] == 1,
              "rootless (nobody, FIFO under /tmp/cgprof-65534): marks arrive", r.stderr)

        # The Python helper, with the host's python3 as the root file system.
        if shutil.which("python3"):
            app = work + "/app"
            os.mkdir(app)
            shutil.copy(SRC + "/rootfs-tools/python/cgprof_phase.py", app)
            with open(app + "/m.py", "w") as f:
                f.write("import time\nfrom cgprof_phase import cgprof_phase, mark, dropped\n"
                        "with cgprof_phase('load'):\n    time.sleep(0.1)\n"
                        "@cgprof_phase('step')\ndef step():\n    time.sleep(0.05)\n"
                        "for _ in range(3):\n    step()\n"
                        "print('dropped', dropped)\n")
            code, out, err, _ = cgprof("-v", app + ":/app:ro", "-w", "/app", "--",
                                       "python3", "m.py", rootfs="/")
            p = phases(err)
            check(code == 0 and out.strip() == "dropped 0" and p.get("load", (0,))[0] == 1 and
                  p.get("step", (0,))[0] == 3, "Python helper: with and decorator", out + err)
            # The README's example, as its "Profile your own model script" section runs it.
            shutil.copy(SRC + "/rootfs-tools/python/example_infer.py", app)
            code, out, err, _ = cgprof("-v", app + ":/app:ro", "-w", "/app", "--", "python3",
                                       "example_infer.py", "--inferences", "7", rootfs="/")
            p = phases(err)
            check(code == 0 and out.startswith("example-infer: inferences=7") and
                  p.get("load", (0,))[0] == 1 and p.get("infer", (0,))[0] == 7,
                  "the README's example script: load once, infer 7 times", out + err)
            r = subprocess.run(["python3", "m.py"], cwd=app, capture_output=True, text=True,
                               env={k: v for k, v in os.environ.items() if k != "CGPROF_MARK"})
            check(r.returncode == 0 and r.stdout.strip() == "dropped 0",
                  "Python helper: does nothing outside cgprof", r.stdout + r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
