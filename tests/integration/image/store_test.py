#!/usr/bin/env python3
"""The image store on the real filesystem: a second prepare is a cache hit, two concurrent
prepares unpack once, ls shows entries and their use, prune spares an entry a run holds and
removes the rest (images and layers) and leftovers of a killed unpack. Sharing layers between
images: layers_test.py.

Usage: store_test.py CGPROF_BINARY"""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, finish, run, tar_bytes  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])


def main():
    work = tempfile.mkdtemp(prefix="cgprof-store-")
    env = dict(os.environ, CGPROF_CACHE_DIR=work + "/cache")
    try:
        lay = Layout(work + "/img")
        big = [tar_bytes([{"name": "d%d/f%d" % (i, j), "data": os.urandom(4096) * 16}
                          for j in range(150)]) for i in range(6)]
        lay.image(big + [tar_bytes([{"name": "marker", "data": b"m"}])])

        # Two at once: exactly one unpacks, the other waits and uses the result.
        procs = [subprocess.Popen([CGPROF, "image", "prepare", lay.path], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [p.communicate() + (p.returncode,) for p in procs]
        paths = {o[0].split()[0] if o[0].split() else "" for o in outs}  # the top layer
        unpacked = sum("unpacked" in o[1] for o in outs)
        check(all(o[2] == 0 for o in outs) and len(paths) == 1 and unpacked == 1,
              "two concurrent prepares: both succeed, one unpacks, same rootfs", repr(outs))
        rootfs = paths.pop()
        check(rootfs.startswith(work + "/cache/layers/") and os.path.isfile(rootfs + "/marker")
              and len(os.listdir(work + "/cache/layers")) == 7
              and len(os.listdir(work + "/cache/images")) == 1,
              "7 layers published under layers/, the image under images/", rootfs)
        check(os.stat(work + "/cache").st_mode & 0o077 == 0, "store directory is private (0700)")
        ino = os.stat(rootfs).st_ino
        r = run([CGPROF, "image", "prepare", lay.path], env=env)
        check(r.stdout.split()[0] == rootfs and "unpacked" not in r.stderr and os.stat(rootfs).st_ino == ino,
              "second prepare is a cache hit (nothing unpacked)", r.stderr)
        check(os.listdir(work + "/cache/tmp") == [], "no temp dirs left after unpacking")

        ls = json.loads(run([CGPROF, "image", "ls", "--json"], env=env).stdout)
        check(len(ls) == 1 and ls[0]["source"] == lay.path and ls[0]["bytes"] > 6 * 150 * 65536
              and not ls[0]["in_use"], "ls --json lists the entry with its size", json.dumps(ls))
        table = run([CGPROF, "image", "ls"], env=env).stdout
        check(lay.path in table and "MiB" in table, "ls prints a table", table)

        # A run holds a shared lock on its entry: prune leaves it alone.
        key = ls[0]["key"]
        lockf = open(work + "/cache/locks/%s.lock" % key, "r+")
        fcntl.flock(lockf, fcntl.LOCK_SH)
        ls = json.loads(run([CGPROF, "image", "ls", "--json"], env=env).stdout)
        check(ls[0]["in_use"], "ls shows the entry in use while locked")
        r = run([CGPROF, "image", "prune"], env=env)
        check(os.path.isfile(rootfs + "/marker") and "0 image(s) removed" in r.stdout,
              "prune spares an image in use", r.stdout)
        fcntl.flock(lockf, fcntl.LOCK_UN)
        lockf.close()

        # A killed unpack leaves a temp dir; the next prepare still works, prune cleans it.
        lay2 = Layout(work + "/img2")
        lay2.image(big + big + [tar_bytes([{"name": "two", "data": b"2"}])])  # 6 layers shared
        p = subprocess.Popen([CGPROF, "image", "prepare", lay2.path], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline and not os.listdir(work + "/cache/tmp"):
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed_tmp = os.listdir(work + "/cache/tmp")
        r = run([CGPROF, "image", "prepare", lay2.path], env=env, check=False)
        check(r.returncode == 0 and os.path.isfile(r.stdout.split()[0] + "/two"),
              "prepare after a killed unpack succeeds", r.stderr)
        r = run([CGPROF, "image", "prune"], env=env)
        check("2 image(s) removed, 14 unused layer(s) removed" in r.stdout
              and os.listdir(work + "/cache/images") == [] and os.listdir(work + "/cache/layers") == []
              and os.listdir(work + "/cache/tmp") == [],
              "prune removes unused images and a killed unpack's leftovers (had %s)" % killed_tmp, r.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
