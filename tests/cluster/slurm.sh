#!/usr/bin/env bash
# A single-node SLURM on this machine, for the cluster tests (tests/cluster/).
#
#   bash tests/cluster/slurm.sh start    # write the config, start munged, slurmctld, slurmd
#   bash tests/cluster/slurm.sh stop     # stop the daemons this script started
#   bash tests/cluster/slurm.sh status   # exit 0 when the node takes jobs
#
# Needs root and Debian's packages: apt-get install -y slurm-wlm munge
# No systemd and no slurmdbd: the daemons are started by hand, accounting is off
# (AccountingStorageType=accounting_storage/none), so `sacct` cannot see jobs and the
# executor must ask `squeue` (slurm-status-command: squeue); MinJobAge keeps finished
# jobs visible to squeue and scontrol for 5 minutes.
#
# The node is this machine (NodeName=$(hostname), its CPUs and memory from `slurmd -C`)
# with two fake GPUs (gres "gpu" backed by /dev/null and /dev/zero) so that jobs asking
# for `--gpus=N` are scheduled; no real GPU is there, so jobs given one must be allowed
# to fall back to the CPU (gpu_fallback: cpu). Two partitions hold the node: `cpu`
# (the default) and `gpu`, the names the project's profiles use.
set -euo pipefail

ETC=/etc/slurm
CONF=$ETC/slurm.conf
MARK="# written by svibench tests/cluster/slurm.sh"
LOGDIR=/var/log/slurm
SPOOL_CTLD=/var/spool/slurmctld
SPOOL_D=/var/spool/slurmd
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
NODE=$(hostname -s)

die() { echo "slurm.sh: $*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it writes $ETC and starts daemons)"
    for cmd in munged slurmctld slurmd sinfo sbatch; do
        command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] ||
            die "$cmd not found; install the packages: apt-get install -y slurm-wlm munge"
    done
}

alive() {  # alive PIDFILE: the process named in PIDFILE runs
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_ready() {  # the node is idle or partly allocated, not down/drained
    local state
    state=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1) || return 1
    case "$state" in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
}

write_config() {
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; not touching it"
    fi
    # CPUs, sockets, cores, memory of this machine, as slurmd sees them.
    local hw mem
    hw=$(/usr/sbin/slurmd -C | head -n1 | sed -E 's/^NodeName=[^ ]+ //; s/ RealMemory=[0-9]+//')
    mem=$(/usr/sbin/slurmd -C | head -n1 | sed -nE 's/.*RealMemory=([0-9]+).*/\1/p')
    mem=$((mem * 9 / 10))   # leave some memory to the machine itself
    mkdir -p "$ETC" "$LOGDIR" "$SPOOL_CTLD" "$SPOOL_D"
    cat > "$CONF" <<EOF
$MARK
ClusterName=svibench
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SPOOL_CTLD
SlurmdSpoolDir=$SPOOL_D
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue/scontrol for 5 minutes: the executor's
# squeue status checks and the tests' scontrol queries depend on it.
MinJobAge=300
GresTypes=gpu
NodeName=$NODE $hw RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE Default=NO MaxTime=INFINITE State=UP
EOF
    cat > "$ETC/gres.conf" <<EOF
$MARK
AutoDetect=off
NodeName=$NODE Name=gpu File=/dev/null
NodeName=$NODE Name=gpu File=/dev/zero
EOF
}

start_munge() {
    if alive "$MUNGE_PID" && munge -n </dev/null | unmunge >/dev/null 2>&1; then
        return
    fi
    [ -s /etc/munge/munge.key ] || /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge -n </dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.1
    done
    die "munged did not start (see /var/log/munge/munged.log)"
}

start() {
    need_root
    if alive "$CTLD_PID" && alive "$SLURMD_PID" && node_ready; then
        echo "slurm.sh: already running (node $NODE)"; return
    fi
    write_config
    start_munge
    alive "$CTLD_PID" || /usr/sbin/slurmctld
    alive "$SLURMD_PID" || /usr/sbin/slurmd
    for _ in $(seq 150); do
        if node_ready; then
            # A node left down by an earlier run comes back.
            echo "slurm.sh: SLURM is up: node $NODE, partitions cpu (default) and gpu, 2 fake GPUs"
            sinfo
            return
        fi
        if [ "$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1)" = down ]; then
            scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
        fi
        sleep 0.2
    done
    sinfo -N -l || true
    tail -n 20 "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log" >&2 || true
    die "node $NODE did not become ready in 30 s"
}

stop_one() {  # stop_one NAME PIDFILE
    if alive "$2"; then
        local pid; pid=$(cat "$2")
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "slurm.sh: stopped $1 ($pid)"
    fi
}

stop() {
    # Jobs left in the queue, then job processes that outlived their job: with
    # proctrack/linuxproc (no cgroups here) a job cancelled by scancel can leave its
    # `snakemake --executor slurm-jobstep` behind, seen running an hour later.
    if alive "$CTLD_PID"; then scancel --user "$(id -un)" >/dev/null 2>&1 || true; fi
    if pkill -f -- "--executor slurm-jobstep" 2>/dev/null; then
        echo "slurm.sh: killed job processes left behind"
    fi
    stop_one slurmd "$SLURMD_PID"
    stop_one slurmctld "$CTLD_PID"
    stop_one munged "$MUNGE_PID"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) alive "$CTLD_PID" && alive "$SLURMD_PID" && node_ready && sinfo ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
