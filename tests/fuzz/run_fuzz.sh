#!/bin/bash
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for a bounded time on a corpus
# seeded from the test data. A crash, leak, sanitizer report or broken invariant fails the test and
# leaves the input in OUT/NAME-crash-*, with the command that reproduces it.
#
# Usage: run_fuzz.sh --name NAME --out DIR [--seconds N] [--seeds DIR_OR_FILE]... [--seed-gen SCRIPT]
#                    [--cxxflag FLAG]... [--lib -lX]... SOURCE...
# SOURCEs are relative to the source tree; the first one defines LLVMFuzzerTestOneInput.
# FUZZ_SECONDS overrides --seconds (e.g. FUZZ_SECONDS=600 for a longer hunt).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
name= out= seconds=20 seeds=() gens=() flags=() libs=() sources=()
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --seeds) seeds+=("$2"); shift 2 ;;
    --seed-gen) gens+=("$2"); shift 2 ;;
    --cxxflag) flags+=("$2"); shift 2 ;;
    --lib) libs+=("$2"); shift 2 ;;
    -*) echo "run_fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) sources+=("$1"); shift ;;
  esac
done
[ -n "$name" ] && [ -n "$out" ] && [ ${#sources[@]} -gt 0 ] || { sed -n 6,9p "$0" >&2; exit 2; }
seconds=${FUZZ_SECONDS:-$seconds}
cxx=${FUZZ_CXX:-clang++}
command -v "$cxx" >/dev/null || { echo "run_fuzz.sh: $cxx not found (apt-get install clang)" >&2; exit 1; }
cc=()
command -v ccache >/dev/null && cc=(ccache)

# Build: one object per source (so ccache reuses the unchanged ones), then link.
work="$out/$name"
mkdir -p "$work/obj"
cflags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -I"$root/include" -I"$root" "${flags[@]}")
objs=()
for s in "${sources[@]}"; do
  o="$work/obj/$(echo "$s" | tr / _).o"
  "${cc[@]}" "$cxx" "${cflags[@]}" -I"$root/$(dirname "$s")" -c "$root/$s" -o "$o"
  objs+=("$o")
done
"$cxx" -fsanitize=fuzzer,address,undefined "${objs[@]}" "${libs[@]}" -o "$work/fuzzer"

# Corpus: kept between runs in the build dir, topped up with the seeds every time.
corpus="$work/corpus"
mkdir -p "$corpus"
for s in "${seeds[@]}"; do
  if [ -d "$root/$s" ]; then find "$root/$s" -maxdepth 1 -type f -exec cp -t "$corpus" {} +
  else cp "$root/$s" "$corpus/"; fi
done
for g in "${gens[@]}"; do "$root/$g" "$corpus"; done

echo "fuzzing $name for ${seconds}s ($(ls "$corpus" | wc -l) corpus inputs)"
cd "$work"
if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ./fuzzer -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/$name-crash-" "$corpus" 2>fuzz.log; then
  tail -n 60 fuzz.log
  echo "FAIL $name: the input is in $(ls -t "$work/$name"-crash-* 2>/dev/null | head -1);" \
       "reproduce with: $work/fuzzer INPUT" >&2
  exit 1
fi
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' fuzz.log || tail -n 5 fuzz.log
