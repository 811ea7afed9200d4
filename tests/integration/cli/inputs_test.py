#!/usr/bin/env python3
"""Bad inputs fail fast with one line (docs/SECURITY.md "Bounded inputs", issue 12 points 8, 12
and 13), on the real kernel: FIFOs, devices and oversized files named as profiles, env files,
seccomp profiles, experiment files, run.json and samples.bin are refused without blocking;
run.json cannot point report outside its directory; every error is one line starting
"cgprof:" with exit 125, command-line parse errors included; sizes do not wrap; a newline in
--hostname is refused; control characters are escaped; filesystem errors name the path.

Usage: inputs_test.py CGPROF_BINARY DEVICE_PROFILE"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CGPROF = os.path.abspath(sys.argv[1])
PROFILE = sys.argv[2]  # a bundled device profile (configs/devices/rpi4.toml)
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
failures = []


def check(cond, what, why=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else ": " + why), flush=True)
    if not cond:
        failures.append(what)
    return cond


def cg(*args, timeout=30):
    """Runs cgprof; a hang (the bug this file guards against) is a failure, not a stuck test."""
    try:
        return subprocess.run([CGPROF] + list(args), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, b"", b"TIMEOUT (cgprof blocked)")


def one_line_error(r, what, must_name=None):
    """Exit 125 and exactly one stderr line 'cgprof: ...' (naming must_name if given)."""
    err = r.stderr.decode(errors="replace")
    lines = err.splitlines()
    good = (r.returncode == 125 and len(lines) == 1 and lines[0].startswith("cgprof: ")
            and "internal error" not in err and (must_name is None or must_name in err))
    return check(good, what, "exit %d, stderr %r" % (r.returncode, err))


def main():
    if not os.path.exists(BUSYBOX):
        print("SKIP: no static busybox")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="cgprof-inputs-")
    try:
        rootfs = os.path.join(work, "rootfs")
        os.makedirs(rootfs + "/bin")
        shutil.copy(BUSYBOX, rootfs + "/bin/busybox")
        for n in ["sh", "true", "echo", "hostname", "cat"]:
            os.symlink("busybox", rootfs + "/bin/" + n)
        fifo = os.path.join(work, "fifo")
        os.mkfifo(fifo)
        big = os.path.join(work, "big")
        with open(big, "wb") as f:  # sparse: its size is what counts, not its blocks
            f.truncate(65 << 20)
        base = ["run", "-q", "--no-cgroup", "--rootfs", rootfs]

        # ---- point 8: files a user names are regular and bounded; opened without blocking ----
        for path, kind in [("/dev/zero", "character device"), (fifo, "FIFO")]:
            one_line_error(cg("devices", "show", path),
                           "device profile %s: refused (%s)" % (path, kind), path)
            one_line_error(cg(*base[:2], "--device", path, "--rootfs", rootfs, "true"),
                           "run --device %s: refused (%s)" % (path, kind), path)
            one_line_error(cg(*base, "--env-file", path, "true"),
                           "--env-file %s: refused (%s)" % (path, kind), path)
            one_line_error(cg(*base, "--security-opt", "seccomp=" + path, "true"),
                           "--security-opt seccomp=%s: refused (%s)" % (path, kind), path)
            one_line_error(cg("experiment", path), "experiment %s: refused (%s)" % (path, kind), path)
        r = cg(*base, "--env-file", big, "true")
        one_line_error(r, "--env-file of 65 MiB: over the size cap", "limit")
        one_line_error(cg("devices", "show", big), "a device profile of 65 MiB: over the size cap",
                       "limit")

        # A result directory (run.json as cgprof writes it, reduced to what the reader needs:
        # a profiled run needs a cgroup, which this host may not give), then made hostile.
        out = os.path.join(work, "res")
        os.makedirs(out)
        doc = {"schema": "cgprof.run/1", "run_id": "x",
               "workload": {"command": ["/bin/echo", "x\x1b]0;title\x07"]},
               "exit": {"status": 0, "exit_code": 0}, "wall_seconds": 1.0,
               "totals": {"cpu": {}, "memory": {}, "io": {}, "pids": {}},
               "sampler": {"samples_file": "samples.bin"}}
        json.dump(doc, open(out + "/run.json", "w"))
        r = cg("report", out)
        check(r.returncode == 0 and b"\x1b" not in r.stdout and b"\\e]0;title\\x07" in r.stdout,
              "report reads the result; its text summary escapes control characters of the command",
              repr(r.stdout[:400]) + repr(r.stderr))
        doc.setdefault("sampler", {})["samples_file"] = "../outside.bin"
        hostile = os.path.join(work, "hostile")
        os.makedirs(hostile)
        json.dump(doc, open(hostile + "/run.json", "w"))
        one_line_error(cg("report", hostile), "run.json samples_file outside the result dir: refused",
                       "samples_file")
        doc["sampler"]["samples_file"] = "samples.bin"
        json.dump(doc, open(hostile + "/run.json", "w"))
        os.mkfifo(hostile + "/samples.bin")
        one_line_error(cg("report", hostile), "samples.bin as a FIFO: refused, not read forever",
                       "samples.bin")
        os.unlink(hostile + "/samples.bin")
        os.symlink("/etc/passwd", hostile + "/samples.bin")
        one_line_error(cg("report", hostile), "samples.bin as a symlink: not followed", "samples.bin")
        os.unlink(hostile + "/samples.bin")
        os.unlink(hostile + "/run.json")
        os.mkfifo(hostile + "/run.json")
        one_line_error(cg("report", hostile), "run.json as a FIFO: refused", "run.json")
        os.unlink(hostile + "/run.json")
        with open(hostile + "/run.json", "wb") as f:
            f.truncate(65 << 20)
        one_line_error(cg("report", hostile), "run.json of 65 MiB: over the size cap", "run.json")

        # ---- point 12: one line, exit 125, for every kind of error ----
        one_line_error(cg(*base, "--rate", "abc", "true"), "--rate abc: one line (CLI parse error)",
                       "--rate")
        one_line_error(cg("run", "--no-such-option"), "unknown option: one line", "--no-such-option")
        one_line_error(cg("frobnicate"), "unknown subcommand: one line")
        one_line_error(cg("devices", "show", "rpi4", "-m", "10000000000000000000"),
                       "-m 10000000000000000000: refused, not rounded to 2^63", "--memory")
        r = cg(*base, "--hostname", "x\n127.0.0.1 evil", "true")
        one_line_error(r, "--hostname with a newline: refused", "--hostname")
        check(b"\\n" in r.stderr, "the newline is shown escaped", repr(r.stderr))
        r = cg(*base, "--hostname", "ok-name", "hostname")
        check(r.returncode == 0 and r.stdout.strip() == b"ok-name", "a valid --hostname works",
              repr(r.stdout) + repr(r.stderr))
        r = cg(*base, "--label", "k=\x1b[2Jx", "true")
        one_line_error(r, "--label with an escape sequence: refused in one line")
        check(b"\x1b" not in r.stderr and b"\\e[2J" in r.stderr,
              "control characters are escaped in the message", repr(r.stderr))

        # An experiment: a device file named "...toml" cannot make ".." an output directory,
        # and a filesystem error names its path instead of "internal error".
        shutil.copy(PROFILE, work + "/...toml")
        exp = work + "/exp.toml"
        open(exp, "w").write('devices = ["%s/...toml"]\n[[workload]]\nname = "w"\nrootfs = "%s"\n'
                             'command = ["true"]\n' % (work, rootfs))
        r = cg("experiment", exp, "-o", work + "/expout", "--dry-run")
        cmds = r.stdout.decode()
        check(r.returncode == 0 and "/expout/w/_./run-001" in cmds and "/../" not in cmds,
              "device file ...toml: results in w/_./, never ..", cmds + r.stderr.decode())
        open(work + "/afile", "w").write("x")
        one_line_error(cg("experiment", exp, "-o", work + "/afile/sub"),
                       "output under a regular file: one line naming the path, no internal error",
                       work + "/afile")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
