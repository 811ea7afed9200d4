#!/usr/bin/env python3
"""Prints one line per path of a directory tree, sorted: path, type, mode, owner, size, sha256 of
content or link target, device numbers, and the hardlink group (the first path sharing the inode).
Two trees unpacked from the same image must print the same lines (mtimes are left out: tools
differ in whether they restore directory times).

Usage: tree_manifest.py ROOT [--ignore-owner]"""
import hashlib
import os
import stat
import sys


def manifest(root, ignore_owner=False):
    lines, first_path_of_inode, entries = [], {}, []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            entries.append((os.path.relpath(full, root), full))
    entries.sort()
    for rel, full in entries:
        st = os.lstat(full)
        kind = stat.S_IFMT(st.st_mode)
        t = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p",
             stat.S_IFCHR: "c", stat.S_IFBLK: "b", stat.S_IFSOCK: "s"}[kind]
        detail = ""
        if t == "f":
            h = hashlib.sha256()
            with open(full, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            detail = "size=%d sha256=%s" % (st.st_size, h.hexdigest())
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                first_path_of_inode.setdefault(key, rel)
                detail += " hardlink=%s" % first_path_of_inode[key]
        elif t == "l":
            detail = "target=%s" % os.readlink(full)
        elif t in "cb":
            detail = "dev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        owner = "" if ignore_owner else " owner=%d:%d" % (st.st_uid, st.st_gid)
        mode = "" if t == "l" else " mode=%04o" % stat.S_IMODE(st.st_mode)
        lines.append("%s %s%s%s %s" % (rel, t, mode, owner, detail))
    return lines


if __name__ == "__main__":
    for line in manifest(sys.argv[1], "--ignore-owner" in sys.argv):
        print(line)
