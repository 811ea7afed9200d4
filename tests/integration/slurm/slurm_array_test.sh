#!/bin/bash
# `cgprof experiment --slurm` on a real one-node Slurm cluster started here (cluster.sh): a
# 2-workload x 2-device experiment of the demo image's cpu-burn is submitted as a job array, every
# run lands in the result directory as a local experiment's would (run.json, run cgroups nested
# in the job's own cgroups under Slurm's task/cgroup plugin, and removed), `experiment status`
# tells done from failed, `--resubmit-failed` runs only the missing run, a complete run is
# skipped, and `compare` (ranking) and `calibrate` read the results. The daemons are stopped and
# nothing is left running or in a cgroup, also when a check fails.
# Usage: slurm_array_test.sh SOURCE_DIR BUILD_DIR CGPROF
# Skips (77) when not root, without cgroup v1 controllers, or without Slurm and munge installed
# (tools/setup-deps installs them); in CI (CI=1) a missing Slurm is a failure.
set -uo pipefail
src=$1 build=$2 cgprof=$(readlink -f "$3")
here=$(cd "$(dirname "$0")" && pwd)
skip() {
  if [ "${CI:-0}" != 0 ] && [ "$2" = install ]; then echo "FAIL (CI): $1"; exit 1; fi
  echo "skip: $1"; exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (slurmd and task/cgroup)" env
grep -Eq ' - cgroup [^ ]+ ([^ ]*,)?freezer(,[^ ]*)?$' /proc/self/mountinfo \
  || skip "needs cgroup v1 controllers (Slurm 22.05 refuses hybrid v2; pure v2 is the VM's)" env
for p in munged slurmctld slurmd sbatch squeue sinfo scancel; do
  command -v "$p" >/dev/null || skip "$p not installed: run tools/setup-deps (slurm-wlm, munge)" install
done

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

tmp=$(mktemp -d /tmp/cgprof-slurm-test.XXXXXX)
source "$here/cluster.sh"
cleanup() {
  slurm_cluster_stop || echo "FAIL: something was left running or in a cgroup (see above)"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CGPROF_IMAGES_DIR=$tmp/images CGPROF_NO_NINJA=1
"$src/rootfs-tools/build-demo-image" "$build" >"$tmp/image.log" 2>&1 \
  || { cat "$tmp/image.log"; fail "building the demo image"; exit 1; }

slurm_cluster_start "$tmp/cluster" || { fail "starting the one-node cluster"; exit 1; }
ok "one-node cluster up (node $SLURM_NODE, config $SLURM_CONF)"

exp=$tmp/exp
mkdir -p "$exp"
cat >"$exp/burn.toml" <<EOF
name = "burn"
devices = ["rpi4", "jetson-nano"]
run_args = ["--rate", "200"]

[slurm]
cpus_per_task = 1
time = "5"

[[workload]]
name = "short"
image = "$tmp/images/demo-oci:latest"
command = ["cpu-burn", "-d", "0.2s"]
labels = { model = "short" }

[[workload]]
name = "long"
image = "$tmp/images/demo-oci:latest"
command = ["cpu-burn", "-d", "0.4s"]
labels = { model = "long" }
EOF
out=$exp/burn-results

# --dry-run: the script of a 4-task array, with the file's and the command line's options.
script=$("$cgprof" experiment "$exp/burn.toml" --slurm --exclusive --dry-run 2>"$tmp/dry.err")
if [ $? = 0 ] && grep -qx '#SBATCH --array=0-3' <<<"$script" && grep -qx '#SBATCH --exclusive' <<<"$script" \
  && grep -qx '#SBATCH --cpus-per-task=1' <<<"$script" \
  && grep -q -- "--task \"\$SLURM_ARRAY_TASK_ID\"" <<<"$script" && [ -z "$(squeue -h)" ]; then
  ok "--dry-run prints a 4-task array script and submits nothing"
else
  fail "--dry-run script"; echo "$script"; cat "$tmp/dry.err"
fi

"$cgprof" experiment "$exp/burn.toml" --slurm 2>"$tmp/submit.err"
st=$?
cat "$tmp/submit.err"
[ $st = 0 ] && grep -q "submitted job array" "$tmp/submit.err" && grep -q "add --exclusive" "$tmp/submit.err" \
  && ok "submitted (and told to use --exclusive for timing)" || fail "submitting the array (status $st)"
slurm_cluster_wait_idle || fail "the array did not finish"

python3 - "$out" "$SLURM_NODE" <<'PY' && ok "4 runs, each nested in its Slurm job's cgroups, none left" || fail "the runs' results"
import json, os, sys
out, node = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(out, "index.json")))
assert [r["id"] for r in idx["runs"]] == ["short/rpi4/run-001", "short/jetson-nano/run-001",
                                          "long/rpi4/run-001", "long/jetson-nano/run-001"], idx["runs"]
for r in idx["runs"]:
    j = json.load(open(os.path.join(out, r["dir"], "run.json")))
    assert j["exit"]["status"] == 0, (r["id"], j["exit"])
    assert j["cgroup"]["version"] == 1, j["cgroup"]
    paths = j["cgroup"]["paths"]
    # task/cgroup put the job in freezer, cpuset and memory cgroups: the run's are below them.
    for ctrl in ("freezer", "memory", "cpuset"):
        p = [v for k, v in paths.items() if ctrl in k.split(",")]
        assert p and "/slurm_%s/uid_0/job_" % node in p[0] and "/cgprof/" in p[0], (ctrl, paths)
    for p in paths.values():
        assert not os.path.exists(p), p + " left behind"
    assert j["sampler"]["samples"] > 0, r["id"]
PY

# Slurm removes each job's cgroups when the job ends; a cgroup cgprof left below one would stop it.
for i in $(seq 50); do
  left=$(find /sys/fs/cgroup/*/slurm_"$SLURM_NODE" -mindepth 2 -maxdepth 2 -name 'job_*' 2>/dev/null)
  [ -z "$left" ] && break
  sleep 0.2
done
[ -z "$left" ] && ok "Slurm removed every job's cgroups (nothing of cgprof's left below them)" \
  || { fail "job cgroups left 10 s after the jobs ended:"; echo "$left"; find $left | head -20; }

status=$("$cgprof" experiment status "$out")
echo "$status"
grep -q "4 runs: 4 done (0 with a non-zero workload exit), 0 running, 0 pending, 0 failed, 0 missing" <<<"$status" \
  && ok "status: 4 done" || fail "status after the array"

# Ranking and calibration read the Slurm experiment as they read a local one.
rank=$("$cgprof" rank "$out" --by device --metric wall_time 2>&1)
[ $? = 0 ] && grep -q short <<<"$rank" && grep -q long <<<"$rank" && grep -q jetson-nano <<<"$rank" \
  && [ "$rank" = "$("$cgprof" compare "$out" --by device --metric wall_time 2>&1)" ] \
  && ok "rank (compare) ranks the workloads per device" || { fail "rank"; echo "$rank"; }
cp "$src/configs/devices/rpi4.toml" "$tmp/pi.toml"
printf 'label,metric,value\nmodel=short,wall_time,0.5\nmodel=long,wall_time,1.0\n' >"$tmp/measured.csv"
cal=$("$cgprof" calibrate --device "$tmp/pi.toml" --measured "$tmp/measured.csv" --dry-run \
  --format json "$out"/*/rpi4 2>"$tmp/cal.err")
[ $? = 0 ] && python3 -c '
import json, sys
m = json.loads(sys.argv[1])["metrics"][0]
assert m["metric"] == "wall_time" and m["slope"] > 0, m
assert sorted(p["label"] for p in m["points"]) == ["model=long", "model=short"], m["points"]' "$cal" \
  && ok "calibrate fits the 2 workloads' rpi4 runs" || { fail "calibrate"; echo "$cal"; cat "$tmp/cal.err"; }

# A complete run is skipped by its task; a lost one is failed, and only it is submitted again.
"$cgprof" experiment "$exp/burn.toml" --task 1 2>"$tmp/task.err" && grep -q "complete already; skipped" "$tmp/task.err" \
  && ok "--task on a complete run skips it" || { fail "--task on a complete run"; cat "$tmp/task.err"; }
rm "$out/long/rpi4/run-001/run.json"
status=$("$cgprof" experiment status "$out")
grep -Eq '^failed +long/rpi4/run-001 +task 2 of job [0-9]+' <<<"$status" && grep -q "3 done" <<<"$status" \
  && ok "status: a run without its result is failed" || { fail "status with a lost run"; echo "$status"; }
"$cgprof" experiment status "$out" --resubmit-failed >/dev/null 2>"$tmp/resubmit.err"
grep -q "for 1 runs (2)" "$tmp/resubmit.err" && ok "--resubmit-failed submits only task 2" \
  || { fail "--resubmit-failed"; cat "$tmp/resubmit.err"; }
slurm_cluster_wait_idle || fail "the resubmitted task did not finish"
status=$("$cgprof" experiment status "$out")
grep -q "4 runs: 4 done" <<<"$status" && [ "$(wc -l <"$out/slurm/submissions.tsv")" = 2 ] \
  && ok "after the resubmission: 4 done, 2 submissions" || { fail "status after resubmission"; echo "$status"; }

# MaxArraySize (64 on this cluster): a plan whose run indices reach it is refused before sbatch,
# naming the limit and what to do.
cat >"$exp/big.toml" <<EOF
repeat = 70
[[workload]]
name = "big"
image = "$tmp/images/demo-oci:latest"
command = ["true"]
EOF
"$cgprof" experiment "$exp/big.toml" --slurm --dry-run >/dev/null 2>"$tmp/big.err"
st=$?
[ $st = 125 ] && grep -q "run 69 would be array task 69, but this cluster's MaxArraySize is 64" "$tmp/big.err" \
  && grep -q "split the experiment" "$tmp/big.err" && [ ! -e "$exp/big-results/slurm" ] \
  && ok "a plan past MaxArraySize is refused (status 125), naming the limit" \
  || { fail "MaxArraySize check (status $st)"; cat "$tmp/big.err"; }

# A user who cannot write the job's cgroups (on cgroup v1 only root can): each task falls back to
# the emulated backend, as cgprof does elsewhere, and its run.json says so.
nb=$tmp/nobody
mkdir -p "$nb"
chmod 755 "$tmp" "$exp"
chmod -R a+rX "$tmp/images"  # the image, as a user would share it
chown 65534:65534 "$nb"
cat >"$nb/user.toml" <<EOF
devices = ["rpi4"]
run_args = ["--rate", "200"]
[[workload]]
name = "burn"
image = "$tmp/images/demo-oci:latest"
command = ["cpu-burn", "-d", "0.3s"]
EOF
(cd "$nb" && setpriv --reuid=65534 --regid=65534 --clear-groups \
  env HOME="$nb" XDG_CACHE_HOME="$nb/cache" "$cgprof" experiment "$nb/user.toml" --slurm) \
  >/dev/null 2>"$tmp/nobody.err" || { fail "submitting as nobody"; cat "$tmp/nobody.err"; }
slurm_cluster_wait_idle || fail "nobody's array did not finish"
python3 - "$nb/user-results/burn/rpi4/run-001" <<'PY' && ok "as a user without cgroup rights: emulated backend, said in run.json" || { fail "nobody's run"; cat "$nb"/user-results/slurm/logs/* "$tmp/nobody.err"; }
import json, os, sys
j = json.load(open(os.path.join(sys.argv[1], "run.json")))
assert j["exit"]["status"] == 0, j["exit"]
c = j["cgroup"]
assert c["backend"] == "emulated" and c["version"] == 0 and c["paths"] == {}, c
assert c["limits"]["cpu"]["by"] == "emulated", c["limits"]
assert any("cgroup" in n for n in j["notices"]), j["notices"]
assert j["totals"]["cpu"]["total_seconds"] > 0.1, j["totals"]["cpu"]
PY

# scancel of a running task: Slurm's SIGTERM reaches the run, which records itself as interrupted
# and removes its cgroups; the run is then failed, and the next submission redoes it.
cat >"$exp/slow.toml" <<EOF
[[workload]]
name = "slow"
image = "$tmp/images/demo-oci:latest"
command = ["cpu-burn", "-d", "120s"]
EOF
slow=$exp/slow-results
"$cgprof" experiment "$exp/slow.toml" --slurm 2>/dev/null || fail "submitting the slow experiment"
job=$(cut -f1 "$slow/slurm/submissions.tsv")
for i in $(seq 300); do  # until the run is under way: its samples are being written
  [ -n "$(find "$slow/slow/host/run-001" -name 'samples*' -size +0 2>/dev/null)" ] && break
  sleep 0.2
done
sleep 1
scancel "$job"
slurm_cluster_wait_idle || fail "the cancelled job did not leave the queue"
python3 - "$slow/slow/host/run-001" <<'PY' && ok "scancel: the run recorded itself as interrupted, its cgroups removed" || { fail "the cancelled run"; cat "$slow"/slurm/logs/*; }
import json, os, sys
j = json.load(open(os.path.join(sys.argv[1], "run.json")))
assert j["exit"]["interrupted"], j["exit"]
for p in j["cgroup"]["paths"].values():
    assert not os.path.exists(p), p + " left behind"
PY
status=$("$cgprof" experiment status "$slow")
grep -Eq "^failed +slow/host/run-001 +task 0 of job $job" <<<"$status" && grep -q "1 failed" <<<"$status" \
  && ok "status: the cancelled run is failed" || { fail "status of the cancelled run"; echo "$status"; }
"$cgprof" experiment status "$slow" --resubmit-failed --dry-run 2>/dev/null | grep -Eq "^sbatch --parsable --array=0 .*/array.sbatch$" \
  && ok "--resubmit-failed --dry-run prints the sbatch command for it" || fail "--resubmit-failed --dry-run"

trap - EXIT
slurm_cluster_stop && ok "daemons stopped, nothing left running, Slurm's cgroups removed" \
  || fail "something was left running or in a cgroup"
rm -rf "$tmp"
[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
