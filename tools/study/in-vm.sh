#!/bin/bash
# The study's runs, inside the cgroup v2 VM (tools/study/run starts it via tests/vm/run-in-vm).
# Usage: tools/study/in-vm.sh CGPROF IMAGE RESULTS_DIR ITERS REPEATS "PROFILES" "MODELS"
# The image store lives on the VM's scratch disk (the torch image is 1.4 GB unpacked).
set -uo pipefail
cgprof=$1 image=$2 results=$3 iters=$4 repeats=$5 profiles=$6 models=$7
if mountpoint -q /mnt/scratch; then export CGPROF_CACHE_DIR=/mnt/scratch/cgprof-cache; fi
t0=$(date +%s)
echo "study: unpacking the image once"
"$cgprof" image unpack "$image" >/dev/null 2>&1 || true
for rep in $(seq "$repeats"); do
  for prof in $profiles; do
    for m in $models; do
      d=$results/$prof/$m/$rep
      [ -f "$d/run.json" ] && continue   # resumable
      mkdir -p "$(dirname "$d")"
      "$cgprof" run --device "$prof" --label model="$m" --label profile="$prof" --output "$d" -q \
        "$image" python3 /opt/app/infer.py --model "$m" --iters "$iters" --warmup 1 >"$d.out" 2>&1
      rc=$?
      [ -d "$d" ] && mv "$d.out" "$d/infer.out"
      echo "study: $(( $(date +%s) - t0 ))s rep $rep $prof $m: exit $rc $(grep -ho 'ms_per_inference=[0-9.]*' "$d/infer.out" "$d.out" 2>/dev/null | head -1)"
    done
  done
done
