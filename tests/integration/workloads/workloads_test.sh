#!/bin/bash
# Behaviour of the static workloads in rootfs-tools/workloads/ (the tests, the demo and the
# benchmarks read their output lines, so the format and the numbers they report are checked).
# Usage: workloads_test.sh DIR_WITH_WORKLOADS
set -uo pipefail
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2" | tail -1; }
expect_eq() { if [ "$3" = "$4" ]; then pass "$1: $2"; else fail "$1: $2" "expected '$4', got '$3'"; fi; }

for w in cpu-burn mem-alloc file-read fork-heavy; do
  out=$("$dir/$w" --help); rc=$?
  [ $rc = 0 ] && grep -q "^Usage: $w" <<<"$out" && pass "$w --help" || fail "$w --help" "rc=$rc"
  file "$dir/$w" | grep -q 'statically linked' && pass "$w is static" || fail "$w is static" "$(file "$dir/$w")"
  "$dir/$w" --no-such-option >/dev/null 2>&1; expect_eq "$w" "unknown option exits 2" $? 2
done

# cpu-burn: fixed work is done exactly, whatever the thread count.
out=$("$dir/cpu-burn" -t 3 -w 37 -q)
expect_eq cpu-burn "fixed work over 3 threads" "$(field units "$out")" 37
expect_eq cpu-burn "threads reported" "$(field threads "$out")" 3
out=$("$dir/cpu-burn" -d 200ms -q)
[ "$(field units "$out")" -gt 0 ] && pass "cpu-burn: duration mode does work" || fail "cpu-burn duration" "$out"
awk -v w="$(field wall_s "$out")" 'BEGIN{exit !(w >= 0.2)}' && pass "cpu-burn: runs at least its duration" \
  || fail "cpu-burn: duration" "$out"
"$dir/cpu-burn" -d 1 -w 5 2>/dev/null; expect_eq cpu-burn "--duration with --work rejected" $? 2
"$dir/cpu-burn" -t 0 2>/dev/null; expect_eq cpu-burn "--threads 0 rejected" $? 2

# mem-alloc: touched pages are resident (VmHWM covers them); --no-touch leaves them unbacked.
out=$("$dir/mem-alloc" -s 96m -q)
expect_eq mem-alloc "touched the whole size" "$(field touched "$out")" $((96 << 20))
[ "$(field vm_hwm "$out")" -ge $((96 << 20)) ] && pass "mem-alloc: resident peak covers the size" \
  || fail "mem-alloc: resident peak" "$out"
out=$("$dir/mem-alloc" -s 96m --no-touch)
[ "$(field vm_hwm "$out")" -lt $((32 << 20)) ] && pass "mem-alloc: --no-touch stays small" \
  || fail "mem-alloc --no-touch" "$out"
out=$("$dir/mem-alloc" -s 10m -p 4m)
expect_eq mem-alloc "progress lines every 4m" "$(grep -c '^mem-alloc: touched=' <<<"$out")" 2
"$dir/mem-alloc" 2>/dev/null; expect_eq mem-alloc "--size required" $? 2
"$dir/mem-alloc" -s 12q 2>/dev/null; expect_eq mem-alloc "bad size rejected" $? 2

# file-read: exact byte and file counts over a tree; symlinks not followed; --limit; --create.
mkdir -p "$tmp/tree/sub/deeper"
head -c 1000 /dev/zero >"$tmp/tree/a"
head -c 70000 /dev/zero >"$tmp/tree/sub/b"
head -c 300000 /dev/zero >"$tmp/tree/sub/deeper/c"
ln -s /usr "$tmp/tree/link-out"
out=$("$dir/file-read" -b 4k "$tmp/tree")
expect_eq file-read "files in tree" "$(field files "$out")" 3
expect_eq file-read "bytes in tree (symlink not followed)" "$(field bytes "$out")" 371000
out=$("$dir/file-read" -l 50000 "$tmp/tree/sub/deeper/c")
expect_eq file-read "--limit stops reading" "$(field bytes "$out")" 50000
out=$("$dir/file-read" -c 3m -b 256k "$tmp/created")
expect_eq file-read "--create then read" "$(field bytes "$out")" $((3 << 20))
expect_eq file-read "created file size" "$(stat -c %s "$tmp/created")" $((3 << 20))
"$dir/file-read" "$tmp/missing" >/dev/null 2>"$tmp/err"; rc=$?
expect_eq file-read "missing path exits 1" $rc 1
grep -q "$tmp/missing" "$tmp/err" && pass "file-read: error names the path" || fail "file-read err" "$(cat "$tmp/err")"
"$dir/file-read" --direct -b 1000 "$tmp/tree" 2>/dev/null; expect_eq file-read "--direct needs aligned block" $? 2

# fork-heavy: exact counts; a bomb under a process limit stops at the limit with EAGAIN.
out=$("$dir/fork-heavy" -n 150 -j 5)
expect_eq fork-heavy "spawn count" "$(field created "$out")" 150
out=$("$dir/fork-heavy" -n 20 -x /bin/true)
expect_eq fork-heavy "spawn+exec count" "$(field created "$out")" 20
out=$("$dir/fork-heavy" --bomb 40 -q)
expect_eq fork-heavy "bomb reaches its bound" "$(field created "$out")" 40
# RLIMIT_NPROC counts processes of the real uid; an otherwise unused uid makes it exact.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  cp "$dir/fork-heavy" "$tmp/fh" && chmod 755 "$tmp" "$tmp/fh"
  out=$(cd / && setpriv --reuid=54321 --regid=54321 --clear-groups bash -c "ulimit -u 25; exec $tmp/fh --bomb 1000 -q")
  rc=$?
  expect_eq fork-heavy "bomb under a limit exits 3" $rc 3
  expect_eq fork-heavy "bomb under a limit reports EAGAIN" "$(field errno "$out")" EAGAIN
  created=$(field created "$out")
  [ -n "$created" ] && [ "$created" -lt 25 ] && pass "fork-heavy: bomb stopped below the limit ($created)" \
    || fail "fork-heavy: bomb under limit" "$out"
  left=$(pgrep -u 54321 -c || true)
  expect_eq fork-heavy "no children left behind" "$left" 0
else
  echo "skip fork-heavy bomb-under-limit (needs root and setpriv)"
fi

echo "$fails failure(s)"
[ $fails = 0 ]
