#!/bin/bash
# rootfs-tools/build-demo-image writes a valid three-layer OCI layout (busybox, a trimmed Python,
# workloads) whose config runs the demo, rebuilds nothing when its inputs are unchanged, and the
# unpacked image runs its workloads and its Python model script with nothing from the host.
# Usage: demo_image_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
export CGPROF_IMAGES_DIR=$tmp/out CGPROF_NO_NINJA=1

out=$("$src/rootfs-tools/build-demo-image" "$build" 2>&1); rc=$?
[ $rc = 0 ] && pass "builds" || { fail "builds" "rc=$rc: $out"; exit 1; }
grep -q "layers: 3" <<<"$out" && pass "reports three layers" || fail "report" "$out"
layout=$tmp/out/demo-oci
[ "$(cat "$layout/oci-layout")" = '{"imageLayoutVersion":"1.0.0"}' ] && pass "oci-layout file" \
  || fail "oci-layout" "$(cat "$layout/oci-layout")"
inspect=$(skopeo inspect --config "oci:$layout:latest") || fail "skopeo reads it" "$inspect"
python3 - "$inspect" <<'PY' && pass "config: Cmd, Env, WorkingDir" || fail "config" "$inspect"
import json, sys
c = json.loads(sys.argv[1])["config"]
assert c["Cmd"] == ["/usr/local/bin/demo"], c
assert any(e.startswith("PATH=/usr/local/bin") for e in c["Env"]), c
assert c["WorkingDir"] == "/srv/demo", c
PY
digest1=$(cat "$layout/index.json")

out=$("$src/rootfs-tools/build-demo-image" "$build" 2>&1)
grep -q "up to date" <<<"$out" && pass "second run rebuilds nothing" || fail "idempotent" "$out"
[ "$(cat "$layout/index.json")" = "$digest1" ] && pass "index unchanged" || fail "index changed" ""
[ -z "$(ls -A "$tmp/out" | grep '^\.build')" ] && pass "no temp dirs left" || fail "temp left" "$(ls -A "$tmp/out")"

umoci unpack $([ "$(id -u)" = 0 ] || echo --rootless) --image "$layout:latest" "$tmp/bundle" >/dev/null \
  && pass "umoci unpacks it" || fail "unpack" ""
root=$tmp/bundle/rootfs
for f in bin/sh bin/busybox usr/local/bin/cpu-burn usr/local/bin/mem-alloc usr/local/bin/file-read \
  usr/local/bin/fork-heavy usr/local/bin/demo etc/passwd usr/bin/python3 \
  usr/local/lib/cgprof/cgprof_phase.py usr/local/lib/cgprof/example_infer.py; do
  [ -e "$root/$f" ] || fail "file in image" "$f missing"
done
pass "files present"
if [ "$(id -u)" = 0 ]; then
  out=$(chroot "$root" /usr/local/bin/cpu-burn -w 3 -q) && grep -q "units=3" <<<"$out" \
    && pass "workload runs inside the image root" || fail "chroot run" "$out"
  # The trimmed stdlib still has what a model script typically imports; the cut parts are gone.
  out=$(chroot "$root" /usr/bin/python3 -c 'import argparse, json, random, math, time, struct, array
import collections, dataclasses, statistics, csv, zlib, ctypes, subprocess, multiprocessing
import importlib.util
for gone in ("test", "tkinter", "idlelib", "lib2to3", "ensurepip", "pydoc_data", "ssl"):
    assert importlib.util.find_spec(gone) is None, gone
print("python ok")' 2>&1) && grep -q "python ok" <<<"$out" \
    && pass "python3 in the image imports the stdlib it keeps, not the parts cut" || fail "python" "$out"
  out=$(chroot "$root" /bin/sh -c 'DEMO_SECONDS=0.2 DEMO_INFERENCES=3 PATH=/usr/local/bin:/usr/bin:/bin demo' 2>&1) \
    && grep -q "example-infer: inferences=3 " <<<"$out" && grep -q "demo: done" <<<"$out" \
    && pass "demo script runs to the end, its Python model too" || fail "demo" "$out"
fi
echo "$fails failure(s)"
[ $fails = 0 ]
