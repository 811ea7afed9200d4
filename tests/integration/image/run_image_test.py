#!/usr/bin/env python3
"""`cgprof run IMAGE`: the image config is honoured as docker does (Entrypoint + Cmd, arguments
replace Cmd, --entrypoint, Env/WorkingDir/User with -e/-w/-u overriding), the second run is a
cache hit, and a run never modifies the cached rootfs.

Usage: run_image_test.py CGPROF_BINARY"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, finish, run, tar_bytes, tree_lines  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def main():
    if not os.path.exists(BUSYBOX):
        print("SKIP: no static busybox")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="cgprof-runimg-")
    env = dict(os.environ, CGPROF_CACHE_DIR=work + "/cache")
    try:
        ents = [{"name": "bin/", "type": "d"},
                {"name": "bin/busybox", "data": open(BUSYBOX, "rb").read(), "mode": 0o755},
                {"name": "etc/", "type": "d"},
                {"name": "etc/passwd", "data": b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"},
                {"name": "etc/group", "data": b"root:x:0:\napp:x:1000:\n"}]
        for n in ["sh", "echo", "cat", "id", "pwd", "rm", "touch"]:
            ents.append({"name": "bin/" + n, "type": "l", "linkname": "busybox"})
        lay = Layout(work + "/img")
        cfg = {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo from-cmd $FOO; pwd; id -u"],
               "Env": ["PATH=/bin", "FOO=image-env"], "WorkingDir": "/srv", "User": "app"}
        lay.image([tar_bytes(ents)], config_extra={"config": cfg}, tag="v1")
        cfg2 = {"Entrypoint": ["/bin/echo", "ep"], "Cmd": ["default-arg"]}
        lay.image([tar_bytes(ents)], config_extra={"config": cfg2}, tag="ep")
        img, ep = lay.path + ":v1", lay.path + ":ep"

        def cg(*args):
            return run([CGPROF, "run", "-q", "--no-cgroup"] + list(args), env=env, check=False)

        r = cg(img)
        check(r.returncode == 0 and r.stdout.split() == ["from-cmd", "image-env", "/srv", "1000"],
              "Entrypoint + Cmd, Env, WorkingDir and User from the image", r.stdout + r.stderr)
        r = cg("-e", "FOO=cli", "-w", "/tmp", "-u", "0", img, "echo args $FOO; pwd; id -u")
        check(r.returncode == 0 and r.stdout.split() == ["args", "cli", "/tmp", "0"],
              "arguments replace Cmd; -e, -w, -u override the image", r.stdout + r.stderr)
        r = cg(ep)
        check(r.stdout.strip() == "ep default-arg", "exec-form Entrypoint with default Cmd", r.stdout + r.stderr)
        r = cg(ep, "x", "y")
        check(r.stdout.strip() == "ep x y", "arguments go after the Entrypoint", r.stdout + r.stderr)
        r = cg("--entrypoint", "/bin/echo", ep)
        check(r.returncode == 0 and r.stdout.strip() == "", "--entrypoint drops the image's Cmd", repr(r.stdout))
        r = cg("--entrypoint", "/bin/echo", ep, "z")
        check(r.stdout.strip() == "z", "--entrypoint with arguments", r.stdout + r.stderr)
        r = cg("--entrypoint", "", ep, "/bin/echo", "plain")
        check(r.stdout.strip() == "plain", "--entrypoint '' clears it", r.stdout + r.stderr)
        # The README's form `cgprof run IMAGE -- CMD`: the "--" separates, it is not the command.
        r = cg(ep, "--", "x", "--y")
        check(r.returncode == 0 and r.stdout.strip() == "ep x --y",
              "IMAGE -- ARGS: the -- is a separator, options after it are the command's",
              r.stdout + r.stderr)
        r = cg("--entrypoint", "", ep, "--", "/bin/echo", "-n", "dd")
        check(r.returncode == 0 and r.stdout == "dd", "IMAGE -- COMMAND with --entrypoint ''",
              repr(r.stdout) + r.stderr)
        r = cg(img, "exit 7")
        check(r.returncode == 7, "the workload's exit status is cgprof's", str(r.returncode))

        before = sorted(os.listdir(work + "/cache/layers"))
        snap = {k: tree_lines(work + "/cache/layers/%s/diff" % k) for k in before}
        r = cg("-u", "0", img, "rm /bin/echo; touch /new; echo done")
        check(r.returncode == 0 and r.stdout.strip() == "done", "a run may write its root", r.stderr)
        after = {k: tree_lines(work + "/cache/layers/%s/diff" % k) for k in before}
        check(len(before) == 1 and snap == after and len(snap[before[0]]) > 5,
              "the cached layer (one, shared by both images) is unchanged by runs", str(before))
        r = run([CGPROF, "run", "--no-cgroup", "/nonexistent-image"], env=env, check=False)
        check(r.returncode == 125 and "nonexistent-image" in r.stderr, "missing image: exit 125 naming it", r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
