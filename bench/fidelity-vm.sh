#!/bin/bash
# Inside the cgroup v2 VM (run by bench/fidelity through tests/vm/run-in-vm), as root, in the
# repository root. Emulation fidelity: how exactly cgprof's limits slow a CPU-bound job, next
# to the same limit written by hand into a bare cgroup (the kernel's own behaviour, the floor);
# and the run time of a cache-hit `cgprof run IMAGE` next to `cgprof run --rootfs` of the same
# tree (no image handling at all).
# Usage: bench/fidelity-vm.sh [BUILD_DIR] [REPEATS]
set -uo pipefail
build=${1:-build} repeats=${2:-3}
wl=$PWD/$build/rootfs-tools/workloads
cgprof=$PWD/$build/src/cli/cgprof
image=$PWD/rootfs-tools/out/demo-oci:latest
cg=/sys/fs/cgroup
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
bench() { echo "BENCH $1"; }

echo "fidelity: $(nproc) vCPUs, kernel $(uname -r), $repeats repeats, median reported"
echo "+cpu +cpuset +memory +pids" >"$cg/cgroup.subtree_control" 2>/dev/null || true

# Work sized so one thread takes ~2 s unconstrained here (TCG speed varies with host load).
rate=$("$wl/cpu-burn" -d 1 -q | field units_per_s)
work=$(awk -v r="$rate" 'BEGIN {w = int(2 * r); print (w < 4) ? 4 : w}')
echo "fidelity: one thread does $rate units/s; jobs of $work units per thread"

# raw NAME CPU_MAX CPUSET THREADS: "wall_s cpu_cores" of cpu-burn in a hand-made cgroup.
raw() {
  local d=$cg/bench-fid-$1 out
  mkdir "$d"
  [ -n "$2" ] && echo "$2" >"$d/cpu.max"
  [ -n "$3" ] && echo "$3" >"$d/cpuset.cpus"
  out=$(sh -c "echo \$\$ > $d/cgroup.procs && exec $wl/cpu-burn -t $4 -w $(($4 * work)) -q")
  rmdir "$d"
  echo "$(field wall_s <<<"$out") $(field cpu_cores <<<"$out")"
}
# viacg THREADS ARGS...: "wall_s cpu_cores" of cpu-burn under `cgprof run ARGS IMAGE`.
viacg() {
  local t=$1 out
  shift
  out=$("$cgprof" run "$@" --output "/tmp/fid-res-$RANDOM" "$image" \
    /usr/local/bin/cpu-burn -t "$t" -w $((t * work)) -q 2>/dev/null)
  echo "$(field wall_s <<<"$out") $(field cpu_cores <<<"$out")"
}
# The host is shared and the VM's CPU is emulated, so speed drifts during the run: each
# constrained run is paired with an unconstrained run right before it, and the median of the
# per-pair ratios is reported, with the cores the job itself saw (its CPU time / wall time),
# which the guest kernel accounts independently of the host's load.
# pairs LABEL BASE_CMD... -- LIMITED_CMD...: prints "median_time_ratio median_cores_limited".
pairs() {
  local label=$1 i b l base=() lim=()
  shift
  while [ "$1" != -- ]; do base+=("$1"); shift; done
  shift
  lim=("$@")
  for i in $(seq "$repeats"); do
    b=$("${base[@]}") l=$("${lim[@]}")
    echo "fidelity: $label pair $i: unconstrained wall/cores $b, limited $l" >&2
    echo "$b $l"
  done >/tmp/fid-pairs
  echo "$(awk '$1 > 0 {print $3 / $1}' /tmp/fid-pairs | median) $(awk '{print $4}' /tmp/fid-pairs | median)"
}
r3() { printf "%.3f" "$1"; }

set -- $(pairs "bare cgroup cpu.max 50000 100000" raw b1 "" "" 1 -- raw half "50000 100000" "" 1); half_raw=$1 half_raw_cores=$2
set -- $(pairs "bare cgroup cpuset 0" raw b2 "" "" 2 -- raw one "" 0 2); one_raw=$1 one_raw_cores=$2
echo "fidelity: bare cgroup: --cpus 0.5 time ratio $half_raw (job saw $half_raw_cores cores); cpuset 0 two threads ratio $one_raw ($one_raw_cores cores)"

set -- $(pairs "cgprof --cpus 0.5" viacg 1 --device host -- viacg 1 --cpus 0.5); r_half=$1 half_cores=$2
set -- $(pairs "cgprof --cpuset 0" viacg 2 --device host -- viacg 2 --cpuset 0); r_one=$1 one_cores=$2
echo "fidelity: cgprof run: --cpus 0.5 time ratio $r_half (job saw $half_cores cores); --cpuset 0 ratio $r_one ($one_cores cores)"
bench "{\"metric\": \"--cpus 0.5: CPU-bound job time / unconstrained (VM)\", \"value\": $(r3 "$r_half"), \"peer\": \"bare cgroup, cpu.max 50000 100000\", \"peer_value\": $(r3 "$half_raw"), \"ratio\": $(r3 "$(awk -v a="$r_half" 'BEGIN {print a / 2}')"), \"goal\": \"value 2.0; ratio = value/2.0, ideal 1.00\"}"
bench "{\"metric\": \"--cpus 0.5: cores the job saw (VM)\", \"value\": $(r3 "$half_cores"), \"peer\": \"bare cgroup\", \"peer_value\": $(r3 "$half_raw_cores"), \"ratio\": $(r3 "$(awk -v a="$half_cores" 'BEGIN {print a / 0.5}')"), \"goal\": \"value 0.50; ratio = value/0.5\"}"
bench "{\"metric\": \"--cpuset 0: two-thread job time / unconstrained (VM)\", \"value\": $(r3 "$r_one"), \"peer\": \"bare cgroup, cpuset.cpus 0\", \"peer_value\": $(r3 "$one_raw"), \"ratio\": $(r3 "$(awk -v a="$r_one" 'BEGIN {print a / 2}')"), \"goal\": \"value 2.0 with 2 vCPUs; ratio = value/2.0\"}"
bench "{\"metric\": \"--cpuset 0: cores a two-thread job saw (VM)\", \"value\": $(r3 "$one_cores"), \"peer\": \"bare cgroup\", \"peer_value\": $(r3 "$one_raw_cores"), \"ratio\": $(r3 "$one_cores"), \"goal\": \"value 1.00\"}"

# Cache-hit run time: the image is unpacked by the first run; later runs only look it up.
rootfs=/tmp/fid-rootfs
rm -rf "$rootfs" && umoci unpack --image "$image" "$rootfs" >/dev/null
"$cgprof" run --device host --output /tmp/fid-res-warm "$image" true >/dev/null 2>&1
timed() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000)); }
hit=$(for i in $(seq $((repeats * 2))); do timed "$cgprof" run --device host --output "/tmp/fid-res-$RANDOM" "$image" true; done | median)
floor=$(for i in $(seq $((repeats * 2))); do timed "$cgprof" run --device host --output "/tmp/fid-res-$RANDOM" --rootfs "$rootfs/rootfs" true; done | median)
bench "{\"metric\": \"cache-hit run time, cgprof run IMAGE true (VM)\", \"value\": $(awk -v v="$hit" 'BEGIN {printf "%.1f", v / 1000}'), \"unit\": \"ms\", \"peer\": \"cgprof run --rootfs (same tree)\", \"peer_value\": $(awk -v v="$floor" 'BEGIN {printf "%.1f", v / 1000}'), \"ratio\": $(awk -v a="$hit" -v b="$floor" 'BEGIN {printf "%.3f", a / b}'), \"goal\": \"<= 1.1\"}"
rm -rf /tmp/fid-res-* "$rootfs"
