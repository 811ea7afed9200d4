#!/bin/sh
# Run every model once with the same iteration count: ITERS (default 5).
for m in $(python3 /opt/app/infer.py --list); do
  python3 /opt/app/infer.py --model "$m" --iters "${ITERS:-5}" || exit $?
done
