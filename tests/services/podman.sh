#!/usr/bin/env bash
# tests/services/podman.sh -- Podman's Docker-compatible API for the tests.
#
#   podman.sh start DIR   `podman system service` on unix://DIR/podman.sock with
#                         its storage under DIR; imports the busybox test image.
#                         Prints DOCKER_HOST=unix://DIR/podman.sock (also DIR/env)
#                         and MLWM_TEST_IMAGE=... (podman names it localhost/...).
#   podman.sh stop DIR    stop it by the PID in DIR/podman.pid.
#
# containers.conf: processes here cannot raise their hard limits, so podman's
# default ulimits make every start fail ("error setting rlimit type 7"); crun
# fails on hybrid cgroups, so runc is used.
set -euo pipefail
# shellcheck source=../../deploy/busybox-rootfs.sh
source "$(dirname "$0")/../../deploy/busybox-rootfs.sh"
die() { echo "podman.sh: $*" >&2; exit 1; }
# shellcheck source=stop_pid.sh
source "$(dirname "$0")/stop_pid.sh"
[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
cmd=$1
mkdir -p "$2"
D=$(cd "$2" && pwd -P)
SOCK=$D/podman.sock
PIDFILE=$D/podman.pid
TEST_IMAGE=${MLWM_TEST_IMAGE_NAME:-mlwm-test/busybox:1}
export CONTAINERS_CONF=$D/containers.conf
PODMAN=(podman --root "$D/root" --runroot "$D/runroot" --tmpdir "$D/tmp")

alive() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
ping() { curl -s --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -qx OK; }

case $cmd in
start)
    if ! (alive && ping); then
        command -v podman >/dev/null || die "podman not found: run tests/install-deps.sh"
        mkdir -p "$D/root" "$D/runroot" "$D/tmp"
        cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
events_logger = "file"
cgroup_manager = "cgroupfs"
CONF
        # in DIR: conmon writes an `oom` file into its working folder when a
        # container is OOM-killed
        cd "$D"
        setsid "${PODMAN[@]}" system service --time=0 "unix://$SOCK" >"$D/podman.log" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
        deadline=$(($(date +%s) + 60))
        until ping; do
            [ "$(date +%s)" -lt "$deadline" ] || { tail -n 20 "$D/podman.log" >&2; die "podman did not answer /_ping within 60 s"; }
            kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -n 20 "$D/podman.log" >&2; die "podman exited"; }
            sleep 0.1
        done
    fi
    if ! "${PODMAN[@]}" image exists "localhost/$TEST_IMAGE"; then
        busybox_image_tar | "${PODMAN[@]}" import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$TEST_IMAGE" >/dev/null
    fi
    printf 'DOCKER_HOST=unix://%s\nMLWM_TEST_IMAGE=localhost/%s\n' "$SOCK" "$TEST_IMAGE" | tee "$D/env"
    ;;
stop)
    if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    fi
    stop_pid "$PIDFILE" 10
    ;;
*) die "usage: $0 start|stop DIR" ;;
esac
