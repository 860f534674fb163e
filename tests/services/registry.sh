#!/usr/bin/env bash
# tests/services/registry.sh -- a private image registry on loopback (Debian's
# docker-registry, the CNCF distribution registry) for the pull tests.
#
#   registry.sh start DIR PORT   serve http://127.0.0.1:PORT with storage in DIR
#                                (REGISTRY_HTPASSWD=FILE: only for its users)
#   registry.sh stop DIR         stop it by the PID in DIR/registry.pid
#
# dockerd treats 127.0.0.0/8 registries as insecure (plain HTTP) by default;
# podman needs the registries.conf this script writes (DIR/registries.conf,
# pass it as CONTAINERS_REGISTRIES_CONF).
set -euo pipefail
die() { echo "registry.sh: $*" >&2; exit 1; }
cmd=${1:-}
[ -n "${2:-}" ] || die "usage: $0 start DIR PORT | stop DIR"
mkdir -p "$2"
D=$(cd "$2" && pwd -P)
PIDFILE=$D/registry.pid
case $cmd in
start)
    PORT=${3:?usage: $0 start DIR PORT}
    mkdir -p "$D/data"
    cat >"$D/config.yml" <<CONF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $D/data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$PORT
CONF
    if [ -n "${REGISTRY_HTPASSWD:-}" ]; then  # basic auth (bcrypt entries)
        printf 'auth:\n  htpasswd: {realm: mlwm-test, path: %s}\n' "$REGISTRY_HTPASSWD" >>"$D/config.yml"
    fi
    cat >"$D/registries.conf" <<CONF
[[registry]]
location = "127.0.0.1:$PORT"
insecure = true
CONF
    setsid docker-registry serve "$D/config.yml" >"$D/registry.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    deadline=$(($(date +%s) + 30))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")" != 000 ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { tail "$D/registry.log" >&2; die "registry did not answer within 30 s"; }
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail "$D/registry.log" >&2; die "registry exited"; }
        sleep 0.1
    done
    echo "MLWM_TEST_REGISTRY=127.0.0.1:$PORT"
    ;;
stop)
    if [ -s "$PIDFILE" ]; then
        kill -TERM "$(cat "$PIDFILE")" 2>/dev/null || true
        rm -f "$PIDFILE"
    fi
    ;;
*) die "usage: $0 start DIR PORT | stop DIR" ;;
esac
