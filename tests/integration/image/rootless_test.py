#!/usr/bin/env python3
"""Rootless images, as the unprivileged users the sandbox tests use: cgprof-test (an /etc/subuid
range) and cgprof-test1 (none). `cgprof image unpack` and `cgprof run IMAGE` shift owners into
the range (a file of uid U in the image is the range's U-th id on disk, and U inside the
container), or keep them the caller's without a range; device nodes are skipped with one notice;
the store is in $XDG_CACHE_HOME; prune and a failed unpack remove shifted files.

Usage: rootless_test.py CGPROF_BINARY   (as root: it creates the users as the sandbox tests do)"""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, finish, run, tar_bytes  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SUBUID_USER, SINGLE_USER = "cgprof-test", "cgprof-test1"


def subid_start(path, user):
    for line in open(path):
        name, start, _ = line.strip().split(":")
        if name == user:
            return int(start)
    return None


def ensure_users():
    """The users of tests/integration/sandbox/harness.cpp, created the same way if missing."""
    for user, system in ((SUBUID_USER, False), (SINGLE_USER, True)):
        try:
            pwd.getpwnam(user)
        except KeyError:
            run(["useradd", "-M", "-s", "/usr/sbin/nologin"] + (["-r"] if system else []) + [user])
    for f in ("/etc/subuid", "/etc/subgid"):
        if subid_start(f, SUBUID_USER) is None:
            open(f, "a").write(SUBUID_USER + ":300000:65536\n")
        run(["sed", "-i", "/^%s:/d" % SINGLE_USER, f])


def image_entries():
    ents = [{"name": "bin/", "type": "d"},
            {"name": "bin/busybox", "data": open(BUSYBOX, "rb").read(), "mode": 0o755},
            {"name": "owned/", "type": "d"},
            {"name": "owned/u1000", "data": b"a", "uid": 1000, "gid": 1000},
            {"name": "owned/u33", "data": b"b", "uid": 33, "gid": 34},
            {"name": "owned/root", "data": b"c"},
            {"name": "owned/far", "data": b"d", "uid": 70000, "gid": 70000},
            {"name": "owned/setuid", "data": b"e", "mode": 0o4755},
            {"name": "home/app/", "type": "d", "uid": 1000, "gid": 1000, "mode": 0o700},
            {"name": "home/app/secret", "data": b"f", "uid": 1000, "gid": 1000, "mode": 0o600},
            {"name": "dev/", "type": "d"},
            {"name": "dev/null", "type": "c"}, {"name": "dev/zero", "type": "c"},
            {"name": "dev/sda", "type": "b"},
            {"name": "run/", "type": "d"}, {"name": "run/fifo", "type": "p"}]
    return ents + [{"name": "bin/" + n, "type": "l", "linkname": "busybox"} for n in ("sh", "stat")]


class User:
    def __init__(self, work, name):
        self.name, self.pw = name, pwd.getpwnam(name)
        self.home = os.path.join(work, name)
        os.makedirs(self.home + "/xdg")
        for d in (self.home, self.home + "/xdg"):
            os.chown(d, self.pw.pw_uid, self.pw.pw_gid)
        self.store = self.home + "/xdg/cgprof"
        self.env = {k: v for k, v in os.environ.items() if k != "CGPROF_CACHE_DIR"}
        self.env.update(HOME=self.home, XDG_CACHE_HOME=self.home + "/xdg", USER=name)

    def cgprof(self, *args):
        return run(["setpriv", "--reuid=" + self.name, "--regid=" + self.name, "--init-groups",
                    "--", CGPROF] + list(args), env=self.env, check=False, cwd=self.home)


def owners(root, rel):
    st = os.lstat(os.path.join(root, rel))
    return st.st_uid, st.st_gid


def check_unpack(u, img, want, what):
    """want: rel path -> (uid, gid) on the host."""
    out = u.home + "/unpacked"
    r = u.cgprof("image", "unpack", img, out)
    if not check(r.returncode == 0, what + ": unpack succeeds", r.stderr):
        return
    for rel, ids in want.items():
        check(owners(out, rel) == ids, "%s: %s owned by %s" % (what, rel, ids), str(owners(out, rel)))
    notices = [l for l in r.stderr.splitlines() if "device node" in l]
    check(len(notices) == 1 and "3 device node(s) skipped" in notices[0],
          what + ": device nodes skipped with one notice", r.stderr)
    check(not os.listdir(out + "/dev") and stat.S_ISFIFO(os.lstat(out + "/run/fifo").st_mode),
          what + ": no device nodes, the fifo is there", str(os.listdir(out + "/dev")))
    check(os.lstat(out + "/owned/setuid").st_mode & 0o7777 == 0o4755 and
          os.lstat(out + "/home/app").st_mode & 0o777 == 0o700, what + ": modes kept (setuid, 0700)")
    return r


def check_run(u, img, want_inside, key_suffix, what):
    r = u.cgprof("run", "-q", "--no-cgroup", img, "/bin/stat", "-c", "%u:%g", "/owned/u1000",
                 "/owned/u33", "/owned/root", "/owned/far")
    check(r.returncode == 0 and r.stdout.split() == want_inside,
          what + ": owners inside the container " + " ".join(want_inside), r.stdout + r.stderr)
    entries = os.listdir(u.store + "/images") if os.path.isdir(u.store + "/images") else []
    check(len(entries) == 1 and entries[0].endswith(key_suffix),
          what + ": the store is in $XDG_CACHE_HOME/cgprof, key ends in " + key_suffix, str(entries))
    ino = os.stat(u.store + "/images/" + entries[0]).st_ino if entries else None
    r2 = u.cgprof("run", "-q", "--no-cgroup", img, "/bin/stat", "-c", "%u:%g", "/owned/u1000")
    check(r2.returncode == 0 and "skipped" not in r2.stderr and
          r2.stdout.split() == want_inside[:1] and os.listdir(u.store + "/images") == entries and
          os.stat(u.store + "/images/" + entries[0]).st_ino == ino,
          what + ": a second run is a cache hit (same entry, no unpack notices)", r2.stdout + r2.stderr)
    r3 = u.cgprof("image", "prune")
    check(r3.returncode == 0 and os.listdir(u.store + "/images") == [] and
          os.listdir(u.store + "/tmp") == [], what + ": prune removes the entry", r3.stdout + r3.stderr)


def users_workdir(prefix):
    """Skips (exit 77) without root or busybox; creates the users and a work dir they can enter."""
    if os.geteuid() != 0:
        print("SKIP: needs root to create the test users")
        sys.exit(77)
    if not os.path.exists(BUSYBOX):
        print("SKIP: no static busybox")
        sys.exit(77)
    ensure_users()
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    return work


def main():
    work = users_workdir("cgprof-rootless-")
    try:
        lay = Layout(work + "/img")
        good = tar_bytes(image_entries())
        lay.image([good], tag="good")
        # A corrupt second layer: the first is applied (shifted) before the failure.
        bad = tar_bytes([{"name": "later", "data": b"x" * 4096}])
        _, descs = lay.image([good, bad], compress="none", tag="bad")
        with open(os.path.join(lay.path, "blobs", "sha256", descs[1]["digest"][7:]), "r+b") as f:
            f.seek(600)
            f.write(b"\xff")
        img = lay.path + ":good"

        # With a subordinate range: owners shifted into it.
        u = User(work, SUBUID_USER)
        su, sg = subid_start("/etc/subuid", u.name), subid_start("/etc/subgid", u.name)
        me = (u.pw.pw_uid, u.pw.pw_gid)
        r = check_unpack(u, img, {"owned/u1000": (su + 999, sg + 999), "owned/u33": (su + 32, sg + 33),
                                  "owned/root": me, "owned/far": me, "home/app": (su + 999, sg + 999),
                                  "home/app/secret": (su + 999, sg + 999), ".": me}, "subuid")
        if r:
            check("1 entries owned by ids outside your /etc/subuid range" in r.stderr,
                  "subuid: an id outside the range stays the caller's, with a notice", r.stderr)
        check_run(u, img, ["1000:1000", "33:34", "0:0", "0:0"], "-rootless-%d-%d" % (su, sg), "subuid")
        r = u.cgprof("image", "unpack", lay.path + ":bad", u.home + "/bad")
        check(r.returncode != 0 and "layer 2/2" in r.stderr and
              sorted(os.listdir(u.home)) == ["unpacked", "xdg"],
              "subuid: a failed unpack removes its shifted files", r.stderr + str(os.listdir(u.home)))

        # Without one: everything is the caller's (root inside).
        u = User(work, SINGLE_USER)
        me = (u.pw.pw_uid, u.pw.pw_gid)
        r = check_unpack(u, img, {rel: me for rel in ("owned/u1000", "owned/u33", "owned/far",
                                                      "home/app/secret")}, "no subuid range")
        if r:
            check("5 entries owned by non-root ids" in r.stderr,
                  "no subuid range: one notice for the owners kept", r.stderr)
        check_run(u, img, ["0:0"] * 4, "-rootless", "no subuid range")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
