#!/usr/bin/env python3
"""Layers shared between images are stored once and stacked with overlayfs by `cgprof run`, as
root and as the rootless test users (cgprof-test: an /etc/subuid range; cgprof-test1: none):
the base layer of two images exists once and is not unpacked again; inside the container a file
deleted by an upper layer is absent, an opaque directory hides the lower content, a hardlink to a
lower file is the same file, overlay xattrs from the image are ignored; writes never reach the
store; `image ls` tells shared from unique bytes; prune keeps the layers a remaining image uses.

Usage: layers_test.py CGPROF_BINARY   (as root: it creates the users as the sandbox tests do)"""
import fcntl
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, finish, run, sha256, tar_bytes, tree_lines  # noqa: E402
from rootless_test import BUSYBOX, SINGLE_USER, SUBUID_USER, User, users_workdir  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])

# Runs in image A: what must be seen, one line each.
PROBE = ("test -e /data/gone && echo gone-visible || echo gone-absent; cat /data/keep; echo; "
         "ls /opq | tr '\\n' ' '; echo; ls /redo | tr '\\n' ' '; echo; "
         "ls /xattr | tr '\\n' ' '; echo; "
         "cat /hl; echo; [ $(stat -c %i /hl) = $(stat -c %i /big) ] && echo same-inode; "
         "echo changed > /data/keep && rm /big && echo wrote")
WANT = ["gone-absent", "k", "new", "new", "lower1 upper1", "big", "same-inode", "wrote"]


def build(path):
    bb = open(BUSYBOX, "rb").read()
    base = [{"name": "bin/", "type": "d"}, {"name": "bin/busybox", "data": bb, "mode": 0o755}]
    base += [{"name": "bin/" + n, "type": "l", "linkname": "busybox"}
             for n in ("sh", "cat", "ls", "stat", "tr", "rm", "echo", "test", "[")]
    base += [{"name": "data/", "type": "d"}, {"name": "data/gone", "data": b"g"},
             {"name": "data/keep", "data": b"k"}, {"name": "big", "data": b"big"},
             {"name": "opq/", "type": "d"}, {"name": "opq/old", "data": b"o"},
             {"name": "opq/sub/", "type": "d"}, {"name": "opq/sub/old2", "data": b"o"},
             {"name": "redo/", "type": "d"}, {"name": "redo/old", "data": b"o"},
             {"name": "xattr/", "type": "d"}, {"name": "xattr/lower1", "data": b"l"}]
    # Upper layer of A: a whiteout, an opaque directory, a directory deleted and made again (an
    # opaque directory in the stored layer), a hardlink to a lower file, and overlay xattrs that
    # would make /xattr opaque if they reached the disk.
    a_top = [{"name": "data/.wh.gone"}, {"name": ".wh.redo"},
             {"name": "redo/", "type": "d"}, {"name": "redo/new", "data": b"n"},
             {"name": "opq/", "type": "d"}, {"name": "opq/.wh..wh..opq"}, {"name": "opq/new", "data": b"n"},
             {"name": "hl", "type": "h", "linkname": "big"},
             {"name": "xattr/", "type": "d", "pax": {"SCHILY.xattr.user.overlay.opaque": "y",
                                                     "SCHILY.xattr.trusted.overlay.opaque": "y"}},
             {"name": "xattr/upper1", "data": b"u"}]
    b_top = [{"name": "only-b", "data": b"b"}]
    lay = Layout(path)
    lay.image([tar_bytes(base), tar_bytes(a_top)], tag="a")
    lay.image([tar_bytes(base), tar_bytes(b_top)], tag="b")
    # OCI ChainIDs of A's layers (the store's layer names): DiffID, then sha256(lower + " " + DiffID).
    d1, d2 = sha256(tar_bytes(base)), sha256(tar_bytes(a_top))
    return path + ":a", path + ":b", [sha256((d1 + " " + d2).encode())[7:], d1[7:]]  # top first


def snapshot(dirs):
    return {d: tree_lines(d) for d in dirs}


def scenario(what, cg, store, a, b, chain_a):
    r = cg("image", "prepare", a)
    la = r.stdout.split()
    if not check(r.returncode == 0 and len(la) == 2, what + ": image A stored as 2 layers",
                 r.stdout + r.stderr):
        return
    base = la[-1]
    names = [os.path.basename(os.path.dirname(l)) for l in la]
    check(all(n.startswith(c) for n, c in zip(names, chain_a)),
          what + ": layers are named by their OCI ChainID", str(names))
    ino = os.stat(base).st_ino
    r = cg("image", "prepare", b)
    lb = r.stdout.split()
    check(r.returncode == 0 and len(lb) == 2 and lb[-1] == base and os.stat(base).st_ino == ino
          and len(os.listdir(store + "/layers")) == 3,
          what + ": the shared base layer is stored once and not unpacked again",
          r.stdout + r.stderr + str(os.listdir(store + "/layers")))
    before = snapshot(set(la + lb))
    r = cg("run", "-q", "--no-cgroup", a, "/bin/sh", "-c", PROBE)
    got = r.stdout.split("\n")
    check(r.returncode == 0 and [g.strip() for g in got[:len(WANT)]] == WANT,
          what + ": whiteout, opaque dir, hardlink to a lower file, image overlay xattrs ignored",
          r.stdout + r.stderr)
    if what == "root":  # container root is root's subordinate range: the cache is not its to read
        r = cg("run", "-q", "--no-cgroup", "--userns", "private", a, "/bin/sh", "-c", PROBE)
        # Which refusal depends on whether root has an /etc/subuid range yet (the escape suite,
        # running at the same time, may add one): either way one line, never root mapped to root.
        check(r.returncode == 125 and ("--rootless as root cannot run an image" in r.stderr
                                       or "needs a subordinate id range for root" in r.stderr)
              and r.stderr.count("\n") == 1,
              what + ": --userns private as root refuses a cached image in one line", r.stdout + r.stderr)
    r = cg("run", "-q", "--no-cgroup", b, "/bin/sh", "-c", "cat /data/gone /only-b; ls /hl 2>&1; true")
    check(r.returncode == 0 and r.stdout.startswith("gb") and "No such file" in r.stdout,
          what + ": image B sees the base unchanged and none of A's layer", r.stdout + r.stderr)
    check(snapshot(before) == before, what + ": runs leave the stored layers unchanged")
    r = cg("run", "-q", "--no-cgroup", a, "/bin/cat", "/data/keep", "/big")
    check(r.stdout == "kbig", what + ": a write in one run is gone in the next", r.stdout + r.stderr)

    ls = json.loads(cg("image", "ls", "--json").stdout)
    by = {e["source"]: e for e in ls}
    check(len(ls) == 2 and all(e["layers"] == 2 and 0 < e["unique_bytes"] < e["bytes"] for e in ls),
          what + ": ls --json: 2 layers each, unique bytes below the total (the base is shared)",
          json.dumps(ls))
    # A run holds image A: prune removes B and its own layer, keeps A's two.
    lockf = open(store + "/locks/%s.lock" % by[a]["key"], "r+")
    fcntl.flock(lockf, fcntl.LOCK_SH)
    r = cg("image", "prune")
    left = sorted(os.path.join(store, "layers", d, "diff") for d in os.listdir(store + "/layers"))
    check(r.returncode == 0 and "1 image(s) removed, 1 unused layer(s) removed" in r.stdout
          and left == sorted(la), what + ": prune keeps the layers of an image in use",
          r.stdout + r.stderr + str(left))
    fcntl.flock(lockf, fcntl.LOCK_UN)
    lockf.close()
    r = cg("image", "prune")
    check(r.returncode == 0 and "1 image(s) removed, 2 unused layer(s) removed" in r.stdout
          and not os.listdir(store + "/layers") and not os.listdir(store + "/tmp"),
          what + ": then prune removes the rest", r.stdout + r.stderr)


def concurrent(work, a, b):
    """Two images sharing a base, prepared at once: the base is unpacked by one of them."""
    env = dict(os.environ, CGPROF_CACHE_DIR=work + "/concurrent")
    procs = [subprocess.Popen([CGPROF, "image", "prepare", i], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in (a, b)]
    outs = [p.communicate() + (p.returncode,) for p in procs]
    check(all(o[2] == 0 for o in outs) and outs[0][0].split()[-1] == outs[1][0].split()[-1]
          and len(os.listdir(work + "/concurrent/layers")) == 3
          and not os.listdir(work + "/concurrent/tmp"),
          "two images sharing a base prepared at once: both succeed, the base stored once",
          repr(outs))


def too_many_layers(work):
    """Past kMaxStackedLayers (128) an image is stored flat, and runs on that tree."""
    bb = open(BUSYBOX, "rb").read()
    layers = [tar_bytes([{"name": "bin/", "type": "d"}, {"name": "bin/busybox", "data": bb, "mode": 0o755},
                         {"name": "bin/ls", "type": "l", "linkname": "busybox"}])]
    layers += [tar_bytes([{"name": "l/%03d" % i, "data": b"x"}]) for i in range(1, 129)]
    layers.append(tar_bytes([{"name": "l/.wh.005"}]))
    lay = Layout(work + "/many")
    lay.image(layers)
    env = dict(os.environ, CGPROF_CACHE_DIR=work + "/many-cache")
    r = run([CGPROF, "image", "prepare", lay.path], env=env, check=False)
    out = r.stdout.split()
    check(r.returncode == 0 and len(out) == 1 and out[0].endswith("/rootfs")
          and out[0].startswith(work + "/many-cache/images/")
          and not os.listdir(work + "/many-cache/layers"),
          "130 layers: stored as one flat tree", r.stdout + r.stderr)
    r = run([CGPROF, "run", "-q", "--no-cgroup", lay.path, "/bin/ls", "/l"], env=env, check=False)
    names = r.stdout.split()
    check(r.returncode == 0 and len(names) == 127 and "005" not in names,
          "130 layers: a run sees the flat tree", r.stdout[-200:] + r.stderr)
    ls = json.loads(run([CGPROF, "image", "ls", "--json"], env=env).stdout)
    check(len(ls) == 1 and ls[0]["layers"] == 0 and ls[0]["bytes"] == ls[0]["unique_bytes"] > 0,
          "130 layers: ls shows a flat entry", json.dumps(ls))


def overlay_unavailable(work, a):
    """A store where overlayfs cannot stack layers (its filesystem is itself an overlay, which
    overlayfs refuses as an upper): the image is stored flat, with a notice, and runs."""
    d = work + "/ovl"
    for sub in ("lower", "upper", "work", "mnt"):
        os.makedirs(d + "/" + sub)
    run(["mount", "-t", "overlay", "overlay", "-o",
         "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work" % (d, d, d), d + "/mnt"])
    try:
        env = dict(os.environ, CGPROF_CACHE_DIR=d + "/mnt/cache")
        r = run([CGPROF, "image", "prepare", a], env=env, check=False)
        out = r.stdout.split()
        check(r.returncode == 0 and len(out) == 1 and out[0].endswith("/rootfs")
              and "as one flat tree" in r.stderr and not os.listdir(d + "/mnt/cache/layers")
              and not os.listdir(d + "/mnt/cache/tmp"),
              "overlayfs unavailable to the store: stored flat, with a notice, before any work",
              r.stdout + r.stderr + str(os.listdir(d + "/mnt/cache/layers")))
        r = run([CGPROF, "run", "-q", "--no-cgroup", a, "/bin/sh", "-c", PROBE], env=env, check=False)
        check(r.returncode == 0 and [g.strip() for g in r.stdout.split("\n")[:len(WANT)]] == WANT,
              "overlayfs unavailable to the store: a run sees the same tree", r.stdout + r.stderr)
    finally:
        run(["umount", d + "/mnt"], check=False)


def main():
    work = users_workdir("cgprof-layers-")
    try:
        a, b, chain_a = build(work + "/img")
        env = dict(os.environ, CGPROF_CACHE_DIR=work + "/cache")
        scenario("root", lambda *args: run([CGPROF] + list(args), env=env, check=False),
                 work + "/cache", a, b, chain_a)
        concurrent(work, a, b)
        too_many_layers(work)
        overlay_unavailable(work, a)
        for name in (SUBUID_USER, SINGLE_USER):
            u = User(work, name)
            scenario(name, u.cgprof, u.store, a, b, chain_a)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
