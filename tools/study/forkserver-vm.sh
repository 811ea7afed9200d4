#!/bin/sh
# In the cgroup v2 VM: mount the torch image's root (an ext4 image of it, loop-mounted read-only),
# give it /proc, /sys (with the cgroup2 hierarchy), /dev, a tmpfs /tmp, the results directory,
# and run tools/study/forkserver.py in it.
# Usage: forkserver-vm.sh ROOTFS_IMG RESULTS_DIR ITERS "MODELS" PROFILE_SPEC...
set -eu
img=$1 results=$2 iters=$3 models=$4
shift 4
r=/mnt/torch
mkdir -p $r
mount -o loop,ro "$img" $r
mount -t tmpfs tmpfs $r/tmp
mount --bind /dev $r/dev
mount -t proc proc $r/proc
mount --rbind /sys $r/sys
mount --bind "$results" $r/mnt
cp tools/study/forkserver.py $r/tmp/   # run-in-vm runs us in the work dir (the repo)
t0=$(date +%s)
chroot $r python3 /tmp/forkserver.py /mnt/study.jsonl "$iters" "$models" "$@"
echo "study: done in $(( $(date +%s) - t0 )) s"
