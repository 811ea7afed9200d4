#!/bin/sh
# Regenerates the fixtures in this directory from a real kernel (cgroup v2):
#   /work/shared/tools/run-in-vm tests/data/cgroupfs/capture.sh "$PWD"
# Creates a cgroup with a CPU quota, runs a CPU burner, a direct-I/O read and a memory user in
# it, then copies its stat files here as <file>.txt.
set -e
out=tests/data/cgroupfs
cg=/sys/fs/cgroup/cgprof-fixture
echo "+cpu +memory +io +pids" > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg
echo "20000 100000" > $cg/cpu.max
echo 64M > $cg/memory.max
sh -c "echo \$\$ > $cg/cgroup.procs; i=0; while [ \$i -lt 20000 ]; do i=\$((i+1)); done;
       dd if=/dev/vda of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null;
       head -c 8000000 /dev/zero | tail -c 1 >/dev/null; mkdir -p /tmp/x; head -c 3000000 /dev/urandom > /tmp/x/f"
for f in cpu.stat memory.stat memory.events io.stat cpu.pressure memory.pressure io.pressure \
         memory.current memory.peak pids.current memory.max; do
  if [ -r $cg/$f ]; then cat $cg/$f > $out/$f.txt; else echo "no $f"; fi
done
cat /proc/self/net/dev > $out/net_dev.txt
uname -r > $out/KERNEL
rm -f /tmp/x/f
rmdir $cg
ls -l $out
