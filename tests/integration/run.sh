#!/usr/bin/env bash
# tests/integration/run.sh BUILD_DIR -- starts the services the integration
# tests need (Ceph radosgw as the S3 server, an image registry, a private
# dockerd, Podman's Docker-compatible service, a 3-node Docker Swarm), runs the integration suites
# against them, and stops the services (also on failure).
# Environment: MLWM_ENGINES (default "docker podman").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
SERVICES=$here/../services
WORK=$(mktemp -d /tmp/mlwm-it.XXXXXX)
cleanup() {
    "$SERVICES/s3server.sh" stop "$WORK/s3" >/dev/null 2>&1 || true
    "$SERVICES/registry.sh" stop "$WORK/registry" || true
    "$SERVICES/dockerd.sh" stop "$WORK/docker" || true
    "$SERVICES/podman.sh" stop "$WORK/podman" || true
    "$SERVICES/swarm.sh" stop "$WORK/swarm" >/dev/null 2>&1 || true
    rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
T_SUITE=$(date +%s)
suite() {  # TITLE: the previous suite's time, then this one's title
    local now
    now=$(date +%s)
    echo "    ($((now - T_SUITE)) s)"
    T_SUITE=$now
    echo "--- $*"
}

suite "integration tests against S3 (Ceph radosgw)"
S3_PORT=${MLWM_TEST_S3_PORT:-7480}
S3_BUCKETS="mlwm-test mlwm-inputs mlwm-outputs" "$SERVICES/s3server.sh" start "$WORK/s3" "$S3_PORT" >"$WORK/s3.out" 2>&1 ||
    { cat "$WORK/s3.out" >&2; exit 1; }
set -a
. "$WORK/s3/s3.env"
set +a
export MLWM_TEST_S3_ENDPOINT=$S3_ENDPOINT MLWM_TEST_S3_BUCKET=mlwm-test
export MLWM_TEST_S3_RGW_PID
MLWM_TEST_S3_RGW_PID=$(cat "$WORK/s3/run/rgw.pid")
"$BUILD/tests/integration/mlwm_integration_tests" -ts=s3
bash "$here/test_s3_cli.sh" "$BUILD/daemon/mlwm"

# a registry on loopback holding the test image, for the pull tests
REGISTRY_PORT=${MLWM_TEST_REGISTRY_PORT:-5055}
"$SERVICES/registry.sh" start "$WORK/registry" "$REGISTRY_PORT" >/dev/null
export MLWM_TEST_REGISTRY=127.0.0.1:$REGISTRY_PORT
export CONTAINERS_REGISTRIES_CONF=$WORK/registry/registries.conf  # podman: plain HTTP on loopback
"$SERVICES/dockerd.sh" start "$WORK/docker" >/dev/null
DOCKER_HOST=unix://$WORK/docker/docker.sock docker tag mlwm-test/busybox:1 "$MLWM_TEST_REGISTRY/mlwm-test/busybox:1"
DOCKER_HOST=unix://$WORK/docker/docker.sock docker push -q "$MLWM_TEST_REGISTRY/mlwm-test/busybox:1" >/dev/null

for engine in ${MLWM_ENGINES:-docker podman}; do
    suite "integration tests against $engine"
    case $engine in
    docker)
        "$SERVICES/dockerd.sh" start "$WORK/docker" >/dev/null
        export MLWM_TEST_DOCKER_SOCKET=$WORK/docker/docker.sock MLWM_TEST_IMAGE=mlwm-test/busybox:1
        ;;
    podman)
        "$SERVICES/podman.sh" start "$WORK/podman" >/dev/null 2>&1
        export MLWM_TEST_DOCKER_SOCKET=$WORK/podman/podman.sock MLWM_TEST_IMAGE=localhost/mlwm-test/busybox:1
        ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
    esac
    export MLWM_TEST_ENGINE=$engine
    "$BUILD/tests/integration/mlwm_integration_tests" -ts=docker
    bash "$here/test_build_image_cli.sh" "$BUILD/daemon/mlwm"
    bash "$here/test_validate_engine.sh" "$BUILD/daemon/mlwm"
    if [ "$engine" = docker ]; then
        suite "end to end: mlwm run (S3, dockerd, xarray, aws)"
        bash "$here/test_run_e2e.sh" "$BUILD/daemon/mlwm"
        suite "the mlwm image: every subcommand, mlwm run through the mounted socket, the training machine"
        if [ -n "${MLWM_TEST_DEB:-}" ]; then
            bash "$here/../package/test_image.sh" "$MLWM_TEST_DEB" "$BUILD/daemon/mlwm"
        else
            echo "skipped: no package to build it from (MLWM_TEST_DEB is set by tests/run.sh's package step)"
        fi
        suite "a real neural network end to end: train, artifact, image, daemon, forecast (advection-cnn)"
        bash "$here/test_model_e2e.sh" "$BUILD/daemon/mlwm"
        suite "coming from the original mlwm: its configuration, image and environment"
        bash "$here/test_compat.sh" "$BUILD/daemon/mlwm"
        suite "inference artifacts (build, verify, upload, build-image)"
        bash "$here/test_artifact.sh" "$BUILD/daemon/mlwm"
        suite "the daemon (detection, runs, endpoints, signals, concurrency)"
        bash "$here/test_daemon.sh" "$BUILD/daemon/mlwm"
        suite "the daemon under systemd's protocols (unit file, sd_notify, watchdog, journald)"
        bash "$here/test_daemon_systemd.sh" "$BUILD/daemon/mlwm"
        suite "the daemon killed and restarted (failpoints), cancel/rerun, late alerts, S3 outage"
        bash "$here/test_daemon_recovery.sh" "$BUILD/daemon/mlwm"
        suite "the daemon when mlwm's side fails: a full work disk, a failed publication"
        bash "$here/test_daemon_faults.sh" "$BUILD/daemon/mlwm"
        suite "chaos: the daemon SIGKILLed 50 times at random and aimed moments, CPUs busy"
        bash "$here/test_daemon_chaos.sh" "$BUILD/daemon/mlwm"
    fi
done

suite "Docker Swarm: replicated jobs on a 3-node cluster (network namespaces, fake GPUs)"
"$SERVICES/swarm.sh" start "$WORK/swarm" >"$WORK/swarm.out" 2>&1 || { cat "$WORK/swarm.out" >&2; exit 1; }
tail -n 1 "$WORK/swarm.out"
set -a
. "$WORK/swarm/env"
set +a
"$BUILD/tests/integration/mlwm_integration_tests" -ts=swarm
suite "the daemon with runner swarm: SIGKILL and adoption, a manager outage, a link cut, an engine restart, cancel, 8 members x 1 GPU"
image=mlwm/mlwm:$(dpkg-deb -f "${MLWM_TEST_DEB:-/dev/null}" Version 2>/dev/null || true)
if [ -n "${MLWM_TEST_DEB:-}" ] && DOCKER_HOST=unix://$WORK/docker/docker.sock docker image inspect "$image" >/dev/null 2>&1; then
    # the mlwm image test_image.sh built, as a cluster gets it from its registry
    DOCKER_HOST=unix://$WORK/docker/docker.sock docker save -o "$WORK/mlwm-image.tar" "$image"
    export MLWM_TEST_MLWM_IMAGE=$image MLWM_TEST_MLWM_IMAGE_TAR=$WORK/mlwm-image.tar
    bash "$here/test_daemon_swarm.sh" "$BUILD/daemon/mlwm"
    suite "chaos on the swarm: the daemon SIGKILLed 50 times at random and aimed moments, CPUs busy"
    MLWM_CHAOS_SWARM=1 bash "$here/test_daemon_chaos.sh" "$BUILD/daemon/mlwm"
else
    echo "skipped: no mlwm image (made from tests/run.sh's package step by the docker suite)"
fi
suite "integration tests done"
