#!/usr/bin/env python3
"""Study runs without paying torch's import per run: run inside the torch image's root (chroot,
in the cgroup v2 VM), import torch once, then for every (model, profile) fork a child that moves
itself into a fresh cgroup carrying the profile's limits (the same files cgprof writes: cpu.max,
cpuset.cpus, memory.max, memory.swap.max), builds the model and times its inferences. The parent
reads the cgroup's exact counters (cpu.stat usage, memory.peak, memory.events) and removes it.

Under TCG a torch import costs 1-10 minutes; this is why the study is not one `cgprof run` per
model (tools/study/in-vm.sh does that, for when the machine is fast enough).

Usage: forkserver.py OUT.jsonl ITERS "MODEL..." PROFILE=CPU_QUOTA:MEMORY_BYTES ...
       (CPU_QUOTA in cores, "max" for none; MEMORY_BYTES or "max")"""
import json
import os
import sys
import time

sys.path.insert(0, "/opt/app")
import infer  # noqa: E402  (MODELS, cgroup_cpu_allowance)
import torch  # noqa: E402
import torchvision  # noqa: E402

CG = "/sys/fs/cgroup"
PERIOD = 100000


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def read_kv(path):
    out = {}
    for line in open(path):
        k, v = line.split()[:2]
        out[k] = int(v)
    return out


def child(cgdir, model, iters, wfd):
    write(os.path.join(cgdir, "cgroup.procs"), str(os.getpid()))
    threads = infer.cgroup_cpu_allowance()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ctor, kwargs, side = infer.MODELS[model]
    t0 = time.monotonic()
    net = getattr(torchvision.models, ctor)(weights=None, **kwargs).eval()
    build_s = time.monotonic() - t0
    x = torch.randn(1, 3, side, side)
    times = []
    with torch.inference_mode():
        net(x)  # warm-up
        for _ in range(iters):
            t = time.monotonic()
            net(x)
            times.append(time.monotonic() - t)
    os.write(wfd, json.dumps({"threads": threads, "build_s": build_s, "infer_s": times}).encode())
    os._exit(0)


def run(model, prof, quota, mem, iters):
    cgdir = os.path.join(CG, "study-%s-%s" % (prof, model.replace(".", "_")))
    os.mkdir(cgdir)
    try:
        if quota != "max":
            write(os.path.join(cgdir, "cpu.max"), "%d %d" % (round(float(quota) * PERIOD), PERIOD))
        if mem != "max":
            write(os.path.join(cgdir, "memory.max"), mem)
            write(os.path.join(cgdir, "memory.swap.max"), "0")
        cpu0 = read_kv(os.path.join(cgdir, "cpu.stat"))
        r, w = os.pipe()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                child(cgdir, model, iters, w)
            finally:
                os._exit(1)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        wall = time.monotonic() - t0
        cpu1 = read_kv(os.path.join(cgdir, "cpu.stat"))
        ev = read_kv(os.path.join(cgdir, "memory.events"))
        peak = int(open(os.path.join(cgdir, "memory.peak")).read())
        rec = {"model": model, "profile": prof, "cpu_quota_cores": quota, "memory_max": mem,
               "status": os.waitstatus_to_exitcode(status), "wall_s": wall,
               "cpu_s": (cpu1["usage_usec"] - cpu0["usage_usec"]) / 1e6,
               "throttled_s": (cpu1.get("throttled_usec", 0) - cpu0.get("throttled_usec", 0)) / 1e6,
               "memory_peak_bytes": peak, "oom_kill": ev.get("oom_kill", 0)}
        if data:
            rec.update(json.loads(data))
        return rec
    finally:
        os.rmdir(cgdir)


def main():
    out, iters, models = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
    profiles = []
    for spec in sys.argv[4:]:
        name, lim = spec.split("=", 1)
        quota, mem = lim.split(":")
        profiles.append((name, quota, mem))
    write(os.path.join(CG, "cgroup.subtree_control"), "+cpu +memory")
    done = set()
    if os.path.exists(out):
        for line in open(out):
            r = json.loads(line)
            done.add((r["model"], r["profile"]))
    t_start = time.monotonic()
    for model in models:
        for prof, quota, mem in profiles:
            if (model, prof) in done:
                continue
            rec = run(model, prof, quota, mem, iters)
            with open(out, "a") as f:
                f.write(json.dumps(rec) + "\n")
            print("study: %5.0fs %-20s %-16s exit %d  %s s/inference  cpu %.1fs  peak %.0f MiB" % (
                time.monotonic() - t_start, model, prof, rec["status"],
                ",".join("%.1f" % t for t in rec.get("infer_s", [])), rec["cpu_s"],
                rec["memory_peak_bytes"] / 2 ** 20), flush=True)


if __name__ == "__main__":
    main()
