#!/bin/sh
# The demo image's default command: a short workload with a CPU phase, a memory phase and an
# I/O phase, so a profile shows all three. DEMO_SECONDS scales the CPU phase (default 3).
# Each phase is marked for cgprof ($CGPROF_MARK), so the result has per-phase totals.
set -e
secs=${DEMO_SECONDS:-3}
mark() { [ -z "$CGPROF_MARK" ] || echo "$1" > "$CGPROF_MARK"; }
echo "demo: phase 1/3: 4 threads of integer work for ${secs}s"
mark cpu
cpu-burn -t 4 -d "${secs}s" -q
echo "demo: phase 2/3: 192 MiB allocated over 1s and held for 1s"
mark memory
mem-alloc -s 192m --ramp 1s -H 1s -q
echo "demo: phase 3/3: write 32 MiB, then read it back"
mark io
file-read -q -c 32m -b 1m /tmp/demo-data
rm -f /tmp/demo-data
mark -
echo "demo: done"
