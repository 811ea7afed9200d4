#!/usr/bin/env python3
"""Interoperability: images built by umoci and converted by skopeo (tools no one here wrote), in
every input format cgprof reads, unpack with cgprof to the same tree as `umoci unpack`: same
paths, types, modes, owners, sizes, content hashes, link targets and hardlink groups. As root, the
merged view a `cgprof run` sees (the stored layers stacked by overlayfs), read by a tar made inside
the container, is that same tree too.

Usage: interop_test.py CGPROF_BINARY"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagelib import Layout, check, fail, finish, ok, run, tar_bytes  # noqa: E402
from tree_manifest import manifest  # noqa: E402

CGPROF = os.path.abspath(sys.argv[1])
ROOT = os.geteuid() == 0
UMOCI_FLAGS = [] if ROOT else ["--rootless"]


def umoci(*args):
    return run(["umoci", "--log", "error"] + list(args[:1]) + UMOCI_FLAGS * (args[0] in ("unpack", "repack", "new", "raw")) + list(args[1:]))


def populate_layer1(r):
    os.makedirs(r + "/etc"), os.makedirs(r + "/bin"), os.makedirs(r + "/usr/share/doc/pkg")
    open(r + "/etc/passwd", "w").write("root:x:0:0::/root:/bin/sh\n")
    open(r + "/bin/tool", "wb").write(os.urandom(70000))
    os.chmod(r + "/bin/tool", 0o4755)
    open(r + "/bin/sgid", "w").write("g")
    os.chmod(r + "/bin/sgid", 0o2711)
    for n in "abc":
        open(r + "/usr/share/doc/pkg/" + n, "w").write(n * 1000)
    os.makedirs(r + "/data/dir_to_link/inner")
    open(r + "/data/dir_to_link/inner/f", "w").write("inner")
    open(r + "/data/replace_me", "w").write("file first")
    open(r + "/data/old", "w").write("to be whited out")
    open(r + "/data/link_to_file", "w").write("was a file")
    os.symlink("passwd", r + "/etc/link_becomes_file")
    os.makedirs(r + "/opaque/sub")
    for n in ("lower1", "lower2", "sub/x"):
        open(r + "/opaque/" + n, "w").write(n)
    os.makedirs(r + "/hard")
    open(r + "/hard/orig", "w").write("shared inode")
    os.link(r + "/hard/orig", r + "/hard/link")
    os.makedirs(r + "/tmp")
    os.chmod(r + "/tmp", 0o1777)
    os.makedirs(r + "/private")
    os.chmod(r + "/private", 0o700)
    deep = r + "/long/" + "/".join(["directory-with-a-long-name-%02d" % i for i in range(6)])
    os.makedirs(deep)
    open(deep + "/" + "f" * 120, "w").write("long path")
    open(r + "/caf\u00e9-\u65e5\u672c", "w").write("utf-8 name")
    os.mkfifo(r + "/fifo")
    if ROOT:
        os.chown(r + "/etc/passwd", 1000, 1001)
        os.makedirs(r + "/home/user")
        os.chown(r + "/home/user", 1234, 5678)
        os.mknod(r + "/null", 0o666 | 0o020000, os.makedev(1, 3))


def populate_layer2(r):
    os.unlink(r + "/data/old")                                    # whiteout
    os.unlink(r + "/data/replace_me")                             # file -> dir
    os.makedirs(r + "/data/replace_me/now_a_dir")
    shutil.rmtree(r + "/data/dir_to_link")                        # dir -> symlink
    os.symlink("../etc", r + "/data/dir_to_link")
    shutil.rmtree(r + "/usr/share/doc")                           # whiteout of a tree
    os.chmod(r + "/bin/tool", 0o4711)
    os.link(r + "/hard/orig", r + "/hard/link2")
    os.unlink(r + "/etc/link_becomes_file")                       # symlink -> file
    open(r + "/etc/link_becomes_file", "w").write("now a file")


def populate_layer4(r):
    shutil.rmtree(r + "/data/replace_me")                         # dir -> symlink
    os.symlink("/etc/passwd", r + "/data/replace_me")
    os.unlink(r + "/data/link_to_file")                           # file -> symlink
    os.symlink("replace_me", r + "/data/link_to_file")


def build_umoci_image(work):
    lay = work + "/umoci-oci"
    umoci("init", "--layout", lay)
    umoci("new", "--image", lay + ":latest")
    for step in (populate_layer1, populate_layer2, None, populate_layer4):
        b = work + "/bundle"
        if step is None:  # layer 3: an opaque directory, written by hand, added verbatim by umoci
            raw = tar_bytes([
                {"name": "opaque/", "type": "d"},
                {"name": "opaque/new", "data": b"new in layer 3"},
                {"name": "opaque/sub/", "type": "d"},
                {"name": "opaque/.wh..wh..opq", "data": b""},
                {"name": "opaque/sub/y", "data": b"y"},
                {"name": "data/.wh.nonexistent", "data": b""},
            ])
            open(work + "/l3.tar", "wb").write(raw)
            umoci("raw", "add-layer", "--image", lay + ":latest", work + "/l3.tar")
            continue
        umoci("unpack", "--image", lay + ":latest", b)
        step(b + "/rootfs")
        umoci("repack", "--image", lay + ":latest", b)
        shutil.rmtree(b)
    umoci("config", "--image", lay + ":latest", "--config.entrypoint", "/bin/tool",
          "--config.cmd", "--help", "--config.workingdir", "/data", "--config.env", "A=1")
    return lay


def docker_classic(layout, tag, out):
    """docker save (before 25) form: <id>/layer.tar, <config hex>.json, manifest.json, repositories."""
    idx = json.load(open(layout + "/index.json"))
    desc = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
    blob = lambda d: open(layout + "/blobs/sha256/" + d[7:], "rb").read()
    man = json.loads(blob(desc["digest"]))
    cfg = blob(man["config"]["digest"])
    with tarfile.open(out, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, __import__("io").BytesIO(data))
        layers = []
        for i, l in enumerate(man["layers"]):
            raw = gzip.decompress(blob(l["digest"]))
            lid = hashlib.sha256(("layer%d" % i).encode()).hexdigest()
            add(lid + "/VERSION", b"1.0")
            add(lid + "/layer.tar", raw)
            layers.append(lid + "/layer.tar")
        add(man["config"]["digest"][7:] + ".json", cfg)
        add("manifest.json", json.dumps([{"Config": man["config"]["digest"][7:] + ".json",
                                          "RepoTags": ["cgprof/interop:" + tag],
                                          "Layers": layers}]).encode())


def docker_blobs(layout, tag, out):
    """The newer docker-archive form: blobs/sha256/<hex> named in manifest.json (gzip kept)."""
    idx = json.load(open(layout + "/index.json"))
    desc = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
    blob = lambda d: open(layout + "/blobs/sha256/" + d[7:], "rb").read()
    man = json.loads(blob(desc["digest"]))
    with tarfile.open(out, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, __import__("io").BytesIO(data))
        for d in [man["config"]["digest"]] + [l["digest"] for l in man["layers"]]:
            add("blobs/sha256/" + d[7:], blob(d))
        add("manifest.json", json.dumps([{"Config": "blobs/sha256/" + man["config"]["digest"][7:],
                                          "RepoTags": ["cgprof/interop:" + tag],
                                          "Layers": ["blobs/sha256/" + l["digest"][7:] for l in man["layers"]]}]).encode())


def cgprof(*args, env=None):
    return run([CGPROF] + list(args), env=env, check=False)


def compare(name, ref_lines, image, work, extra=()):
    out = work + "/out-" + name
    r = cgprof("image", "unpack", *extra, image, out)
    if r.returncode != 0:
        return fail(name, "cgprof image unpack failed: " + r.stderr.strip())
    got = manifest(out, ignore_owner=not ROOT)
    if got == ref_lines:
        return ok("%s unpacks to the same tree as umoci (%d paths)" % (name, len(got)))
    diff = [l for l in got if l not in ref_lines][:5] + ["--- umoci:"] + [l for l in ref_lines if l not in got][:5]
    fail(name, "trees differ:\n  " + "\n  ".join(diff))


def tar_manifest(data):
    """tree_manifest's lines for the entries of a tar (hardlinks as the tar records them)."""
    members, content = [], {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t:
            name = m.name.lstrip("/")
            members.append((name, m))
            if m.isreg():
                content[name] = t.extractfile(m).read()
    group = {}  # path -> the path its hardlink chain starts at
    for name, m in members:
        group[name] = group.get(m.linkname.lstrip("/"), m.linkname.lstrip("/")) if m.islnk() else name
    first = {}
    for name in sorted(group):
        first.setdefault(group[name], name)
    sizes = {}
    for root in group.values():
        sizes[root] = sizes.get(root, 0) + 1
    lines = []
    for name, m in sorted(members, key=lambda x: x[0]):
        root = group[name]
        t = "f" if m.isreg() or m.islnk() else "d" if m.isdir() else "l" if m.issym() else \
            "p" if m.isfifo() else "c" if m.ischr() else "b"
        detail = ""
        if t == "f":
            data = content[root]
            detail = "size=%d sha256=%s" % (len(data), hashlib.sha256(data).hexdigest())
            if sizes[root] > 1:
                detail += " hardlink=%s" % first[root]
        elif t == "l":
            detail = "target=%s" % m.linkname
        elif t in "cb":
            detail = "dev=%d,%d" % (m.devmajor, m.devminor)
        mode = "" if t == "l" else " mode=%04o" % (m.mode & 0o7777)
        lines.append("%s %s%s owner=%d:%d %s" % (name, t, mode, m.uid, m.gid, detail))
    return lines


def compare_run(ref_lines, image, work):
    """As root: the tree a run sees, tarred inside the container by a static busybox bound in."""
    bb = shutil.which("busybox") or "/bin/busybox"
    names = sorted({l.split(" ")[0].split("/")[0] for l in ref_lines} - {"tmp"})
    r = subprocess.run([CGPROF, "run", "-q", "--no-cgroup", "-v", bb + ":/busybox:ro", "--entrypoint",
                        "/busybox", image, "tar", "-cf", "-", "-C", "/"] + names, capture_output=True,
                       env=dict(os.environ, CGPROF_CACHE_DIR=work + "/run-cache"))
    if r.returncode != 0:
        return fail("run-merged-view", "cgprof run failed: " + r.stderr.decode(errors="replace"))
    generated = ("etc/hosts ", "etc/hostname ", "etc/resolv.conf ")  # the container's own, as docker's
    got = [l for l in tar_manifest(r.stdout) if not l.startswith(generated)]
    want = [l for l in ref_lines if l.split(" ")[0].split("/")[0] != "tmp"]
    layers = run([CGPROF, "image", "prepare", image],
                 env=dict(os.environ, CGPROF_CACHE_DIR=work + "/run-cache")).stdout.split()
    if got == want and len(layers) == 4:
        return ok("the merged view of a run (4 stacked layers) is the same tree as umoci's (%d paths)"
                  % len(got))
    diff = [l for l in got if l not in want][:5] + ["--- umoci:"] + [l for l in want if l not in got][:5]
    fail("run-merged-view", "%d layers; trees differ:\n  " % len(layers) + "\n  ".join(diff))


def main():
    work = tempfile.mkdtemp(prefix="cgprof-interop-")
    try:
        lay = build_umoci_image(work)
        umoci("unpack", "--image", lay + ":latest", work + "/ref")
        ref = manifest(work + "/ref/rootfs", ignore_owner=not ROOT)
        check(len(ref) > 30, "reference tree from umoci has content", str(len(ref)))

        insp = json.loads(cgprof("image", "inspect", lay + ":latest").stdout or "{}")
        check(len(insp.get("layers", [])) == 4, "inspect lists 4 layers", json.dumps(insp)[:300])
        check(insp.get("config", {}).get("Entrypoint") == ["/bin/tool"] and
              insp["config"].get("WorkingDir") == "/data" and "A=1" in insp["config"].get("Env", []),
              "inspect shows the config set by umoci", json.dumps(insp.get("config")))
        compare("oci-layout-tag", ref, lay + ":latest", work)
        compare("oci-layout-digest", ref, lay + "@" + insp.get("digest", ""), work)
        compare("oci-layout-lone-manifest", ref, lay, work)
        if ROOT and os.path.exists(shutil.which("busybox") or "/bin/busybox"):
            compare_run(ref, lay + ":latest", work)

        run(["skopeo", "copy", "-q", "oci:%s:latest" % lay, "oci-archive:%s/img-oci.tar:latest" % work])
        compare("oci-archive", ref, work + "/img-oci.tar", work)
        run(["skopeo", "copy", "-q", "oci:%s:latest" % lay, "docker-archive:%s/img-docker.tar:cgprof/interop:latest" % work])
        compare("docker-archive-skopeo", ref, work + "/img-docker.tar:cgprof/interop:latest", work)
        docker_classic(lay, "latest", work + "/docker-classic.tar")
        compare("docker-archive-classic", ref, work + "/docker-classic.tar", work)
        docker_blobs(lay, "latest", work + "/docker-blobs.tar")
        compare("docker-archive-blobs", ref, work + "/docker-blobs.tar:latest", work)

        run(["skopeo", "copy", "-q", "--dest-compress-format", "zstd", "oci:%s:latest" % lay,
             "oci:%s/zstd-oci:latest" % work])
        zi = json.loads(cgprof("image", "inspect", work + "/zstd-oci:latest").stdout or "{}")
        check(all(l["media_type"].endswith("+zstd") for l in zi.get("layers", [{"media_type": ""}])),
              "skopeo --dest-compress-format zstd gives zstd layers", json.dumps(zi.get("layers"))[:300])
        compare("oci-layout-zstd", ref, work + "/zstd-oci:latest", work)
        run(["skopeo", "copy", "-q", "--dest-compress-format", "zstd", "oci:%s:latest" % lay,
             "oci-archive:%s/zstd.tar:latest" % work])
        compare("oci-archive-zstd", ref, work + "/zstd.tar", work)
        run(["skopeo", "copy", "-q", "--dest-oci-accept-uncompressed-layers", "--dest-decompress",
             "oci:%s:latest" % lay, "oci:%s/plain-oci:x" % work], check=False)

        # An image index with two platforms around umoci's manifest: host is picked by default.
        idx = json.load(open(lay + "/index.json"))
        real = dict(idx["manifests"][0])
        real.pop("annotations", None)
        multi = Layout(work + "/multi")
        for f in os.listdir(lay + "/blobs/sha256"):
            shutil.copy(lay + "/blobs/sha256/" + f, work + "/multi/blobs/sha256/" + f)
        arm_desc, _ = multi.image([tar_bytes([{"name": "arm-only", "data": b"arm"}])], write_index=False,
                                  platform={"os": "linux", "architecture": "arm64"})
        real["platform"] = {"os": "linux", "architecture": "amd64"}
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [arm_desc, real]}
        ib = json.dumps(index).encode()
        multi.index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                                         "digest": multi.blob(ib), "size": len(ib),
                                         "annotations": {"org.opencontainers.image.ref.name": "multi"}})
        multi.write_index()
        if os.uname().machine == "x86_64":
            compare("image-index-host-platform", ref, work + "/multi:multi", work)
        a = json.loads(cgprof("image", "inspect", "--platform", "linux/arm64", work + "/multi:multi").stdout or "{}")
        check(a.get("digest") == arm_desc["digest"] and a.get("platform", {}).get("architecture") == "arm64",
              "--platform linux/arm64 selects the arm64 manifest of an index", json.dumps(a)[:200])
        r = cgprof("image", "inspect", "--platform", "linux/s390x", work + "/multi:multi")
        check(r.returncode == 125 and "linux/arm64" in r.stderr and "linux/amd64" in r.stderr,
              "an unavailable platform is an error listing the available ones", r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
