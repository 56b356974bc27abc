#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the SLURM executor's tests (Debian 12,
# Slurm 22.05, root, no systemd needed). `up` installs the packages if missing, writes a minimal
# slurm.conf, starts munged, slurmctld and slurmd in the background and waits until the node is
# idle; `down` stops them by the PIDs in their pid files. Idempotent: `up` on a running cluster
# only waits for it.
set -euo pipefail

action=${1:-up}
conf_dir=/etc/slurm
state=/var/lib/slurm-test
pids=/run/slurm-test

log() { echo "slurm-test-cluster: $*" >&2; }

stop_pid() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}

if [ "$action" = down ]; then
  stop_pid $pids/slurmd.pid
  stop_pid $pids/slurmctld.pid
  stop_pid /run/munge/munged.pid
  exit 0
fi

node_state() { sinfo -h -N -o %T 2>/dev/null | head -n1; }

if [ "$(node_state)" = idle ] || [ "$(node_state)" = mixed ] || [ "$(node_state)" = allocated ]; then
  log "cluster already up"
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: the key exists after install; the daemon must run as the munge user.
mkdir -p /run/munge $pids $state/ctld $state/d /var/log/slurm
chown munge:munge /run/munge
if [ ! -f /etc/munge/munge.key ]; then
  /usr/sbin/mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi

# The node as slurmd sees it: RealMemory exactly as reported (more drains the node).
node_line=$(slurmd -C | head -n1 | sed 's/^NodeName=[^ ]*/NodeName=localhost NodeAddr=127.0.0.1/')
mkdir -p $conf_dir
cat > $conf_dir/slurm.conf <<CONF
ClusterName=pipeline-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$pids/slurmctld.pid
SlurmdPidFile=$pids/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
EnforcePartLimits=ALL
MinJobAge=3600
# A job over its time limit is killed at once (no grace minute, 2 s from SIGTERM to SIGKILL),
# so the time-limit test takes about a minute, not three.
OverTimeLimit=0
KillWait=2
ReturnToService=2
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.txt
$node_line State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

stop_pid $pids/slurmd.pid
stop_pid $pids/slurmctld.pid
# -c: forget saved state (a drain from an earlier config survives restarts otherwise).
slurmctld -c -i
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
slurmd -N localhost
for _ in $(seq 300); do
  if [ "$(node_state)" = idle ]; then
    # The first seconds after a fresh controller start schedule nothing: wait for a job to run.
    srun -t 1 -N1 true >/dev/null 2>&1 || true
    log "cluster up: $(sinfo -h -o '%P %D %c CPUs %m MB %T')"
    exit 0
  fi
  sleep 0.2
done
log "node did not become idle: $(sinfo -h -N -o '%N %T %E' 2>&1)"
exit 1
