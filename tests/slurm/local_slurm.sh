#!/usr/bin/env bash
# Start or stop a single-node SLURM (munge + slurmctld + slurmd) on localhost, as root.
# Used by './exomir test' so the cluster tests submit real jobs. State lives in /run/exomir-slurm.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE=/run/exomir-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by exomir tests/slurm/local_slurm.sh; removed on stop"
log() { printf '[local_slurm] %s\n' "$*" >&2; }
# ours: written by this script (MARK), or by its versions before the mark (template's first line)
ours() { [ -f "$CONF" ] && grep -qF -e "$MARK" -e "# Single-node SLURM on localhost for the cluster tests" "$CONF"; }

stop() {
    local pidfile
    for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" /run/munge/munged.pid; do
        if [ -s "$pidfile" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    # Without a controller, a slurm.conf left behind makes every SLURM client call (and so
    # every Snakemake start: the SLURM executor plugin runs 'scontrol show config' when
    # loaded) wait ~9 s for a timeout. Remove ours; put back one that was there before.
    if ours; then
        rm -f "$CONF"
        if [ -f "$STATE/slurm.conf.before" ]; then
            mv "$STATE/slurm.conf.before" "$CONF"
        fi
    fi
    log "stopped"
}

start() {
    if [ -s "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null \
        && timeout 600 srun -t 1 true 2>/dev/null; then
        log "already running"
        return 0
    fi
    stop >/dev/null 2>&1 || true
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # Leave 2 GB to the system; SLURM refuses jobs asking more than RealMemory.
    mem=$(( $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) - 2048 ))
    mkdir -p "$STATE/slurmctld" "$STATE/slurmd" /etc/slurm /run/munge
    if [ -f "$CONF" ] && ! ours; then
        cp -p "$CONF" "$STATE/slurm.conf.before"  # a site's own config: restored on stop
    fi
    {
        echo "$MARK"
        sed -e "s/@HOST@/$host/g" -e "s/@CPUS@/$cpus/g" -e "s/@MEM@/$mem/g" -e "s#@STATE@#$STATE#g" \
            "$HERE/slurm.conf.in"
    } > "$CONF"
    [ -s /etc/munge/munge.key ] || /usr/sbin/mungekey --create >/dev/null 2>&1 || true
    chown -R munge:munge /run/munge /etc/munge 2>/dev/null || true
    if ! [ -S /run/munge/munge.socket.2 ]; then
        runuser -u munge -- /usr/sbin/munged
        for _ in $(seq 100); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
    fi
    /usr/sbin/slurmctld
    /usr/sbin/slurmd
    # Wait until a job runs: each try may take minutes on a loaded machine (issue 16.5), so the
    # bound is a deadline (30 min) rather than a count of short tries.
    local deadline=$((SECONDS + 1800))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if timeout 600 srun -t 1 true 2>/dev/null; then
            log "running on $host ($cpus CPUs, $mem MB)"
            return 0
        fi
        sleep 0.5
    done
    log "SLURM did not become ready in 30 min; see $STATE/slurmctld.log and $STATE/slurmd.log"
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
