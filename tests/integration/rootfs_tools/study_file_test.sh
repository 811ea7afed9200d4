#!/bin/bash
# tools/study/torch-study.toml (the original study as a cgprof experiment) stays valid: it
# parses, plans every model of rootfs-tools/torch/infer.py on its three devices, and each
# planned run names a model that infer.py knows.
# Usage: study_file_test.sh SOURCE_DIR CGPROF
set -uo pipefail
src=$1 cgprof=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$("$cgprof" experiment --dry-run -o "$tmp/res" "$src/tools/study/torch-study.toml" 2>&1) \
  || { echo "FAIL dry run: $out"; exit 1; }
grep -q "108 runs (9 workloads x 3 devices x 3 + 1 warm-up)" <<<"$out" || { echo "FAIL plan: $out"; exit 1; }
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
echo "ok   torch-study.toml plans $(wc -l <<<"$planned") models x 3 devices"
