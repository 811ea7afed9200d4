#!/bin/bash
# experiments/study.toml (the original study as a cgprof experiment, issue 15) stays valid: it
# parses, plans every model of rootfs-tools/torch/infer.py on its six devices (the host, its
# one-CPU host and one-core Jetson Nano files and three bundled profiles) with a 10 ms CFS period, and each planned run names a model that
# infer.py knows.
# Usage: study_file_test.sh SOURCE_DIR CGPROF
set -uo pipefail
src=$1 cgprof=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$("$cgprof" experiment --dry-run -o "$tmp/res" "$src/experiments/study.toml" 2>&1) \
  || { echo "FAIL dry run: $out"; exit 1; }
grep -q "360 runs (10 workloads x 6 devices x 5 + 1 warm-up)" <<<"$out" || { echo "FAIL plan: $out"; exit 1; }
models=$(python3 - "$src/rootfs-tools/torch/infer.py" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MODELS":
        print("\n".join(k.value for k in node.value.keys))
PY
)
planned=$(grep -o -- '--model [^ ]*' <<<"$out" | cut -d' ' -f2 | sort -u)
[ "$planned" = "$(sort <<<"$models")" ] || { echo "FAIL models: planned [$planned] vs infer.py [$models]"; exit 1; }
grep -q -- "--device devices/jetson-nano-1core.toml " <<<"$out" \
  || { echo "FAIL the one-core Jetson Nano file is not planned: $(head -3 <<<"$out")"; exit 1; }
grep -q -- "--device devices/host-1core.toml " <<<"$out" \
  || { echo "FAIL the one-CPU host reference is not planned: $(head -3 <<<"$out")"; exit 1; }
grep -q -- "-e OMP_WAIT_POLICY=PASSIVE --cpu-period 10ms " <<<"$out" \
  || { echo "FAIL runs without OMP_WAIT_POLICY=PASSIVE and a 10 ms period: $(head -3 <<<"$out")"; exit 1; }
echo "ok   study.toml plans $(wc -l <<<"$planned") models x 6 devices"
