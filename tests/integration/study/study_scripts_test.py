#!/usr/bin/env python3
"""tools/study/collect and tools/study/regenerate on a synthetic experiment, checked against
values worked by hand, and `cgprof calibrate`'s leave-one-out on the same runs.

The fixture: models m1..m4 on profiles host, devA, devB (an experiment result tree as
`cgprof experiment` writes it: index.json, WORKLOAD/DEVICE/{warmup,run}-NNN/run.json).
p50 latency (ms, phase `infer`):
  host  m1 1, m2 2 (three repeats: 1, 2, 3), m3 3, m4 4
  devA  m1 2, m2 4, m3 6, m4 9             -> same order as host: tau 1
  devB  m1 3, m2 2.5, m3 5, m4 8           -> m1/m2 swapped: 5 concordant, 1 discordant pair,
                                              tau (5 - 1) / 6 = 0.667 (against host and devA)
  devB  m1 has a second run whose workload failed (exit 1, 100 ms): left out.
devA against host, x = 1, 2, 3, 4, y = 2, 4, 6, 9 (worked by hand):
  a = Sxy/Sxx = 11.5/5 = 2.3, b = 5.25 - 2.3 * 2.5 = -0.5, SSE 0.30, SST 26.75,
  R² = 1 - 0.30/26.75 = 0.98879;
  leave-one-out predictions 4/3, 29/7, 46/7, 8 -> errors -33.3%, +3.57%, +9.52%, -11.1%:
  median |error| (9.524 + 11.111)/2 = 10.3%, 2 of 4 (50%) within ±10%.
host m2 over its repeats 1, 2, 3 ms: mean 2, s = 1, 95% CI half width t(0.975, 2)/√3 =
  4.30265/1.7321 = 2.48 ms.
Peak memory (MiB): host 100·i, devA 2·host + 10 -> exact line: R² 1, leave-one-out 0%.
wall_seconds = 100 x p50: `cgprof calibrate` with devA's wall times as the measured values
gives the same leave-one-out (percent errors do not change with the scale).

Usage: study_scripts_test.py SOURCE_DIR CGPROF"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

src, cgprof = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, "" if ok else ": " + str(detail)[:3000]))
    if not ok:
        failures.append(what)


LAT = {  # profile -> model -> [(p50 ms, exit status)]
    "host": {"m1": [(1, 0)], "m2": [(1, 0), (2, 0), (3, 0)], "m3": [(3, 0)], "m4": [(4, 0)]},
    "devA": {"m1": [(2, 0)], "m2": [(4, 0)], "m3": [(6, 0)], "m4": [(9, 0)]},
    "devB": {"m1": [(3, 0), (100, 1)], "m2": [(2.5, 0)], "m3": [(5, 0)], "m4": [(8, 0)]},
}
MEM = {"host": lambda i: 100 * i, "devA": lambda i: 200 * i + 10, "devB": lambda i: 150 * i}


def run_json(model, profile, ms, status, repeat):
    i = int(model[1])
    return {
        "schema": "cgprof.run/1", "cgprof_version": "test", "run_id": "%s-%s-%d" % (model, profile, repeat),
        "started_at": "2026-12-07T10:%02d:00.000Z" % (i * 10 + repeat),
        "labels": {"model": model, "workload": model},
        "host": {"kernel": "6.1.0-test", "cpu_model": "Test CPU 9000", "cores": 2,
                 "hostname": "h", "reference_score": {"name": "cgprof-ref-1", "rate": 400.0 + i,
                                                       "unit": "Miter/s", "cpu_seconds": 0.05}},
        "device": {"name": profile, "source": "", "quota_cores": None, "limits_written": {},
                   "notices": []},
        "workload": {"rootfs": "/r", "image": "", "image_digest": "", "command": ["x"]},
        "exit": {"status": status, "exit_code": status, "signal": None, "oom_killed": False,
                 "interrupted": False, "killed_by": None, "error": ""},
        "wall_seconds": 100 * ms / 1000,
        "totals": {"cpu": {"total_seconds": 10 * ms / 1000},
                   "memory": {"peak_bytes": MEM[profile](i) * 2**20}, "io": {}},
        "phases": {"by_name": [
            {"name": "load", "overflow": False, "count": 1, "wall": {"p50": 5.0}},
            {"name": "infer", "overflow": False, "count": 20, "wall": {"p50": ms / 1000}}]},
        "cgroup": {"version": 1, "paths": {"cpu": "/sys/fs/cgroup/cpu/x", "memory": "/m"}},
    }


tmp = tempfile.mkdtemp(prefix="study-test-")
try:
    res = os.path.join(tmp, "results")
    entries = []
    for profile, per in LAT.items():
        for model, reps in per.items():
            # A warm-up run with an absurd value: collect must leave it out.
            plan = [("warmup-001", 1, True, 1000, 0)] + [
                ("run-%03d" % (k + 1), k + 1, False, ms, st) for k, (ms, st) in enumerate(reps)]
            for d, rep, warm, ms, st in plan:
                rel = "%s/%s/%s" % (model, profile, d)
                os.makedirs(os.path.join(res, rel))
                with open(os.path.join(res, rel, "run.json"), "w") as f:
                    json.dump(run_json(model, profile, ms, st, rep), f)
                # A device given as a file: the index keeps the path, the directory its stem.
                dev = "devices/devB.toml" if profile == "devB" else profile
                entries.append({"id": rel, "dir": rel, "workload": model, "device": dev,
                                "repeat": rep, "warmup": warm, "state": "failed" if st else "done"})
    with open(os.path.join(res, "index.json"), "w") as f:
        json.dump({"schema": "cgprof.experiment/1", "name": "fixture", "experiment_file": "f.toml",
                   "repeat": 1, "warmup": 1, "devices": list(LAT), "planned": len(entries),
                   "complete": len(entries), "runs": entries}, f)

    # ---- collect
    csv_path, meta_path = os.path.join(tmp, "runs.csv"), os.path.join(tmp, "meta.json")
    p = subprocess.run([os.path.join(src, "tools/study/collect"), res, "--csv", csv_path,
                        "--meta", meta_path], capture_output=True, text=True)
    check(p.returncode == 0, "collect exits 0", p.stderr)
    rows = list(csv.DictReader(open(csv_path)))
    check(len(rows) == 15, "collect: one row per measured run, warm-ups left out", len(rows))
    check(list(rows[0]) == ["model", "profile", "repeat", "infer_p50_s", "infer_count", "cpu_s",
                            "peak_memory_bytes", "wall_s", "exit_status", "reference_rate"],
          "collect: the documented columns", list(rows[0]))
    r = [x for x in rows if x["model"] == "m2" and x["profile"] == "host" and x["repeat"] == "3"]
    check(len(r) == 1 and float(r[0]["infer_p50_s"]) == 0.003 and r[0]["infer_count"] == "20"
          and float(r[0]["cpu_s"]) == 0.03 and r[0]["peak_memory_bytes"] == str(200 * 2**20)
          and r[0]["exit_status"] == "0" and float(r[0]["reference_rate"]) == 402.0,
          "collect: the values of m2 on host, repeat 3", r)
    check([x["exit_status"] for x in rows if x["model"] == "m1" and x["profile"] == "devB"]
          == ["0", "1"], "collect: the failed run is kept with its exit status")
    meta = json.load(open(meta_path))
    check(meta["host"]["cpu_model"] == "Test CPU 9000" and meta["host"]["cgroup_version"] == 1
          and meta["host"]["cgroup_hierarchies"] == ["cpu", "memory"]
          and meta["host"]["reference_score"]["median_rate"] is not None
          and meta["experiment"]["measured_runs"] == 15,
          "collect: metadata (host, cgroup, reference score, runs)", meta)

    # ---- regenerate, twice: the same bytes
    outs = []
    for k in (1, 2):
        md, svgs = os.path.join(tmp, "doc%d" % k, "EXPERIMENTS.md"), os.path.join(tmp, "doc%d" % k, "study")
        os.makedirs(os.path.dirname(md))
        p = subprocess.run([os.path.join(src, "tools/study/regenerate"), "--csv", csv_path,
                            "--meta", meta_path, "--published", os.path.join(tmp, "none.csv"),
                            "--out", md, "--svg-dir", svgs], capture_output=True, text=True)
        check(p.returncode == 0, "regenerate exits 0 (run %d)" % k, p.stderr)
        outs.append((open(md).read(), {n: open(os.path.join(svgs, n)).read()
                                       for n in sorted(os.listdir(svgs))}))
    check(outs[0] == outs[1], "regenerate: the same inputs give the same bytes")
    doc, svgs = outs[0]
    print(doc)

    def has(line, what):
        check(line in doc, what, "missing line: " + line)

    has("| `devA` | 1.000 | 4 |", "tau devA vs host = 1")
    has("| `devB` | 0.667 | 4 |", "tau devB vs host = 4/6 (one swapped pair)")
    has("| `devA` | 1.000 | 1 | 0.667 |", "tau matrix row devA")
    has("| `devA` | 2.300 | -0.5000 | 0.9888 | 10.3% | 50% | 4 |",
        "latency fit devA: a 2.3, b -0.5 ms, R² 0.9888, LOO median 10.3%, 50% within ±10%")
    has("| `devA` | 2.000 | 10.00 | 1.0000 | 0.0% | 100% | 4 |",
        "peak memory fit devA: exact line, LOO 0%")
    has("| `devA` | m1 | 1.00 | 2.00 | 1.33 | -33.3% |", "LOO per model: m1 on devA")
    has("| `devA` | m3 | 3.00 | 6.00 | 6.57 | 9.5% |", "LOO per model: m3 on devA")
    has("| 2 | m2 | 3 | 2.00 ± 2.5 |", "host m2: 3 runs, 95% CI half width 2.48 ms")
    has("| 2 | m1 | 1 | 3.00 |", "devB m1: the failed run is left out (1 run, 3 ms)")
    has("Test CPU 9000, 2 CPUs, Linux 6.1.0-test, cgroup v1", "setup names the host")
    has("- `rpi4`: none found for m1, m2, m3, m4.", "no published numbers: none found")
    check(sorted(svgs) == ["fit-cpu_s.svg", "fit-infer_p50_s.svg", "fit-peak_memory_bytes.svg",
                           "latency-devA.svg", "latency-devB.svg", "latency-host.svg"],
          "regenerate writes the plots", sorted(svgs))
    for n, text in svgs.items():
        try:
            ET.fromstring(text)
            ok = True
        except ET.ParseError as e:
            ok = e
        check(ok is True, "%s is well-formed SVG" % n, ok)
        check("study/" + n in doc, "the document shows %s" % n)

    # ---- published numbers: a fit per source with >= 3 models on one board; a number from
    # another source (other framework) stays out of it
    pub = os.path.join(tmp, "pub.csv")
    with open(pub, "w") as f:
        f.write("# comment\nmodel,device,profile,latency_ms,setup,source\n"
                "m1,board,devA,4,x,https://a.example/t\nm2,board,devA,8,x,https://a.example/t\n"
                "m3,board,devA,12,x,https://a.example/t\nm2,board,devA,100,y,https://b.example/u\n")
    md = os.path.join(tmp, "docp", "E.md")
    os.makedirs(os.path.dirname(md))
    p = subprocess.run([os.path.join(src, "tools/study/regenerate"), "--csv", csv_path, "--meta",
                        meta_path, "--published", pub, "--out", md,
                        "--svg-dir", os.path.join(tmp, "docp", "s")], capture_output=True, text=True)
    d = open(md).read() if p.returncode == 0 else p.stderr
    check("| m1 | board | 4.00 | x | `devA` | 2.00 | 0.500 | <https://a.example/t> |" in d,
          "published: the number, its source and cgprof's value", d)
    check("- `board`, 3 models from <https://a.example/t>: Kendall's tau-b 1.00 between their "
          "ranking there and cgprof's; published ≈ 2.000 · cgprof + 0 ms, R² 1.0000, "
          "leave-one-out median abs error 0.0%, 100% within ±10%." in d,
          "published: fit over the 3 points of one source", d)
    check("<https://b.example/u>:" not in d, "published: no fit from a source with one model", d)
    check("- `board`: none found for m4." in d, "published: the models without a number", d)

    # ---- cgprof calibrate on the same runs: the same leave-one-out
    prof = os.path.join(tmp, "dev.toml")
    shutil.copy(os.path.join(src, "configs/devices/rpi4.toml"), prof)
    meas = os.path.join(tmp, "measured.csv")
    with open(meas, "w") as f:
        f.write("label,metric,value\n" + "".join(
            "model=%s,wall_time,%r\n" % (m, 100 * LAT["devA"][m][0][0] / 1000) for m in LAT["devA"]))
    hosts = [os.path.join(res, m, "host", "run-%03d" % (k + 1))
             for m in LAT["host"] for k in range(len(LAT["host"][m]))]
    p = subprocess.run([cgprof, "calibrate", "--device", prof, "--measured", meas, "--dry-run",
                        "--no-speed", "--format", "json"] + hosts, capture_output=True, text=True)
    check(p.returncode == 0, "cgprof calibrate on the fixture runs", p.stderr)
    if p.returncode == 0:
        j = json.loads(p.stdout)["metrics"][0]
        loo = j.get("leave_one_out", {})
        check(abs(loo.get("median_abs_pct_error", 0) - (400 / 42 + 100 / 9) / 2) < 1e-9
              and loo.get("share_within") == 0.5 and loo.get("evaluated") == 4,
              "calibrate: leave-one-out median 10.3175%, 2 of 4 within ±10% (as regenerate)", loo)
        errs = [pt.get("loo_pct_error") for pt in j["points"]]
        want = [-100 / 3, 100 / 28, 400 / 42, -100 / 9]
        check(all(e is not None and abs(e - w) < 1e-9 for e, w in zip(errs, want)),
              "calibrate: per-point leave-one-out errors", errs)
        t = subprocess.run([cgprof, "calibrate", "--device", prof, "--measured", meas,
                            "--dry-run", "--no-speed"] + hosts, capture_output=True, text=True)
        check("leave-one-out: median |error| 10.3175%, 2 of 4 points within ±10%" in t.stdout,
              "calibrate: the table states the leave-one-out error", t.stdout + t.stderr)
finally:
    shutil.rmtree(tmp)

print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
