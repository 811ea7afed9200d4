"""Helpers shared by the image integration tests: running tools, writing OCI layouts by hand
(for hostile inputs and docker-archive forms no tool here writes), and pass/fail reporting."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

failures = []


def fail(what, why):
    failures.append(what)
    print("FAIL %s: %s" % (what, why), flush=True)


def ok(what):
    print("ok   %s" % what, flush=True)


def check(cond, what, why=""):
    (ok if cond else lambda w: fail(w, why))(what)
    return cond


def finish():
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


def run(cmd, env=None, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(entries):
    """entries: list of (TarInfo-like dict). Keys: name, type ('f','d','l','h','p', 'c' or 'b'
    for a character or block device: 1:3), data, mode, linkname, uid, gid, pax (extra pax
    headers, e.g. SCHILY.xattr.NAME). Written in the given order, pax format."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mode = e.get("mode", 0o644 if e.get("type", "f") == "f" else 0o755)
            ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
            ti.mtime = 1700000000
            ti.pax_headers = dict(e.get("pax", {}))
            typ = e.get("type", "f")
            data = e.get("data", b"")
            if typ == "d":
                ti.type = tarfile.DIRTYPE
            elif typ == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, e["linkname"]
            elif typ == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, e["linkname"]
            elif typ == "p":
                ti.type = tarfile.FIFOTYPE
            elif typ in ("c", "b"):
                ti.type = tarfile.CHRTYPE if typ == "c" else tarfile.BLKTYPE
                ti.devmajor, ti.devminor = 1, 3
            ti.size = len(data) if typ == "f" else 0
            t.addfile(ti, io.BytesIO(data) if typ == "f" else None)
    return buf.getvalue()


class Layout:
    """A hand-written OCI image layout: blobs, one or more manifests, index.json."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = {"schemaVersion": 2, "manifests": []}

    def blob(self, data):
        d = sha256(data)
        with open(os.path.join(self.path, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return d

    def image(self, layers, compress="gzip", tag="latest", media_type=None, config_extra=None,
              diff_ids=None, write_index=True, platform=None):
        """layers: list of uncompressed tar bytes. Returns (manifest digest, layer descriptors)."""
        descs, ids = [], []
        for raw in layers:
            ids.append(sha256(raw))
            if compress == "gzip":
                blob, mt = gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
            elif compress == "zstd":
                blob = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True,
                                      check=True).stdout
                mt = "application/vnd.oci.image.layer.v1.tar+zstd"
            elif compress == "given-gzip":  # raw is the gzip blob already (diff_ids given)
                blob, mt = raw, "application/vnd.oci.image.layer.v1.tar+gzip"
            else:
                blob, mt = raw, "application/vnd.oci.image.layer.v1.tar"
            descs.append({"mediaType": media_type or mt, "digest": self.blob(blob),
                          "size": len(blob)})
        plat = platform or {"os": "linux", "architecture": "amd64"}
        config = {"architecture": plat["architecture"], "os": plat["os"],
                  "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids or ids}}
        config.update(config_extra or {})
        cfg = json.dumps(config).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.blob(cfg), "size": len(cfg)},
                    "layers": descs}
        m = json.dumps(manifest).encode()
        desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": self.blob(m),
                "size": len(m), "annotations": {"org.opencontainers.image.ref.name": tag}}
        if platform:
            desc["platform"] = platform
        if write_index:
            self.index["manifests"].append(desc)
            self.write_index()
        return desc, descs

    def write_index(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump(self.index, f)


def tree_lines(root):
    from tree_manifest import manifest
    return manifest(root)
