#!/usr/bin/env python3
"""Analyse the study's result directories and print the tables of docs/EXPERIMENTS.md.

Usage: tools/study/analyze.py RESULTS_DIR | STUDY.jsonl

STUDY.jsonl: records of tools/study/forkserver.py. RESULTS_DIR/<profile>/<model>/<repeat>/run.json (cgprof.run/1, docs/run-json.md), written by
tools/study/run. Per model and profile: mean and stdev of wall time, CPU time and peak memory
over the repeats, and the inference time infer.py printed (kept in infer.out next to run.json).
Between every pair of profiles: the rankings by inference wall time, Spearman's rho and Kendall's
tau, and the least-squares line time_B = a * time_A + b with R^2."""
import itertools
import json
import math
import os
import re
import sys


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def stdev(xs):
    if len(xs) < 2:
        return float("nan")
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(x, y):
    mx, my = mean(x), mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def kendall_tau_b(x, y):
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif (dx > 0) == (dy > 0):
            conc += 1
        else:
            disc += 1
    d = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / d if d else float("nan")


def linfit(x, y):
    mx, my = mean(x), mean(y)
    sxx = sum((a - mx) ** 2 for a in x)
    a = sum((p - mx) * (q - my) for p, q in zip(x, y)) / sxx
    b = my - a * mx
    ss_res = sum((q - (a * p + b)) ** 2 for p, q in zip(x, y))
    ss_tot = sum((q - my) ** 2 for q in y)
    return a, b, 1 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def load(root):
    data = {}  # profile -> model -> list of dict
    for prof in sorted(os.listdir(root)):
        pdir = os.path.join(root, prof)
        if not os.path.isdir(pdir):
            continue
        for model in sorted(os.listdir(pdir)):
            for rep in sorted(os.listdir(os.path.join(pdir, model))):
                d = os.path.join(pdir, model, rep)
                try:
                    r = json.load(open(os.path.join(d, "run.json")))
                except (OSError, ValueError):
                    continue
                if r.get("exit", {}).get("status") != 0:
                    continue
                row = {"wall": r["wall_seconds"], "cpu": r["totals"]["cpu"]["total_seconds"],
                       "peak": r["totals"]["memory"]["peak_bytes"],
                       "quota": r.get("device", {}).get("quota_cores")}
                try:
                    out = open(os.path.join(d, "infer.out")).read()
                    m = re.search(r"wall_s=([\d.]+).*?ms_per_inference=([\d.]+)", out)
                    row["infer_wall"] = float(m.group(1))
                    row["ms"] = float(m.group(2))
                    row["threads"] = int(re.search(r"threads=(\d+)", out).group(1))
                except (OSError, AttributeError):
                    pass
                data.setdefault(prof, {}).setdefault(model, []).append(row)
    return data


def load_jsonl(path):
    """tools/study/forkserver.py's records -> the same shape as load()."""
    data = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("status") != 0 or not r.get("infer_s"):
            continue
        ts = r["infer_s"]
        row = {"wall": r["wall_s"], "cpu": r["cpu_s"], "peak": r["memory_peak_bytes"],
               "quota": r["cpu_quota_cores"], "ms": 1000 * sum(ts) / len(ts),
               "ms_each": [1000 * t for t in ts], "threads": r.get("threads")}
        data.setdefault(r["profile"], {}).setdefault(r["model"], []).append(row)
    return data


def fmt(x, nd=2):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else ("%.*f" % (nd, x))


def main():
    root = sys.argv[1]
    data = load_jsonl(root) if root.endswith(".jsonl") else load(root)
    # The unconstrained reference ("host" in the original study) goes first: fits read
    # device = a * reference + b.
    profiles = sorted(data, key=lambda p: (not ("unconstrained" in p or p.startswith("host")), p))
    out = []
    for prof in profiles:
        out.append("### Profile `%s`\n" % prof)
        out.append("| model | runs | threads | ms / inference | run wall s | CPU s | peak memory MiB |")
        out.append("|---|---|---|---|---|---|---|")
        for model, rows in sorted(data[prof].items(), key=lambda kv: mean([r.get("ms", 0) for r in kv[1]])):
            ms = [r["ms"] for r in rows if "ms" in r]
            if len(rows) == 1 and rows[0].get("ms_each"):
                ms = rows[0]["ms_each"]  # one run: the spread of its timed inferences
            out.append("| %s | %d | %s | %s ± %s | %s ± %s | %s ± %s | %s |" % (
                model, len(rows), rows[0].get("threads", "?"), fmt(mean(ms), 0), fmt(stdev(ms), 0),
                fmt(mean([r["wall"] for r in rows]), 1), fmt(stdev([r["wall"] for r in rows]), 1),
                fmt(mean([r["cpu"] for r in rows]), 1), fmt(stdev([r["cpu"] for r in rows]), 1),
                fmt(mean([r["peak"] for r in rows]) / 2 ** 20, 0)))
        out.append("")
    out.append("### Between profiles (mean ms per inference)\n")
    out.append("| A | B | models | ranking on A (fastest first) | ranking on B | Spearman rho | Kendall tau | fit B = a*A + b | R^2 |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for pa, pb in itertools.combinations(profiles, 2):
        models = sorted(set(data[pa]) & set(data[pb]))
        xa = [mean([r["ms"] for r in data[pa][m] if "ms" in r]) for m in models]
        xb = [mean([r["ms"] for r in data[pb][m] if "ms" in r]) for m in models]
        keep = [i for i in range(len(models)) if not (math.isnan(xa[i]) or math.isnan(xb[i]))]
        models = [models[i] for i in keep]
        xa = [xa[i] for i in keep]
        xb = [xb[i] for i in keep]
        if len(models) < 3:
            out.append("| %s | %s | %d | (too few models) | | | | | |" % (pa, pb, len(models)))
            continue
        ra, rb = ranks(xa), ranks(xb)
        rank_a = " < ".join(m for _, m in sorted(zip(xa, models)))
        rank_b = " < ".join(m for _, m in sorted(zip(xb, models)))
        a, b, r2 = linfit(xa, xb)
        out.append("| %s | %s | %d | %s | %s | %s | %s | %s*x %+.0f ms | %s |" % (
            pa, pb, len(models), rank_a, rank_b, fmt(pearson(ra, rb), 3),
            fmt(kendall_tau_b(xa, xb), 3), fmt(a, 3), b, fmt(r2, 3)))
    print("\n".join(out))


if __name__ == "__main__":
    main()
