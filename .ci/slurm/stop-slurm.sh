#!/usr/bin/env bash
# .ci/slurm/stop-slurm.sh -- stop the daemons that .ci/slurm/start-slurm.sh started (adapted, like it,
# from the project machines' ../shared/slurm/), and only those: each is named with
# its pid file in $SLURM_PROTO/cluster/run/started.list and is signalled only if the pid in that file
# is alive and is that program.  Jobs still queued or running are cancelled first (KEEP_JOBS=1 keeps
# them: slurmctld saves them and a later start-slurm.sh picks them up).  Never kills by name.
set -uo pipefail

SLURM_PROTO=${SLURM_PROTO:-${TMPDIR:-/tmp}/genlab-slurm}
C=$SLURM_PROTO/cluster
STARTED=$C/run/started.list
log() { printf '[stop-slurm %(%T)T] %s\n' -1 "$*"; }
[ -s "$STARTED" ] || { log "nothing to stop (no $STARTED)"; exit 0; }

alive() {  # alive NAME PIDFILE -> pid, if that process is alive and is the named program
    local pid
    [ -s "$2" ] || return 1
    pid=$(tr -dc 0-9 < "$2")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ] || return 1
    echo "$pid"
}

if [ "${KEEP_JOBS:-0}" != 1 ] && grep -q '^slurmctld ' "$STARTED" && scontrol ping >/dev/null 2>&1; then
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
        log "cancelling jobs: $jobs"
        # shellcheck disable=SC2086
        scancel $jobs
        for _ in $(seq 120); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
    fi
fi

# stop in the reverse order of starting
tac "$STARTED" | while read -r name pidfile; do
    if pid=$(alive "$name" "$pidfile"); then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        if kill -0 "$pid" 2>/dev/null; then log "$name (pid $pid) still alive after 30 s: SIGKILL"; kill -KILL "$pid"; fi
    else
        log "$name: not running (pid file $pidfile)"
    fi
done
rm -f "$STARTED"
log "stopped"
