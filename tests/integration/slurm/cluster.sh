# A throwaway one-node Slurm cluster on localhost, for tests; source it from bash.
# Everything lives in one directory (config, munge key and socket, state, spool, logs): nothing
# under /etc, /run or /var is read or written, and the ports are free ones picked at start, so it
# collides with no other Slurm or munge on the host. Needs root (slurmd, task/cgroup).
#
#   slurm_cluster_start DIR    start munged, slurmctld and slurmd; exports SLURM_CONF, SLURM_NODE
#   slurm_cluster_wait_idle    wait until squeue lists no job of ours (every 0.2 s, up to 300 s)
#   slurm_cluster_stop         cancel jobs, stop the daemons, kill what is left, remove Slurm's
#                              cgroups; returns 1 (after cleaning) when anything had to be killed
#
# The daemons and every job step run in a pids cgroup of their own (Slurm does not use the pids
# controller), so stopping can prove that nothing is left: the cgroup is empty, then removed.

SLURM_CLUSTER_DIR= SLURM_CLUSTER_PIDS_CG= SLURM_CLUSTER_PIDS=()

slurm_cluster_log() { echo "slurm-cluster: $*" >&2; }

# Two free TCP ports on 127.0.0.1 (bound, then released: the kernel does not hand them out again
# at once).
slurm_cluster_free_ports() {
  python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])'
}

slurm_cluster_start() {
  local dir=$1
  SLURM_CLUSTER_DIR=$dir
  mkdir -p "$dir"/{munge,state,spool,log,run}
  # munged refuses a socket directory others cannot search, and a key others can read.
  chmod 755 "$dir" "$dir/munge"
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"

  local pids_root self
  pids_root=$(awk '$5 == "/sys/fs/cgroup/pids" || $5 ~ /\/pids$/ { print $5; exit }' /proc/self/mountinfo)
  if [ -n "$pids_root" ]; then
    self=$(sed -n 's/^[0-9]*:pids:\(.*\)/\1/p' /proc/self/cgroup)
    SLURM_CLUSTER_PIDS_CG=$pids_root${self%/}/cgprof-slurm-test-$$
    mkdir "$SLURM_CLUSTER_PIDS_CG" || return 1
    # The daemons are started from a subshell that enters this cgroup first; the test stays put.
  fi

  local ports ctld_port slurmd_port node host
  read -r ctld_port slurmd_port < <(slurm_cluster_free_ports)
  node=cgproftest$$
  host=$(hostname -s)
  SLURM_NODE=$node
  # The node line from the hardware slurmd sees (a line that disagrees makes it complain and drain).
  local hw
  hw=$(slurmd -C | sed -n '1s/^NodeName=[^ ]* //p')
  cat >"$dir/slurm.conf" <<CONF
ClusterName=cgproftest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=300
MaxArraySize=64
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  cat >"$dir/cgroup.conf" <<CONF
CgroupPlugin=autodetect
ConstrainCores=yes
ConstrainRAMSpace=yes
CONF
  mkdir -p "$dir/spool/$node"
  export SLURM_CONF=$dir/slurm.conf

  slurm_cluster_spawn munged -F -f --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
  local i
  for i in $(seq 100); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
  [ -S "$dir/munge/munge.socket" ] || { slurm_cluster_log "munged did not start"; cat "$dir/log/munged.log" >&2; return 1; }
  slurm_cluster_spawn slurmctld -D -i -f "$dir/slurm.conf"
  slurm_cluster_spawn slurmd -D -N "$node" -f "$dir/slurm.conf"
  # Up when the node answers as idle.
  for i in $(seq 300); do
    sinfo -h -N -n "$node" -o %t 2>/dev/null | grep -qx idle && return 0
    sleep 0.2
  done
  slurm_cluster_log "the node did not come up idle within 60 s; logs follow"
  sinfo -N -l >&2
  tail -20 "$dir"/log/*.log >&2
  return 1
}

# Start a daemon in the foreground of a background subshell that first enters the test cgroup.
slurm_cluster_spawn() {
  (
    [ -n "$SLURM_CLUSTER_PIDS_CG" ] && echo $BASHPID >"$SLURM_CLUSTER_PIDS_CG/cgroup.procs"
    exec "$@" >>"$SLURM_CLUSTER_DIR/log/$1.out" 2>&1 </dev/null
  ) &
  SLURM_CLUSTER_PIDS+=($!)
}

slurm_cluster_wait_idle() {
  local i
  for i in $(seq 1500); do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  slurm_cluster_log "jobs still queued after 300 s:"; squeue >&2
  return 1
}

slurm_cluster_stop() {
  [ -n "$SLURM_CLUSTER_DIR" ] || return 0
  local leftover=0 pid i
  scancel --full $(squeue -h -o %i 2>/dev/null) 2>/dev/null
  # slurmd first (it ends its steps), then slurmctld, then munged.
  for pid in "${SLURM_CLUSTER_PIDS[@]:2:1}" "${SLURM_CLUSTER_PIDS[@]:1:1}" "${SLURM_CLUSTER_PIDS[@]:0:1}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { slurm_cluster_log "pid $pid ignored SIGTERM for 10 s"; kill -KILL "$pid"; leftover=1; }
    wait "$pid" 2>/dev/null
  done
  if [ -n "$SLURM_CLUSTER_PIDS_CG" ] && [ -d "$SLURM_CLUSTER_PIDS_CG" ]; then
    local procs
    procs=$(cat "$SLURM_CLUSTER_PIDS_CG/cgroup.procs")
    if [ -n "$procs" ]; then
      slurm_cluster_log "processes left after the daemons stopped:"
      for pid in $procs; do echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2; done
      leftover=1
      for i in $(seq 50); do
        procs=$(cat "$SLURM_CLUSTER_PIDS_CG/cgroup.procs")
        [ -z "$procs" ] && break
        kill -KILL $procs 2>/dev/null
        sleep 0.1
      done
    fi
    slurm_cluster_rmdir_tree "$SLURM_CLUSTER_PIDS_CG" || leftover=1
  fi
  # Slurm's own cgroups for this node (slurm_<node>/uid_N/job_N/step_N in each hierarchy it uses).
  local d
  for d in /sys/fs/cgroup/*/slurm_"$SLURM_NODE" /sys/fs/cgroup/*/*/slurm_"$SLURM_NODE"; do
    [ -d "$d" ] && { slurm_cluster_rmdir_tree "$d" || leftover=1; }
  done
  SLURM_CLUSTER_DIR=
  return $leftover
}

# rmdir a cgroup and its descendants, deepest first.
slurm_cluster_rmdir_tree() {
  find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
  [ ! -d "$1" ] || { slurm_cluster_log "could not remove cgroup $1"; return 1; }
}
