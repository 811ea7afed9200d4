#!/usr/bin/env python3
"""Image-classification inference with torchvision models, for cgprof experiments.

The models are those the original Docker-based study compared. Weights are random
(weights=None, fixed seed), so nothing is downloaded at run time; the compute is the same as
with trained weights. Torch's intra-op threads follow the CPU allowance of the cgroup the
script runs in (cpu.max quota / period, and the CPUs it may run on), as a deployed script on
the device would use the device's cores.

Prints one key=value line: model, iterations, threads, model build time, inference wall and CPU
time, mean latency per inference, peak RSS."""
import argparse
import math
import os
import resource
import sys
import time

MODELS = {
    # name: (torchvision constructor, keyword arguments, input side)
    "resnet18": ("resnet18", {}, 224),
    "squeezenet1_0": ("squeezenet1_0", {}, 224),
    "mobilenet_v2_0.25": ("mobilenet_v2", {"width_mult": 0.25}, 224),
    "mobilenet_v2_0.5": ("mobilenet_v2", {"width_mult": 0.5}, 224),
    "mobilenet_v2_0.75": ("mobilenet_v2", {"width_mult": 0.75}, 224),
    "mobilenet_v2_1.0": ("mobilenet_v2", {"width_mult": 1.0}, 224),
    "shufflenet_v2_x0_5": ("shufflenet_v2_x0_5", {}, 224),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}, 224),
    "inception_v3": ("inception_v3", {"aux_logits": False, "init_weights": True}, 299),
}


def cgroup_cpu_allowance():
    """CPUs this process may use: min(affinity, ceil(cpu.max quota/period)) of its cgroup."""
    cpus = len(os.sched_getaffinity(0))
    try:
        rel = ""
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    rel = line[3:].strip()
        # Inside a cgroup namespace the own cgroup is the root of /sys/fs/cgroup.
        for path in (os.path.join("/sys/fs/cgroup", rel.lstrip("/"), "cpu.max"),
                     "/sys/fs/cgroup/cpu.max"):
            if os.path.exists(path):
                quota, period = open(path).read().split()[:2]
                if quota != "max":
                    cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
                break
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), help="model to run")
    p.add_argument("--iters", type=int, default=10, help="timed inferences (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="untimed inferences first (default 1)")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads (default: the cgroup's CPU allowance)")
    p.add_argument("--list", action="store_true", help="list the models and exit")
    a = p.parse_args()
    if a.list:
        print("\n".join(sorted(MODELS)))
        return 0
    if not a.model:
        p.error("--model is required (see --list)")

    import torch
    import torchvision

    threads = a.threads or cgroup_cpu_allowance()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ctor, kwargs, side = MODELS[a.model]
    t0 = time.monotonic()
    model = getattr(torchvision.models, ctor)(weights=None, **kwargs).eval()
    build_s = time.monotonic() - t0
    x = torch.randn(a.batch, 3, side, side)
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        c0, t0 = time.process_time(), time.monotonic()
        for _ in range(a.iters):
            y = model(x)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("infer: model=%s iters=%d batch=%d threads=%d build_s=%.3f wall_s=%.6f cpu_s=%.6f "
          "ms_per_inference=%.3f peak_rss=%d torch=%s torchvision=%s out=%s" %
          (a.model, a.iters, a.batch, threads, build_s, wall, cpu, 1000 * wall / max(1, a.iters),
           rss, torch.__version__, torchvision.__version__, tuple(y.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
