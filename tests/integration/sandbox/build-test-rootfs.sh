#!/bin/sh
# Test fixture: a busybox rootfs (rootfs-tools/make-busybox-rootfs) with the sandbox's static
# test programs in /usr/local/bin. Usage: build-test-rootfs.sh MAKE_ROOTFS DIR STAMP PROG...
set -eu
make_rootfs=$1 dir=$2 stamp=$3
shift 3
"$make_rootfs" "$dir"
mkdir -p "$dir/usr/local/bin"
for p in "$@"; do cp "$p" "$dir/usr/local/bin/"; done
touch "$stamp"
