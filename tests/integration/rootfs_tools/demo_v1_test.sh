#!/bin/bash
# The README's quick start, profiling step (tools/demo-profile, as tools/demo runs it), natively
# on a hybrid or cgroup v1 host as root: rpi4's limits become v1 files, the demo runs its phases,
# and the result directory and HTML report are complete. Skipped (77) elsewhere: the VM suite's
# demo test covers pure v2.
# Usage: demo_v1_test.sh SOURCE_DIR BUILD_DIR CGPROF
set -uo pipefail
src=$1 build=$2 cgprof=$3
if [ "$(id -u)" != 0 ] || ! grep -Eq ' - cgroup [^ ]+ ([^ ]*,)?memory(,[^ ]*)?$' /proc/self/mountinfo; then
  echo "skip: needs root on a host with cgroup v1 controllers"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CGPROF_IMAGES_DIR=$tmp/images CGPROF_NO_NINJA=1
"$src/rootfs-tools/build-demo-image" "$build" >"$tmp/image.log" 2>&1 || { cat "$tmp/image.log"; exit 1; }
out=$tmp/result
"$src/tools/demo-profile" "$cgprof" rpi4 "$tmp/images/demo-oci:latest" "$out" -e DEMO_SECONDS=1 \
  >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }
grep -q "demo: done" "$tmp/demo.log" || { echo "FAIL: the demo did not finish"; cat "$tmp/demo.log"; exit 1; }
python3 - "$out" <<'PY' || { cat "$tmp/demo.log"; exit 1; }
import json, os, sys
out = sys.argv[1]
j = json.load(open(os.path.join(out, "run.json")))
assert j["cgroup"]["version"] == 1, j["cgroup"]
lw = j["device"]["limits_written"]
# configs/devices/rpi4.toml: 4 cores x speed 0.22 = 0.88 CPU; 4 GiB; no swap.
assert lw["cpu.cfs_quota_us"] == "88000" and lw["cpu.cfs_period_us"] == "100000", lw
assert lw["memory.limit_in_bytes"] == "4294967296", lw
assert j["exit"]["status"] == 0, j["exit"]
# Phase 2 allocates and touches 192 MiB. (Throttling in phase 1 depends on the host's load: the
# cgroup-v1 tests check it with a quota a single busy thread always exceeds.)
assert j["totals"]["memory"]["peak_bytes"] >= 192 * 1024 * 1024, j["totals"]["memory"]
assert j["totals"]["memory"]["peak_source"] == "memory.max_usage_in_bytes"
assert j["totals"]["pressure"] is None
assert j["sampler"]["samples"] > 0
html = open(os.path.join(out, "report.html")).read()
assert j["run_id"] in html
for path in j["cgroup"]["paths"].values():
    assert not os.path.exists(path), path + " left behind"
print("ok   demo profiled natively on cgroup v1:", sorted(j["cgroup"]["paths"]))
PY
