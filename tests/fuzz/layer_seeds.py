#!/usr/bin/env python3
"""Writes the seed corpus of layer_apply_fuzz to OUTDIR: the layer shapes the image tests use
(tests/integration/image: whiteouts, opaque directories, replacements, links, the escape attempts
of hostile_test.py) in the fuzz input format: a flag byte, then layers separated by SEP."""
import io
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "image"))
from imagelib import tar_bytes as T  # noqa: E402

SEP = b"CGPROF-FUZZ-LAYER"


def gnu_tar():
    """GNU format: long names and links, a device node, xattr-free ustar fields."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, typ, link in [("d" * 120, tarfile.DIRTYPE, ""),
                                ("d" * 120 + "/" + "f" * 120, tarfile.REGTYPE, ""),
                                ("l" * 110, tarfile.SYMTYPE, "../" + "x" * 110),
                                ("dev/null", tarfile.CHRTYPE, ""),
                                ("dev/sda", tarfile.BLKTYPE, "")]:
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname, ti.devmajor, ti.devminor = typ, link, 1, 3
            data = b"gnu" if typ == tarfile.REGTYPE else b""
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def pax_xattr_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("bin/ping")
        ti.size, ti.mode, ti.uid = 4, 0o4755, 1000
        ti.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02" + "\x00" * 16,
                          "SCHILY.xattr.user.note": "x", "mtime": "1700000000.5"}
        t.addfile(ti, io.BytesIO(b"ping"))
    return buf.getvalue()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    base = T([{"name": "etc", "type": "d"}, {"name": "etc/passwd", "data": b"root:x:0:0\n"},
              {"name": "usr/bin", "type": "d"}, {"name": "usr/bin/tool", "data": b"#!", "mode": 0o755},
              {"name": "bin", "type": "l", "linkname": "usr/bin"},
              {"name": "usr/bin/link", "type": "h", "linkname": "usr/bin/tool"},
              {"name": "fifo", "type": "p"}, {"name": "opt/a/b", "data": b"b", "uid": 1000, "gid": 1000}])
    seeds = {
        "base": [base],
        "whiteouts": [base, T([{"name": "etc/.wh.passwd"}, {"name": "opt/a/.wh..wh..opq"},
                               {"name": "opt/a/new", "data": b"n"}, {"name": ".wh.fifo"}])],
        "replace": [base, T([{"name": "etc", "data": b"now a file"}, {"name": "bin", "type": "d"},
                             {"name": "fifo", "type": "l", "linkname": "/etc"}])],
        "same-layer-whiteout": [T([{"name": "a", "data": b"a"}, {"name": ".wh.a"}])],
        "dotdot": [T([{"name": "../../pwned", "data": b"x"}])],
        "absolute": [T([{"name": "/pwned", "data": b"x"}])],
        "symlink-then-path": [T([{"name": "link", "type": "l", "linkname": "../../canary"}]),
                              T([{"name": "link/secret", "data": b"overwritten"}])],
        "hardlink-escape": [T([{"name": "out", "type": "l", "linkname": "../../canary"},
                               {"name": "h", "type": "h", "linkname": "out/secret"},
                               {"name": "h2", "type": "h", "linkname": "../canary/secret"}])],
        "whiteout-escape": [base, T([{"name": "../canary/.wh.secret"}]),
                            T([{"name": "out", "type": "l", "linkname": ".."}, {"name": "out/.wh.canary"}])],
        "symlink-loop": [T([{"name": "loop", "type": "l", "linkname": "loop"}, {"name": "loop/x", "data": b"x"}])],
        "gnu": [gnu_tar()],
        "pax-xattr": [pax_xattr_tar()],
    }
    for name, layers in seeds.items():
        for flag in (0, 1):
            with open(os.path.join(out, "%s-%d" % (name, flag)), "wb") as f:
                f.write(bytes([flag]) + SEP.join(layers))


if __name__ == "__main__":
    main()
