#!/usr/bin/env python3
"""The image side of issue 12 ("the container is a boundary"), on the real filesystem: what an
image, another local user or a killed cgprof can do to an unpack or the cache.

- `image unpack DIR` makes DIR 0700;
- a cache directory another user owns, or one (or a parent) others may write to without the
  sticky bit, is refused; a sticky world-writable parent (like /tmp) is fine;
- a cache entry whose layer or rootfs was deleted is unpacked again, not served; temp dirs a
  killed unpack left in the cache go with the next unpack of that image;
- a gzip bomb stops at the layer size limit (the default one and --max-layer-size /
  CGPROF_MAX_LAYER_SIZE), at its header, leaving nothing; a sparse file counts at its apparent size;
- a full target filesystem fails with ENOSPC (how little is read then: nospace_test.cpp);
- a duplicate directory entry takes the last entry's mode;
- an etc/passwd that is a FIFO, or a link to a device, fails at once in prepare and in run;
- a temp dir of a dead unpack next to the target is removed, a live one's kept.
Root only (creates a user, mounts a tmpfs, makes device nodes).

Usage: boundary_test.py CGPROF_BINARY"""
import fcntl
import gzip
import json
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, finish, run, sha256, tar_bytes  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])
OTHER = "cgprof-img-other"
SAFETY = 120  # a timeout only as a safety net: the assertions are about the error, not time


def cg(args, env=None):
    try:
        return subprocess.run([CGPROF] + args, capture_output=True, text=True, env=env,
                              timeout=SAFETY)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, -1, "", "TIMEOUT (hung)")


def one_line_error(r, *want):
    err = r.stderr.strip()
    return (r.returncode == 125 and len(err.splitlines()) == 1 and err.startswith("cgprof: ")
            and all(w in err for w in want))


def small_image(path, extra=()):
    lay = Layout(path)
    lay.image([tar_bytes([{"name": "./", "type": "d", "mode": 0o755},
                          {"name": "etc/", "type": "d"},
                          {"name": "etc/passwd", "data": b"root:x:0:0::/root:/bin/sh\n"}]
                         + list(extra))], compress="none")
    return lay


def test_unpack_mode(work):
    lay = small_image(work + "/img-mode")
    r = cg(["image", "unpack", lay.path, work + "/mode-out"])
    check(r.returncode == 0 and os.stat(work + "/mode-out").st_mode & 0o7777 == 0o700,
          "unpack target is 0700 whatever the image's root says", r.stderr)


def cache_env(d):
    return dict(os.environ, CGPROF_CACHE_DIR=d)


def test_cache_dirs(work):
    lay = small_image(work + "/img-cache")
    if subprocess.run(["id", OTHER], capture_output=True).returncode != 0:
        run(["useradd", "-M", "-s", "/usr/sbin/nologin", OTHER])
    other = pwd.getpwnam(OTHER)

    theirs = work + "/theirs-cache"
    os.mkdir(theirs, 0o700)
    os.chown(theirs, other.pw_uid, other.pw_gid)
    r = cg(["image", "prepare", lay.path], cache_env(theirs))
    check(one_line_error(r, theirs, "belongs to uid %d" % other.pw_uid, "CGPROF_CACHE_DIR"),
          "cache dir owned by another user is refused", r.stderr)
    check(os.listdir(theirs) == [], "nothing written into another user's cache dir")

    ww = work + "/ww-cache"
    os.mkdir(ww)
    os.chmod(ww, 0o777)
    r = cg(["image", "prepare", lay.path], cache_env(ww))
    check(one_line_error(r, ww, "writable by others", "chmod 700"),
          "world-writable cache dir is refused", r.stderr)

    parent = work + "/ww-parent"
    os.mkdir(parent)
    os.chmod(parent, 0o777)
    r = cg(["image", "prepare", lay.path], cache_env(parent + "/cache"))
    check(one_line_error(r, parent, "writable by others", "not sticky"),
          "cache below a world-writable parent without the sticky bit is refused", r.stderr)

    sticky = work + "/sticky-parent"
    os.mkdir(sticky)
    os.chmod(sticky, 0o1777)
    r = cg(["image", "prepare", lay.path], cache_env(sticky + "/cache"))
    check(r.returncode == 0, "cache below a sticky world-writable parent (like /tmp) is used",
          r.stderr)

    opened = work + "/readable-cache"
    os.mkdir(opened, 0o755)
    os.chmod(opened, 0o755)
    r = cg(["image", "prepare", lay.path], cache_env(opened))
    check(r.returncode == 0 and os.stat(opened).st_mode & 0o777 == 0o700,
          "a cache dir of ours that others may read is closed to 0700", r.stderr)

    r = cg(["image", "ls"], cache_env(ww))
    check(one_line_error(r, "writable by others"), "image ls refuses a world-writable cache too",
          r.stderr)


def test_cache_damage(work):
    env = cache_env(work + "/dmg-cache")
    lay = Layout(work + "/img-dmg")
    lay.image([tar_bytes([{"name": "etc/", "type": "d"},
                          {"name": "etc/passwd", "data": b"root:x:0:0::/root:/bin/sh\n"},
                          {"name": "bin/", "type": "d"}, {"name": "bin/tool", "data": b"t1"}]),
               tar_bytes([{"name": "usr/", "type": "d"}, {"name": "usr/top", "data": b"top"}])])
    r = cg(["image", "prepare", lay.path], env)
    layers = r.stdout.split()
    check(r.returncode == 0 and len(layers) == 2, "two-layer image prepared stacked", r.stderr)
    if len(layers) != 2:
        return
    bottom = os.path.dirname(layers[1])
    shutil.rmtree(bottom)
    r = cg(["image", "prepare", lay.path], env)
    check(r.returncode == 0 and "unpacking it again" in r.stderr and "unpacked" in r.stderr
          and os.path.isfile(layers[1] + "/bin/tool"),
          "deleted layer dir is detected and rebuilt, not served", r.stderr)
    os.unlink(layers[0] + "/usr/top")
    shutil.rmtree(layers[0] + "/usr")
    r = cg(["image", "prepare", lay.path], env)
    check(r.returncode == 0 and "unpacking it again" in r.stderr
          and os.path.isfile(layers[0] + "/usr/top"),
          "a layer with a top-level directory deleted is rebuilt", r.stderr)
    r = cg(["image", "prepare", lay.path], env)
    check(r.returncode == 0 and "unpack" not in r.stderr, "the rebuilt entry is a cache hit again",
          r.stderr)

    # A one-layer image: its one stored layer is also the rootfs a run sees.
    flat_env = cache_env(work + "/flat-cache")
    lay1 = small_image(work + "/img-flat")
    r = cg(["image", "prepare", lay1.path], flat_env)
    top = r.stdout.split()[0] if r.stdout.split() else ""
    shutil.rmtree(top + "/etc", ignore_errors=True)
    r = cg(["image", "prepare", lay1.path], flat_env)
    check(r.returncode == 0 and "unpacking it again" in r.stderr
          and os.path.isfile(top + "/etc/passwd"),
          "a one-layer entry with its etc/ deleted is rebuilt", r.stderr)


def test_store_leftovers(work):
    # What a SIGKILLed unpack leaves in the store's tmp/ (the entry's and the layer's temp dirs)
    # goes with the next unpack of the same image, which holds their locks.
    cache = work + "/left-cache"
    lay = Layout(work + "/img-left")
    raw = tar_bytes([{"name": "etc/", "type": "d"}, {"name": "etc/hostname", "data": b"x\n"}])
    desc, _ = lay.image([raw])
    manifest = json.load(open(lay.path + "/blobs/sha256/" + desc["digest"][7:]))
    key = manifest["config"]["digest"][7:]
    layer_key = sha256(raw)[7:]  # the ChainID of a first layer is its diff_id
    planted = [cache + "/tmp/%s.Ab12Cd" % key, cache + "/tmp/layer-%s.Ef34Gh" % layer_key]
    for p in planted:
        os.makedirs(p + "/rootfs/usr")
    os.chmod(cache, 0o700)
    r = cg(["image", "prepare", lay.path], cache_env(cache))
    check(r.returncode == 0 and os.listdir(cache + "/tmp") == [],
          "the store's temp dirs of a killed unpack go with the next unpack of that image",
          "%s %s" % (os.listdir(cache + "/tmp"), r.stderr))


def bomb_blob(size, chunk=64 << 20):
    """A gzip stream of a tar holding one file of `size` zero bytes, as concatenated gzip members
    (one member of `chunk` zeros repeated), so it is built in a second."""
    ti = tarfile.TarInfo("zero")
    ti.size = size
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    zeros = gzip.compress(b"\0" * chunk, compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + zeros * (size // chunk) + gzip.compress(b"\0" * 1024,
                                                                                     mtime=0)


def leftovers(d, prefix):
    return [n for n in os.listdir(d) if n.startswith(prefix)]


def test_bombs(work):
    d = work + "/bomb"
    os.mkdir(d)
    # The default limit: a 4 MiB blob may expand to 1 GiB + 100 x 4 MiB; this one claims 4 GiB.
    blob = bomb_blob(4 << 30)
    lay = Layout(d + "/img")
    lay.image([blob], compress="given-gzip", diff_ids=["sha256:" + "0" * 64])
    r = cg(["image", "unpack", lay.path, d + "/out"])
    check(one_line_error(r, "layer 1/1", "entry zero", "expands past 1.", "GiB", "100 x its", "--max-layer-size",
                         "CGPROF_MAX_LAYER_SIZE"),
          "a 4 MiB gzip bomb of 4 GiB fails at its header under the default limit", r.stderr)
    check(leftovers(d, "out") == [], "the bomb leaves no target or temp dir", leftovers(d, "out"))
    cache = d + "/cache"
    r = cg(["image", "prepare", lay.path], cache_env(cache))
    check(one_line_error(r, "expands past") and os.listdir(cache + "/images") == []
          and os.listdir(cache + "/tmp") == [],
          "prepare of the bomb fails and publishes nothing", r.stderr)

    # A small one over a small limit, given by option and by environment.
    small = Layout(d + "/small")
    raw = tar_bytes([{"name": "zero", "data": b"\0" * (3 << 20)}])
    small.image([raw])
    r = cg(["image", "unpack", "--max-layer-size", "1MiB", small.path, d + "/out2"])
    check(one_line_error(r, "layer 1/1", "expands past 1.00 MiB", "--max-layer-size"),
          "--max-layer-size 1MiB stops a 3 MiB layer", r.stderr)
    r = cg(["image", "unpack", small.path, d + "/out3"],
           dict(os.environ, CGPROF_MAX_LAYER_SIZE="1MiB"))
    check(one_line_error(r, "expands past 1.00 MiB"), "CGPROF_MAX_LAYER_SIZE=1MiB stops it too",
          r.stderr)
    r = cg(["image", "unpack", "--max-layer-size", "4MiB", small.path, d + "/out4"])
    check(r.returncode == 0 and os.path.getsize(d + "/out4/zero") == 3 << 20,
          "--max-layer-size 4MiB lets it through", r.stderr)
    r = cg(["image", "unpack", "--max-layer-size", "lots", small.path, d + "/out5"])
    check(one_line_error(r, "--max-layer-size", "lots"), "a malformed --max-layer-size is refused",
          r.stderr)
    check(leftovers(d, "out") == ["out4"], "failed unpacks leave nothing", leftovers(d, "out"))


def test_sparse(work):
    d = work + "/sparse"
    os.makedirs(d + "/src")
    with open(d + "/src/holes", "wb") as f:
        f.write(b"data" * 1024)
        f.truncate(3 << 20)  # apparent 3 MiB, 4 KiB of data
    run(["tar", "--sparse", "--format=pax", "-C", d + "/src", "-cf", d + "/layer.tar", "holes"])
    raw = open(d + "/layer.tar", "rb").read()
    check(len(raw) < 64 << 10, "GNU tar wrote the file sparse (%d bytes)" % len(raw))
    lay = Layout(d + "/img")
    lay.image([raw], compress="none")
    r = cg(["image", "unpack", "--max-layer-size", "1MiB", lay.path, d + "/out"])
    check(one_line_error(r, "entry holes", "expands past 1.00 MiB"),
          "a sparse file counts at its apparent size (3 MiB > 1 MiB limit)", r.stderr)
    r = cg(["image", "unpack", "--max-layer-size", "4MiB", lay.path, d + "/out2"])
    check(r.returncode == 0 and os.path.getsize(d + "/out2/holes") == 3 << 20,
          "under a 4 MiB limit it unpacks at its apparent size", r.stderr)


def test_enospc(work):
    d = work + "/nospace"
    os.makedirs(d + "/mnt")
    run(["mount", "-t", "tmpfs", "-o", "size=1m", "cgprof-test", d + "/mnt"])
    try:
        lay = Layout(d + "/img")
        lay.image([tar_bytes([{"name": "f%d" % i, "data": os.urandom(256 << 10)}
                              for i in range(16)])])
        r = cg(["image", "unpack", lay.path, d + "/mnt/out"])
        check(one_line_error(r, "layer 1/1", "No space left on device"),
              "unpack onto a full filesystem fails naming ENOSPC", r.stderr)
        check(os.listdir(d + "/mnt") == [], "and removes its temp dir", os.listdir(d + "/mnt"))
    finally:
        run(["umount", d + "/mnt"])


def test_duplicate_dir(work):
    lay = Layout(work + "/img-dup")
    lay.image([tar_bytes([{"name": "d/", "type": "d", "mode": 0o700},
                          {"name": "d/f", "data": b"x"},
                          {"name": "d/", "type": "d", "mode": 0o751}])])
    r = cg(["image", "unpack", lay.path, work + "/dup-out"])
    check(r.returncode == 0 and os.stat(work + "/dup-out/d").st_mode & 0o7777 == 0o751,
          "duplicate dir entry takes the last entry's mode", r.stderr)


def test_user_db(work):
    # In an image: prepare copies etc/passwd and etc/group; a FIFO or a link to a device fails.
    for name, entries, want in [
            ("fifo", [{"name": "etc/passwd", "type": "p"}], "is a FIFO"),
            ("devzero", [{"name": "dev/", "type": "d"}, {"name": "dev/zero", "type": "c"},
                         {"name": "etc/passwd", "type": "l", "linkname": "/dev/zero"}],
             "is a character device")]:
        lay = Layout(work + "/img-passwd-" + name)
        lay.image([tar_bytes([{"name": "etc/", "type": "d"}] + entries)])
        cache = work + "/passwd-cache-" + name
        r = cg(["image", "prepare", lay.path], cache_env(cache))
        check(one_line_error(r, "etc/passwd", want),
              "etc/passwd %s in an image: prepare fails at once (%s)" % (name, want), r.stderr)
        check(os.listdir(cache + "/images") == [], "and publishes nothing (%s)" % name)

    # In a --rootfs: the run resolves the user from the tree itself.
    for name, make, want in [
            ("fifo", lambda r: os.mkfifo(r + "/etc/passwd"), "is a FIFO"),
            ("devzero", lambda r: (os.mknod(r + "/dev/zero", 0o666 | 0o020000, os.makedev(1, 5)),
                                   os.symlink("/dev/zero", r + "/etc/passwd")),
             "is a character device")]:
        root = work + "/rootfs-" + name
        os.makedirs(root + "/etc")
        os.makedirs(root + "/dev")
        make(root)
        r = cg(["run", "--no-cgroup", "--rootfs", root, "-u", "nobody", "--", "/bin/true"])
        check(one_line_error(r, "etc/passwd", want),
              "--rootfs with etc/passwd %s: run fails at once (%s)" % (name, want), r.stderr)

    # A link out of the rootfs resolves inside it: the host's /etc/passwd is never read.
    root = work + "/rootfs-hostlink"
    os.makedirs(root + "/etc")
    os.symlink("/etc/passwd", root + "/etc/group")
    os.symlink("../../../../../../etc/shadow", root + "/etc/passwd")
    r = cg(["run", "--no-cgroup", "--rootfs", root, "-u", "root", "--", "/bin/true"])
    check(one_line_error(r, "no such user", "rootfs"),
          "etc/passwd linking out of the rootfs does not reach the host's", r.stderr)


def test_stale_tmp(work):
    d = work + "/stale"
    os.mkdir(d)
    lay = small_image(d + "/img")
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "600"])
    try:
        stale = d + "/a.cgprof-tmp-%d-abcdef" % dead.pid
        kept = d + "/b.cgprof-tmp-%d-abcdef" % live.pid
        locked = d + "/c.cgprof-tmp-%d-ghijkl" % dead.pid  # a dead pid, but locked (other pid ns)
        for p in (stale, kept, locked):
            os.makedirs(p + "/usr/bin")
        fd = os.open(locked, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = cg(["image", "unpack", lay.path, d + "/out"])
        os.close(fd)
        check(r.returncode == 0 and not os.path.exists(stale),
              "a stale DIR.cgprof-tmp-<deadpid> is removed by the next unpack", r.stderr)
        check(os.path.isdir(kept + "/usr/bin"), "a live process's temp dir is kept")
        check(os.path.isdir(locked + "/usr/bin"), "a locked temp dir is kept whatever its pid")
    finally:
        live.kill()
        live.wait()


def main():
    if os.geteuid() != 0:
        print("SKIP: root only (creates a user, mounts a tmpfs, makes device nodes)")
        return
    work = tempfile.mkdtemp(prefix="cgprof-boundary-")
    os.chmod(work, 0o755)
    try:
        for t in (test_unpack_mode, test_cache_dirs, test_cache_damage, test_store_leftovers,
                  test_bombs, test_sparse,
                  test_enospc, test_duplicate_dir, test_user_db, test_stale_tmp):
            t(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
