#!/usr/bin/env python3
"""`cgprof experiment` on the host's kernel, as root (v1 on a hybrid host, v2 on a pure one): the
cells run inside the experiment process (no child cgprof), relative paths resolve from the
experiment file's directory whatever the caller's working directory, a non-zero workload is
kept as failed, Ctrl-C stops the matrix with 130 and an interrupted run that the next
invocation redoes, finished runs are not redone, and a bad `cgprof run` option in the file stops
the experiment with the line `cgprof run` prints and exit 125.

Usage: experiment_test.py CGPROF_BINARY SOURCE_DIR"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CGPROF = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
failures = []


def check(cond, what, why=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else "\n     " + str(why)[-3000:]))
    if not cond:
        failures.append(what)
    return cond


def index(results):
    with open(results + "/index.json") as f:
        return json.load(f)


def write_matrix(base, sleep_cmd, run_args='["--rate", "100"]'):
    with open(base + "/m.toml", "w") as f:
        f.write('name = "host-matrix"\noutput = "results"\nrepeat = 2\nrun_args = %s\n' % run_args)
        f.write('[[workload]]\nname = "sleepy"\nrootfs = "rootfs"\ncommand = %s\n' % sleep_cmd)
        f.write('[[workload]]\nname = "fails"\nrootfs = "rootfs"\n'
                'command = ["/bin/sh", "-c", "exit 3"]\nlabels = { kind = "bad" }\n')


def children_exes(pid):
    """Executables of the processes whose parent is pid."""
    exes = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                exes.append(os.readlink("/proc/%s/exe" % p))
        except (OSError, IndexError, ValueError):
            pass
    return exes


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="cgprof-experiment-")
    elsewhere = tempfile.mkdtemp(prefix="cgprof-experiment-cwd-")
    try:
        base = work + "/exp"
        os.makedirs(base)
        subprocess.run([SRC + "/rootfs-tools/make-busybox-rootfs", base + "/rootfs"], check=True,
                       stdout=subprocess.DEVNULL)
        probe = subprocess.run([CGPROF, "run", "--rootfs", base + "/rootfs", "--output",
                                work + "/probe", "--", "/bin/true"], capture_output=True, text=True)
        if probe.returncode != 0:
            print("SKIP: cgprof run cannot make a cgroup here: " + probe.stderr.strip())
            sys.exit(77)
        write_matrix(base, '["/bin/sh", "-c", "sleep 2"]')
        results = base + "/results"

        # Interrupt the first run while it runs; from another working directory throughout.
        exp = subprocess.Popen([CGPROF, "experiment", base + "/m.toml"], cwd=elsewhere,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run_dir = results + "/sleepy/host/run-001"
        deadline = time.time() + 120
        seen = []
        while time.time() < deadline and not seen:
            time.sleep(0.1)
            seen = children_exes(exp.pid) if os.path.isdir(run_dir) else []
        check(seen and CGPROF not in seen and all(os.path.basename(e) != "cgprof" for e in seen),
              "the run is made by the experiment process itself (its children: %s)" % seen, seen)
        exp.send_signal(signal.SIGINT)
        out, err = exp.communicate(timeout=120)
        check(exp.returncode == 128 + signal.SIGINT, "Ctrl-C: the experiment exits 130",
              (exp.returncode, err))
        check("interrupted, rerun the same command to resume" in err, "it says how to resume", err)
        check("[1/4] sleepy on host, run 1/2" in err, "progress line as before", err)
        idx = index(results)
        check([r["state"] for r in idx["runs"]] == ["incomplete", "pending", "pending", "pending"],
              "index: the interrupted run is incomplete, the rest pending",
              [r["state"] for r in idx["runs"]])
        with open(run_dir + "/run.json") as f:
            check(json.load(f)["exit"]["interrupted"], "its run.json says interrupted")

        # Resume: redoes the interrupted run, makes the rest, keeps the failing workload.
        r = subprocess.run([CGPROF, "experiment", base + "/m.toml"], cwd=elsewhere,
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "the resumed experiment exits 0", r.stderr)
        check("4/4 runs complete (4 run now, 0 skipped as already complete, 2 with a non-zero "
              "workload exit)" in r.stderr, "summary line", r.stderr)
        check("[3/4] fails/host/run-001: workload exited with status 3 (kept; not rerun)"
              in r.stderr, "a failing workload is kept", r.stderr)
        idx = index(results)
        check([x["state"] for x in idx["runs"]] == ["done", "done", "failed", "failed"],
              "index after the resume", [x["state"] for x in idx["runs"]])
        for x in idx["runs"]:
            with open(results + "/" + x["id"] + "/run.json") as f:
                j = json.load(f)
            check(j["labels"]["workload"] == x["workload"], x["id"] + ": labels reach run.json")
            check(j["workload"]["rootfs"] == "rootfs",
                  x["id"] + ": the relative rootfs resolved from the file's directory",
                  j["workload"]["rootfs"])
        marker = results + "/sleepy/host/run-001/kept"
        open(marker, "w").close()
        r = subprocess.run([CGPROF, "experiment", base + "/m.toml"], cwd=elsewhere,
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0 and "0 run now, 4 skipped" in r.stderr and os.path.exists(marker),
              "a third invocation redoes nothing", r.stderr)

        # A bad option in run_args: the line `cgprof run` prints, then the experiment's error.
        shutil.rmtree(results)
        write_matrix(base, '["/bin/true"]', '["--rate", "100", "--no-such-option"]')
        r = subprocess.run([CGPROF, "experiment", base + "/m.toml"], cwd=elsewhere,
                           capture_output=True, text=True, timeout=120)
        direct = subprocess.run([CGPROF, "run", "--rate", "100", "--no-such-option", "--rootfs",
                                 base + "/rootfs", "--", "/bin/true"], capture_output=True,
                                text=True)
        check(r.returncode == 125, "a bad run option: exit 125", (r.returncode, r.stderr))
        check(direct.stderr.strip() in r.stderr,
              "the cell prints the line `cgprof run` prints", (direct.stderr, r.stderr))
        check("experiment: run sleepy/host/run-001 did not complete (exit status 125)" in r.stderr,
              "the experiment names the run", r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(elsewhere, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)


main()
