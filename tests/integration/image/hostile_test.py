#!/usr/bin/env python3
"""Hostile images, crafted here with python's tarfile: every escape, digest/size mismatches,
truncated streams, bad metadata. Each must fail with one clear error naming the entry or blob,
write nothing outside the target (a canary directory next to it stays as it was), leave no
half-unpacked target or temp directory, and publish nothing in the cache.

Usage: hostile_test.py CGPROF_BINARY"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, fail, finish, ok, run, sha256, tar_bytes  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])
GOOD = tar_bytes([{"name": "etc/", "type": "d"}, {"name": "etc/hostname", "data": b"box\n"},
                  {"name": "big", "data": os.urandom(300000)}])


def snapshot(d):
    out = {}
    for dp, dns, fns in os.walk(d):
        for n in dns + fns:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_mode, st.st_size, st.st_mtime_ns,
                                          open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None)
    return out


class Case:
    def __init__(self, work, name):
        self.work = work
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.layout = Layout(os.path.join(self.dir, "img"))

    def blob_path(self, digest):
        return os.path.join(self.layout.path, "blobs", "sha256", digest[7:])


def expect_failure(work, case, want, ref=None):
    """Runs unpack and prepare; both must fail with `want` in the one-line error."""
    canary = os.path.join(work, "canary")
    before = snapshot(canary)
    target = os.path.join(case.dir, "out")
    image = ref or case.layout.path
    r = run([CGPROF, "image", "unpack", image, target], check=False)
    err = r.stderr.strip()
    lines = err.splitlines()
    good = (r.returncode == 125 and all(w in err for w in want) and lines and
            lines[-1].startswith("cgprof: "))
    check(good, "%s: unpack fails naming %s" % (case.name, ", ".join(want)), "rc=%d stderr=%r" % (r.returncode, err))
    if os.environ.get("VERBOSE"):
        print("     " + err)
    leftovers = [n for n in os.listdir(case.dir) if n.startswith("out")]
    check(not leftovers, "%s: no target or temp dir left" % case.name, str(leftovers))
    check(snapshot(canary) == before and not os.path.exists(os.path.join(work, "pwned")),
          "%s: nothing written outside the target" % case.name)
    cache = os.path.join(case.dir, "cache")
    env = dict(os.environ, CGPROF_CACHE_DIR=cache)
    r = run([CGPROF, "image", "prepare", image], check=False, env=env)
    published = os.listdir(os.path.join(cache, "images")) if os.path.isdir(cache + "/images") else []
    tmp = os.listdir(os.path.join(cache, "tmp")) if os.path.isdir(cache + "/tmp") else []
    check(r.returncode == 125 and not published and not tmp,
          "%s: prepare fails and publishes nothing in the cache" % case.name,
          "rc=%d published=%s tmp=%s %s" % (r.returncode, published, tmp, r.stderr.strip()))


def escape_case(work, name, layers, want):
    c = Case(work, name)
    c.layout.image(layers)
    expect_failure(work, c, want)


def main():
    work = tempfile.mkdtemp(prefix="cgprof-hostile-")
    try:
        os.makedirs(os.path.join(work, "canary"))
        open(os.path.join(work, "canary", "secret"), "w").write("do not touch")
        T = tar_bytes
        # Escapes. Rootfs is <case>/out.cgprof-tmp-X; "../../../canary" reaches the canary.
        escape_case(work, "dotdot", [GOOD, T([{"name": "../../../pwned", "data": b"x"}])], ["../../../pwned", "escape"])
        escape_case(work, "dotdot-inner", [T([{"name": "a/../../../../pwned", "data": b"x"}])], ["a/../../../../pwned"])
        escape_case(work, "absolute", [T([{"name": "/pwned", "data": b"x"}])], ["/pwned", "absolute"])
        escape_case(work, "symlink-then-path", [
            T([{"name": "link", "type": "l", "linkname": "../../../canary"}]),
            T([{"name": "link/secret", "data": b"overwritten"}])], ["link/secret"])
        escape_case(work, "hardlink-absolute", [T([{"name": "h", "type": "h", "linkname": "/etc/passwd"}])], ["h", "/etc/passwd"])
        escape_case(work, "hardlink-dotdot", [T([{"name": "h", "type": "h", "linkname": "../../../canary/secret"}])], ["../../../canary/secret"])
        escape_case(work, "hardlink-through-symlink", [
            T([{"name": "out", "type": "l", "linkname": "../../../canary"}]),
            T([{"name": "h", "type": "h", "linkname": "out/secret"}])], ["out/secret"])
        escape_case(work, "whiteout-dotdot", [GOOD, T([{"name": "../../canary/.wh.secret"}])], ["escape"])
        escape_case(work, "symlink-loop", [T([{"name": "loop", "type": "l", "linkname": "loop"},
                                              {"name": "loop/x", "data": b"x"}])], ["loop/x"])

        # A whiteout through an outward symlink resolves inside the root: it must not delete the
        # canary. This one succeeds (nothing to hide), like umoci and overlayfs.
        c = Case(work, "whiteout-through-symlink")
        c.layout.image([T([{"name": "out", "type": "l", "linkname": "../../../canary"}]),
                        T([{"name": "out/.wh.secret"}])])
        r = run([CGPROF, "image", "unpack", c.layout.path, c.dir + "/out"], check=False)
        check(r.returncode == 0 and open(work + "/canary/secret").read() == "do not touch",
              "whiteout-through-symlink: stays inside the rootfs", r.stderr)
        c = Case(work, "absolute-symlink-parent")
        c.layout.image([T([{"name": "root", "type": "l", "linkname": "/"}]),
                        T([{"name": "root/inside", "data": b"x"}])])
        r = run([CGPROF, "image", "unpack", c.layout.path, c.dir + "/out"], check=False)
        check(r.returncode == 0 and os.path.isfile(c.dir + "/out/inside") and
              not os.path.exists("/inside"), "absolute-symlink-parent: resolved inside the rootfs", r.stderr)
        c = Case(work, "symlink-same-layer")
        c.layout.image([T([{"name": "up", "type": "l", "linkname": "../../.."},
                           {"name": "up/pwned", "data": b"x"}])])
        r = run([CGPROF, "image", "unpack", c.layout.path, c.dir + "/out"], check=False)
        check(r.returncode == 0 and os.path.isfile(c.dir + "/out/pwned") and
              not os.path.exists(work + "/pwned"), "symlink-same-layer: ../../.. clamps at the rootfs", r.stderr)

        # Blob integrity.
        c = Case(work, "digest-mismatch")
        _, descs = c.layout.image([GOOD, GOOD[:-1024]], compress="none")
        p = c.blob_path(descs[1]["digest"])
        data = bytearray(open(p, "rb").read())
        data[600] ^= 0xff
        open(p, "wb").write(bytes(data))
        expect_failure(work, c, [descs[1]["digest"], "layer 2/2", "digest"])

        c = Case(work, "size-mismatch")
        desc, descs = c.layout.image([GOOD])
        m = json.load(open(c.blob_path(desc["digest"])))
        m["layers"][0]["size"] += 1
        mb = json.dumps(m).encode()
        c.layout.index["manifests"][0].update(digest=c.layout.blob(mb), size=len(mb))
        c.layout.write_index()
        expect_failure(work, c, [descs[0]["digest"], "size"])

        for comp in ("gzip", "zstd"):
            c = Case(work, "truncated-" + comp)
            desc, descs = c.layout.image([GOOD, GOOD], compress=comp)
            # Re-point the manifest at a truncated blob with matching digest and size, so only
            # the stream itself can tell.
            blob = open(c.blob_path(descs[1]["digest"]), "rb").read()[:-200]
            m = json.load(open(c.blob_path(desc["digest"])))
            m["layers"][1].update(digest=c.layout.blob(blob), size=len(blob))
            mb = json.dumps(m).encode()
            c.layout.index["manifests"][0].update(digest=c.layout.blob(mb), size=len(mb))
            c.layout.write_index()
            expect_failure(work, c, [m["layers"][1]["digest"], "truncated " + comp])

        c = Case(work, "diff-id-mismatch")
        c.layout.image([GOOD], diff_ids=[sha256(b"other")])
        expect_failure(work, c, ["diff_id"])

        c = Case(work, "bad-index-json")
        c.layout.image([GOOD])
        open(c.layout.path + "/index.json", "w").write('{"manifests": [')
        expect_failure(work, c, ["index.json", "invalid JSON"])

        c = Case(work, "missing-layer-blob")
        _, descs = c.layout.image([GOOD])
        os.unlink(c.blob_path(descs[0]["digest"]))
        expect_failure(work, c, [descs[0]["digest"], "missing"])

        c = Case(work, "missing-manifest-blob")
        desc, _ = c.layout.image([GOOD])
        os.unlink(c.blob_path(desc["digest"]))
        expect_failure(work, c, [desc["digest"], "missing"])

        c = Case(work, "tampered-manifest")
        desc, _ = c.layout.image([GOOD])
        with open(c.blob_path(desc["digest"]), "r+b") as f:
            d = f.read().replace(b'"schemaVersion": 2', b'"schemaVersion": 3')
            f.seek(0), f.write(d)
        expect_failure(work, c, [desc["digest"], "content digest"])

        c = Case(work, "unknown-media-type")
        _, descs = c.layout.image([GOOD], media_type="application/vnd.oci.image.layer.v1.tar+bzip2")
        expect_failure(work, c, [descs[0]["digest"], "unsupported media type", "bzip2"])

        c = Case(work, "blob-path-traversal")
        c.layout.image([GOOD])
        c.layout.index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
        c.layout.write_index()
        expect_failure(work, c, ["invalid digest"])

        c = Case(work, "layer-count-mismatch")
        c.layout.image([GOOD], diff_ids=[sha256(GOOD), sha256(GOOD)])
        expect_failure(work, c, ["2 diff_ids for 1 layers"])

        # The target must be new or empty, and is left alone otherwise.
        c = Case(work, "non-empty-target")
        c.layout.image([GOOD])
        os.makedirs(c.dir + "/out")
        open(c.dir + "/out/mine", "w").write("mine")
        r = run([CGPROF, "image", "unpack", c.layout.path, c.dir + "/out"], check=False)
        check(r.returncode == 125 and "not empty" in r.stderr and os.listdir(c.dir + "/out") == ["mine"],
              "non-empty-target: refused, contents untouched", r.stderr)
        os.unlink(c.dir + "/out/mine")
        r = run([CGPROF, "image", "unpack", c.layout.path, c.dir + "/out"], check=False)
        check(r.returncode == 0 and open(c.dir + "/out/etc/hostname").read() == "box\n",
              "empty existing target: unpacked into it", r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
