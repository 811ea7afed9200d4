#!/usr/bin/env python3
"""Image-classification inference with torchvision models, for cgprof experiments.

The models are those the original Docker-based study compared. Weights are random
(weights=None, fixed seed), so nothing is downloaded at run time; the compute is the same as
with trained weights. Torch's intra-op threads follow the CPU allowance of the cgroup the
script runs in (quota / period, from cgroup v2 cpu.max or cgroup v1 cpu.cfs_quota_us and
cpu.cfs_period_us, and the CPUs it may run on), as a deployed script on the device would use the
device's cores.

Under cgprof it marks phases through $CGPROF_MARK: `load` (imports, model build, warm-up), then
one `infer` per timed inference, so run.json has per-inference latency (phase.infer.wall_p50).

Prints one key=value line: model, iterations, threads (and where the count came from), model
build time, inference wall and CPU time, mean and median latency per inference, peak RSS."""
import argparse
import math
import os
import resource
import statistics
import sys
import time

MODELS = {
    # name: (torchvision constructor, keyword arguments, input side)
    "resnet18": ("resnet18", {}, 224),
    "squeezenet1_0": ("squeezenet1_0", {}, 224),
    "squeezenet1_1": ("squeezenet1_1", {}, 224),
    "mobilenet_v2_0.25": ("mobilenet_v2", {"width_mult": 0.25}, 224),
    "mobilenet_v2_0.5": ("mobilenet_v2", {"width_mult": 0.5}, 224),
    "mobilenet_v2_0.75": ("mobilenet_v2", {"width_mult": 0.75}, 224),
    "mobilenet_v2_1.0": ("mobilenet_v2", {"width_mult": 1.0}, 224),
    "shufflenet_v2_x0_5": ("shufflenet_v2_x0_5", {}, 224),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}, 224),
    "inception_v3": ("inception_v3", {"aux_logits": False, "init_weights": True}, 299),
}


def _cgroup_dirs(controller):
    """Directories of this process's cgroup that may hold `controller`'s files, most specific
    first: from /proc/self/mountinfo and /proc/self/cgroup (v2 "0::PATH"; v1 "N:cpu,cpuacct:PATH"),
    then the usual mount points (inside a cgroup namespace the own cgroup is their root)."""
    rel = {}  # controller ("" for v2) -> path of our cgroup in that hierarchy
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                for c in (ctrls.split(",") if ctrls else [""]):
                    rel[c] = path
    except (OSError, ValueError):
        pass
    dirs = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                sep = fields.index("-")
                fstype, opts = fields[sep + 1], fields[sep + 3].split(",")
                root, mnt = fields[3], fields[4]
                key = "" if fstype == "cgroup2" else controller if (
                    fstype == "cgroup" and controller in opts) else None
                if key is None or key not in rel:
                    continue
                # Our cgroup relative to the mount's root (a namespaced mount's root is "/").
                sub = rel[key]
                if root != "/" and (sub == root or sub.startswith(root + "/")):
                    sub = sub[len(root):]
                dirs.append(os.path.join(mnt, sub.lstrip("/")))
                dirs.append(mnt)
    except (OSError, ValueError, IndexError):
        pass
    dirs += ["/sys/fs/cgroup", "/sys/fs/cgroup/" + controller, "/sys/fs/cgroup/cpu,cpuacct"]
    return dirs


def cgroup_cpu_allowance():
    """CPUs this process may use: min(affinity, ceil(quota/period)) of its cgroup, from cgroup v2
    cpu.max or cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us. Returns (cpus, source)."""
    cpus, source = len(os.sched_getaffinity(0)), "affinity"
    for d in _cgroup_dirs("cpu"):
        try:
            if os.path.exists(os.path.join(d, "cpu.max")):
                quota, period = open(os.path.join(d, "cpu.max")).read().split()[:2]
                source = "cpu.max"
            elif os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
                quota = open(os.path.join(d, "cpu.cfs_quota_us")).read().strip()
                period = open(os.path.join(d, "cpu.cfs_period_us")).read().strip()
                source = "cpu.cfs_quota_us"
                if int(quota) < 0:  # -1: no quota
                    quota = "max"
            else:
                continue
            if quota != "max":
                cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
            break
        except (OSError, ValueError):
            continue
    return max(1, cpus), source


class Marks:
    """Phase marks for cgprof: under `cgprof run`, $CGPROF_MARK names a FIFO; a line "NAME" starts
    phase NAME (ending the current one), "-" ends it. Opened once, never blocks, errors ignored;
    without $CGPROF_MARK every call does nothing."""

    def __init__(self):
        self.fd = -1
        path = os.environ.get("CGPROF_MARK")
        if path:
            try:
                self.fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                pass

    def __call__(self, name):
        if self.fd >= 0:
            try:
                os.write(self.fd, (name + "\n").encode())
            except OSError:  # full (cgprof counts nothing lost on its side) or gone
                pass


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

    mark = Marks()
    # Phase "load": imports, model construction and the untimed warm-up inferences.
    mark("load")
    import torch
    import torchvision

    allowance, source = cgroup_cpu_allowance()
    threads = a.threads or allowance
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ctor, kwargs, side = MODELS[a.model]
    t0 = time.monotonic()
    model = getattr(torchvision.models, ctor)(weights=None, **kwargs).eval()
    build_s = time.monotonic() - t0
    x = torch.randn(a.batch, 3, side, side)
    times = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        c0, t0 = time.process_time(), time.monotonic()
        for _ in range(a.iters):
            mark("infer")  # one phase per inference
            t = time.monotonic()
            y = model(x)
            times.append(time.monotonic() - t)
        mark("-")
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    p50 = statistics.median(times) if times else float("nan")
    print("infer: model=%s iters=%d batch=%d threads=%d threads_from=%s build_s=%.3f wall_s=%.6f "
          "cpu_s=%.6f ms_per_inference=%.3f p50_ms=%.3f peak_rss=%d torch=%s torchvision=%s "
          "out=%s" %
          (a.model, a.iters, a.batch, threads, "--threads" if a.threads else source, build_s,
           wall, cpu, 1000 * wall / max(1, a.iters), 1000 * p50, rss, torch.__version__,
           torchvision.__version__, tuple(y.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
