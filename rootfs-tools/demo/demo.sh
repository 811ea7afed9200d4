#!/bin/sh
# The demo image's default command: a short workload with a CPU phase, a memory phase and an
# I/O phase, so a profile shows all three. DEMO_SECONDS scales the CPU phase (default 3).
set -e
secs=${DEMO_SECONDS:-3}
echo "demo: phase 1/3: 4 threads of integer work for ${secs}s"
cpu-burn -t 4 -d "${secs}s" -q
echo "demo: phase 2/3: 192 MiB allocated over 1s and held for 1s"
mem-alloc -s 192m --ramp 1s -H 1s -q
echo "demo: phase 3/3: write 32 MiB, then read it back"
file-read -q -c 32m -b 1m /tmp/demo-data
rm -f /tmp/demo-data
echo "demo: done"
