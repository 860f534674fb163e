#!/usr/bin/env bash
# tests/services/dockerd.sh -- a private Docker Engine for the tests.
#
#   dockerd.sh start DIR   start dockerd (Debian docker.io) with its socket,
#                          data root, exec root and pid file under DIR; wait for
#                          /_ping; import the busybox test image. Prints
#                          DOCKER_HOST=unix://DIR/docker.sock (also in DIR/env).
#   dockerd.sh stop DIR    stop it by the PID in DIR/docker.pid (TERM, then KILL).
#
# It never touches a system dockerd: everything is under DIR. No registry is
# used; the test image is an import of a rootfs holding busybox-static.
set -euo pipefail
# shellcheck source=../../deploy/busybox-rootfs.sh
source "$(dirname "$0")/../../deploy/busybox-rootfs.sh"
die() { echo "dockerd.sh: $*" >&2; exit 1; }
# shellcheck source=stop_pid.sh
source "$(dirname "$0")/stop_pid.sh"
[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
cmd=$1
mkdir -p "$2"
D=$(cd "$2" && pwd -P)
SOCK=$D/docker.sock
PIDFILE=$D/docker.pid
TEST_IMAGE=${MLWM_TEST_IMAGE_NAME:-mlwm-test/busybox:1}

alive() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
ping() { curl -s --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -qx OK; }

case $cmd in
start)
    if alive && ping; then
        echo "DOCKER_HOST=unix://$SOCK"
        exit 0
    fi
    [ ${#SOCK} -lt 100 ] || die "socket path too long for a unix socket: $SOCK"
    command -v dockerd >/dev/null || die "dockerd not found: run tests/install-deps.sh"
    mkdir -p "$D/data" "$D/exec"
    # no container in the tests needs a network beyond loopback
    setsid dockerd --host "unix://$SOCK" --data-root "$D/data" --exec-root "$D/exec" \
        --pidfile "$PIDFILE" --bridge none --iptables=false --ip-masq=false \
        --userland-proxy=false --log-level warn >"$D/dockerd.log" 2>&1 </dev/null &
    deadline=$(($(date +%s) + 60))
    until ping; do
        [ "$(date +%s)" -lt "$deadline" ] || { tail -n 20 "$D/dockerd.log" >&2; die "dockerd did not answer /_ping within 60 s"; }
        if ! kill -0 $! 2>/dev/null; then tail -n 20 "$D/dockerd.log" >&2; die "dockerd exited"; fi
        sleep 0.1
    done
    # the busybox test image, built from Debian's busybox-static (no registry)
    if ! DOCKER_HOST=unix://$SOCK docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
        busybox_image_tar | DOCKER_HOST=unix://$SOCK docker import \
            -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$TEST_IMAGE" >/dev/null
    fi
    echo "DOCKER_HOST=unix://$SOCK" | tee "$D/env"
    ;;
stop)
    if alive && grep -qF -- "$D/" "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null; then
        # remove test containers first so their shims do not outlive the engine
        DOCKER_HOST=unix://$SOCK docker ps -aq --filter label=org.mlwm.test 2>/dev/null |
            xargs -r env DOCKER_HOST=unix://$SOCK docker rm -f >/dev/null 2>&1 || true
    fi
    stop_pid "$PIDFILE" 15 "$D/"
    # containerd started by dockerd lives in the same session
    pkill -f -- "--state $D/exec/containerd" 2>/dev/null || true
    pkill -f -- "$D/exec/containerd" 2>/dev/null || true
    ;;
*) die "usage: $0 start|stop DIR" ;;
esac
