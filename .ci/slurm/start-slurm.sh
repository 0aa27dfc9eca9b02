#!/usr/bin/env bash
# .ci/slurm/start-slurm.sh -- a real one-node SLURM cluster on this (Debian 12) machine, on which
# .ci/run runs the SLURM sweep tests (tests/slurm).  Adapted from the start script the project's
# machines ship (../shared/slurm/): the same daemons, plus the settings the tests rely on
# (KillWait=5: scancel kills a job 5 s after its SIGTERM, which submitit ignores, not 30 s).
# Idempotent: installs what is missing (Debian's slurm-wlm, munge, MariaDB), writes the configs,
# starts only the daemons that are not running, and waits until the node is idle.
#
#   .ci/slurm/start-slurm.sh         # as root: munged, mariadbd + slurmdbd (accounting), slurmctld, slurmd
#   .ci/slurm/stop-slurm.sh          # stops exactly the daemons this script started (pid files)
#
# Accounting (slurmdbd) is needed: submitit reads a job's state from sacct, and without it never
# sees a cancelled or failed job end.  Everything the cluster writes lives under $SLURM_PROTO
# (state, spool, logs, pid files, the accounting database); configs go to /etc/slurm, where
# sbatch/srun/sinfo look.  Partition "cpu" (default), one node = this machine, cluster "genlab".
# On any failure it prints one line, "[start-slurm] error: ...", and exits 1.
set -euo pipefail

SLURM_PROTO=${SLURM_PROTO:-${TMPDIR:-/tmp}/genlab-slurm}
C=$SLURM_PROTO/cluster                    # runtime root; rm -rf it (after stop) to start from scratch
ACCOUNTING=${ACCOUNTING:-1}
CGROUPS=${CGROUPS:-0}
DB_PORT=${DB_PORT:-3307}                  # our own MariaDB on 127.0.0.1 (not the system's 3306)
CLUSTER=${CLUSTER:-genlab}
PARTITION=${PARTITION:-cpu}
NODE=$(hostname -s)
CPUS=$(nproc --all)
MEMTOTAL_MB=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
# RealMemory must not exceed what slurmd detects, or the node drains ("Low RealMemory").  Default:
# 80% of MemTotal, rounded down to 100 MB -- stable across reruns, a bit under free memory.
REALMEM=${REALMEM:-$(( MEMTOTAL_MB * 8 / 10 / 100 * 100 ))}
STARTED=$C/run/started.list               # "name pidfile" for each daemon started by this script

log() { printf '[start-slurm %(%T)T] %s\n' -1 "$*"; }
die() { printf '[start-slurm] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# pid from a pid file if that process is alive and is the named program
alive() {  # alive NAME PIDFILE
    local pid
    [ -s "$2" ] || return 1
    pid=$(tr -dc 0-9 < "$2")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ] || return 1
    echo "$pid"
}
record() { grep -Fqx "$1 $2" "$STARTED" 2>/dev/null || echo "$1 $2" >> "$STARTED"; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local t=$1 what=$2; shift 2
    for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    die "timed out after ${t}s waiting for $what"
}

# ---------------------------------------------------------------- 1. packages
need=()
for b in munged:munge slurmctld:slurmctld slurmd:slurmd sinfo:slurm-client; do
    command -v "${b%%:*}" >/dev/null || need+=("${b#*:}")
done
if [ "$ACCOUNTING" = 1 ]; then
    for b in slurmdbd:slurmdbd mariadbd:mariadb-server mariadb:mariadb-client; do
        command -v "${b%%:*}" >/dev/null || need+=("${b#*:}")
    done
fi
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    # keep the packages' init scripts from starting daemons with their default configs
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # the log's directory first: on a fresh machine nothing has made $SLURM_PROTO yet, and a
    # redirect into a missing directory fails before apt-get runs (CI at 574debb: "tail: cannot
    # open .../apt-install.log")
    mkdir -p "$SLURM_PROTO"
    apt_log=$SLURM_PROTO/apt-install.log
    apt-get update -qq > "$apt_log" 2>&1 \
        || { [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -5 "$apt_log" || true; die "apt-get update failed"; }
    apt-get install -y -qq --no-install-recommends "${need[@]}" >> "$apt_log" 2>&1 \
        || { [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -20 "$apt_log" || true; die "apt-get install failed"; }
    [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# ---------------------------------------------------------------- 2. directories and configs
mkdir -p "$C"/{state,spool,log,run,etc}
chown slurm:slurm "$C/state" "$C/log"
touch "$STARTED"

changed=0
install_conf() {  # install_conf DEST OWNER MODE < content ; sets changed=1 when the content differs
    local tmp; tmp=$(mktemp)
    cat > "$tmp"
    if ! cmp -s "$tmp" "$1"; then install -o "${2%:*}" -g "${2#*:}" -m "$3" "$tmp" "$1"; changed=1; fi
    rm -f "$tmp"
}
mkdir -p /etc/slurm

if [ "$CGROUPS" = 1 ]; then
    PROCTRACK=proctrack/cgroup; TASK=task/cgroup,task/affinity; GATHER=jobacct_gather/cgroup
    install_conf /etc/slurm/cgroup.conf root:root 644 <<EOF
CgroupPlugin=cgroup/v1
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
EOF
else
    # no cgroups (containers): processes tracked through /proc, CPUs bound by sched_setaffinity;
    # memory is not enforced
    PROCTRACK=proctrack/linuxproc; TASK=task/affinity; GATHER=jobacct_gather/linux
fi
if [ "$ACCOUNTING" = 1 ]; then
    ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
else
    ACCT="AccountingStorageType=accounting_storage/none"
fi

install_conf /etc/slurm/slurm.conf root:root 644 <<EOF
# written by genlab's .ci/slurm/start-slurm.sh
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/run/slurmctld.pid
SlurmdPidFile=$C/run/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=$PROCTRACK
TaskPlugin=$TASK
JobAcctGatherType=$GATHER
JobAcctGatherFrequency=task=5
$ACCT
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# a job array's tasks finish in seconds here: keep finished jobs visible to scontrol for 10 min
MinJobAge=600
# scancel: SIGTERM, then SIGKILL after KillWait s (submitit's jobs ignore the SIGTERM)
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$REALMEM State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurm_conf_changed=$changed

# ---------------------------------------------------------------- 3. munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge /etc/munge/munge.key; chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 755 /run/munge      # systemd's RuntimeDirectory, absent without systemd
if alive munged /run/munge/munged.pid >/dev/null; then
    :
elif munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running (not started here; stop-slurm.sh leaves it alone)"
else
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    wait_for 10 munged bash -c 'munge -n | unmunge'
    record munged /run/munge/munged.pid
fi

# ---------------------------------------------------------------- 4. accounting: MariaDB + slurmdbd
if [ "$ACCOUNTING" = 1 ]; then
    DB=$C/db; DBRUN=$C/dbrun; SOCK=$DBRUN/mysql.sock
    install -d -o mysql -g mysql -m 750 "$DB" "$DBRUN"
    if [ ! -d "$DB/mysql" ]; then
        log "initialising MariaDB in $DB"
        mariadb-install-db --no-defaults --datadir="$DB" --user=mysql --auth-root-authentication-method=socket \
            --skip-test-db > "$C/log/mariadb-install.log" 2>&1 || { tail "$C/log/mariadb-install.log"; die "mariadb-install-db failed"; }
    fi
    if ! alive mariadbd "$DBRUN/mariadb.pid" >/dev/null; then
        log "starting mariadbd on 127.0.0.1:$DB_PORT"
        setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB" --socket="$SOCK" \
            --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$DBRUN/mariadb.pid" \
            --log-error="$DBRUN/mariadb.log" --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
            < /dev/null > /dev/null 2>&1 &
        wait_for 60 mariadbd mariadb-admin --no-defaults --socket="$SOCK" ping
        wait_for 10 "mariadbd pid file" alive mariadbd "$DBRUN/mariadb.pid"
        record mariadbd "$DBRUN/mariadb.pid"
    fi
    [ -s "$C/etc/dbpass" ] || { head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9 > "$C/etc/dbpass"; chmod 600 "$C/etc/dbpass"; }
    PASS=$(cat "$C/etc/dbpass")
    mariadb --no-defaults --socket="$SOCK" -u root <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$PASS';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
    changed=0
    install_conf /etc/slurm/slurmdbd.conf slurm:slurm 600 <<EOF
# written by genlab's .ci/slurm/start-slurm.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=$C/log/slurmdbd.log
PidFile=$C/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$PASS
StorageLoc=slurm_acct_db
EOF
    if [ $changed = 1 ] && pid=$(alive slurmdbd "$C/run/slurmdbd.pid"); then
        log "slurmdbd.conf changed: restarting slurmdbd"; kill "$pid"; wait_for 20 "slurmdbd to stop" bash -c "! kill -0 $pid"
    fi
    if ! alive slurmdbd "$C/run/slurmdbd.pid" >/dev/null; then
        log "starting slurmdbd"
        /usr/sbin/slurmdbd
        wait_for 30 slurmdbd alive slurmdbd "$C/run/slurmdbd.pid"
        wait_for 30 "slurmdbd to answer" sacctmgr -n list cluster
        record slurmdbd "$C/run/slurmdbd.pid"
    fi
fi

# ---------------------------------------------------------------- 5. slurmctld and slurmd
if [ "$slurm_conf_changed" = 1 ]; then
    for d in slurmd slurmctld; do
        if pid=$(alive $d "$C/run/$d.pid"); then
            log "slurm.conf changed: restarting $d"; kill "$pid"; wait_for 30 "$d to stop" bash -c "! kill -0 $pid"
        fi
    done
fi
if ! alive slurmctld "$C/run/slurmctld.pid" >/dev/null; then
    log "starting slurmctld"
    /usr/sbin/slurmctld                     # daemonises; registers the cluster with slurmdbd itself
    wait_for 30 slurmctld alive slurmctld "$C/run/slurmctld.pid"
    record slurmctld "$C/run/slurmctld.pid"
fi
wait_for 30 "slurmctld to answer" scontrol ping
if ! alive slurmd "$C/run/slurmd.pid" >/dev/null; then
    log "starting slurmd"
    /usr/sbin/slurmd
    wait_for 30 slurmd alive slurmd "$C/run/slurmd.pid"
    record slurmd "$C/run/slurmd.pid"
fi

# a node left DOWN/DRAIN by an earlier unclean stop is put back into service
state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
case "$state" in down*|drain*|fail*) scontrol update nodename="$NODE" state=resume || true ;; esac
node_idle() { sinfo -h -n "$NODE" -o %T | grep -Eq '^(idle|mixed|allocated)$'; }
wait_for 60 "node $NODE to be idle (sinfo: $(sinfo -h -n "$NODE" -o %T 2>/dev/null))" node_idle
if [ "$ACCOUNTING" = 1 ]; then wait_for 30 "sacct" sacct -n -X -S now; fi

log "ready: $(sinfo -h -o '%P %a %D %T %N' | tr '\n' ' ')(cluster $CLUSTER, $CPUS CPUs, RealMemory=${REALMEM}M, accounting=$ACCOUNTING, cgroups=$CGROUPS)"
