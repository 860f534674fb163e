#!/usr/bin/env bash
# tests/integration/run.sh BUILD_DIR -- starts the services the integration
# tests need (a private dockerd, Podman's Docker-compatible service), runs the
# integration suites against each, and stops the services (also on failure).
# Environment: MLWM_ENGINES (default "docker podman").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
SERVICES=$here/../services
WORK=$(mktemp -d /tmp/mlwm-it.XXXXXX)
cleanup() {
    "$SERVICES/registry.sh" stop "$WORK/registry" || true
    "$SERVICES/dockerd.sh" stop "$WORK/docker" || true
    "$SERVICES/podman.sh" stop "$WORK/podman" || true
    rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

# a registry on loopback holding the test image, for the pull tests
REGISTRY_PORT=${MLWM_TEST_REGISTRY_PORT:-5055}
"$SERVICES/registry.sh" start "$WORK/registry" "$REGISTRY_PORT" >/dev/null
export MLWM_TEST_REGISTRY=127.0.0.1:$REGISTRY_PORT
export CONTAINERS_REGISTRIES_CONF=$WORK/registry/registries.conf  # podman: plain HTTP on loopback
"$SERVICES/dockerd.sh" start "$WORK/docker" >/dev/null
DOCKER_HOST=unix://$WORK/docker/docker.sock docker tag mlwm-test/busybox:1 "$MLWM_TEST_REGISTRY/mlwm-test/busybox:1"
DOCKER_HOST=unix://$WORK/docker/docker.sock docker push -q "$MLWM_TEST_REGISTRY/mlwm-test/busybox:1" >/dev/null

for engine in ${MLWM_ENGINES:-docker podman}; do
    echo "--- integration tests against $engine"
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
    "$BUILD/tests/integration/mlwm_integration_tests"
    bash "$here/test_build_image_cli.sh" "$BUILD/daemon/mlwm"
done
