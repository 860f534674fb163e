#!/usr/bin/env bash
# s3server-stop.sh -- stop the S3 server started by s3server.sh start DIR
# (called by s3server.sh stop).
# Usage: s3server-stop.sh DIR [--purge]
#   Signals only the processes recorded in DIR/run/*.pid (plus the worker
#   processes in their setsid process groups), and only those whose command
#   line still refers to DIR/ (protects against PID reuse). TERM, up to 15 s
#   grace, then KILL. --purge additionally deletes DIR (data, configs, logs).
set -uo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
if [ ! -d "$1" ]; then echo "s3server: $1: no such directory, nothing to stop" >&2; exit 0; fi
DIR=$(cd "$1" && pwd -P)
RUN=$DIR/run

is_ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/"; }
our_group() {  # live processes of ours whose process group is the recorded PID
    local pid q f st pg
    [ -s "$1" ] || return 0
    pid=$(head -n1 "$1"); [[ $pid =~ ^[0-9]+$ ]] || return 0
    for f in /proc/[0-9]*/stat; do
        { st=$(<"$f"); } 2>/dev/null || continue
        st=${st##*) }
        read -r _ _ pg _ <<<"$st"
        [ "$pg" = "$pid" ] || continue
        q=${f#/proc/}; q=${q%/stat}
        if is_ours "$q"; then echo "$q"; fi
    done
    return 0
}

pids=()
for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    pids+=($(our_group "$f"))
done
[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
for _ in $(seq 150); do      # up to 15 s for a clean exit (an OSD needs a few s)
    alive=()
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
done
[ ${#alive[@]} -gt 0 ] && kill -KILL "${alive[@]}" 2>/dev/null
rm -f "$RUN"/*.pid
echo "s3server: stopped ${#pids[@]} process(es)${pids:+: ${pids[*]}}" >&2
if [ "${2:-}" = --purge ]; then
    rm -rf -- "$DIR" && echo "s3server: removed $DIR" >&2
fi
exit 0
