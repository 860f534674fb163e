# Sourced by the service scripts (tests/services/*.sh).
#
# stop_pid PIDFILE SECONDS [MATCH]: stops the process PIDFILE names -- only if
# its command line contains MATCH, when given (a stale file may name a PID
# now used by another process) -- with SIGTERM, then SIGKILL after SECONDS;
# returns once it is gone (at most 5 s after the SIGKILL) and removes PIDFILE.
stop_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || pid=
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        { [ -z "${3:-}" ] || grep -qF -- "$3" "/proc/$pid/cmdline" 2>/dev/null; }; then
        kill -TERM "$pid"
        for _ in $(seq 1 $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$1"
}
