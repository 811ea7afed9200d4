#!/usr/bin/env python3
"""A small numpy workload for cgprof: matrix products, element-wise work and an allocation.

Prints one key=value line at the end, like the static workloads do."""
import argparse
import os
import time

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=384, help="matrix side (default 384)")
    p.add_argument("--iters", type=int, default=20, help="matrix products (default 20)")
    p.add_argument("--alloc-mib", type=int, default=128, help="array allocated and touched (MiB)")
    a = p.parse_args()

    t0, c0 = time.monotonic(), time.process_time()
    rng = np.random.default_rng(42)
    x = rng.standard_normal((a.size, a.size))
    y = rng.standard_normal((a.size, a.size))
    acc = 0.0
    for _ in range(a.iters):
        z = x @ y
        acc += float(np.tanh(z).sum())
        x, y = y, z / np.linalg.norm(z)
    big = np.ones(a.alloc_mib * 1024 * 1024 // 8)
    acc += float(big.sum())
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    print("numpy-bench: size=%d iters=%d alloc_mib=%d wall_s=%.6f cpu_s=%.6f numpy=%s "
          "cpus_visible=%d checksum=%.6g" % (a.size, a.iters, a.alloc_mib, wall, cpu,
                                             np.__version__, len(os.sched_getaffinity(0)), acc))


if __name__ == "__main__":
    main()
