#!/bin/sh
# The demo image's default command: a short workload with a CPU phase, a memory phase, an I/O
# phase and a small Python model (load, then one phase per inference), so a profile shows all of
# them. DEMO_SECONDS scales the CPU phase (default 3), DEMO_INFERENCES the inferences (default 20).
# Phases 1-3 are marked for cgprof ($CGPROF_MARK) from the shell, phase 4 from Python with
# cgprof_phase.py, so the result has per-phase totals and a per-inference latency.
set -e
secs=${DEMO_SECONDS:-3}
inferences=${DEMO_INFERENCES:-20}
mark() { [ -z "$CGPROF_MARK" ] || echo "$1" > "$CGPROF_MARK"; }
echo "demo: phase 1/4: 4 threads of integer work for ${secs}s"
mark cpu
cpu-burn -t 4 -d "${secs}s" -q
echo "demo: phase 2/4: 192 MiB allocated over 1s and held for 1s"
mark memory
mem-alloc -s 192m --ramp 1s -H 1s -q
echo "demo: phase 3/4: write 32 MiB, then read it back"
mark io
file-read -q -c 32m -b 1m /tmp/demo-data
rm -f /tmp/demo-data
mark -
echo "demo: phase 4/4: a small pure-Python network: load, then $inferences inferences"
python3 /usr/local/lib/cgprof/example_infer.py --inferences "$inferences"
echo "demo: done"
