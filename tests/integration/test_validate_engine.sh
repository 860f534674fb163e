#!/usr/bin/env bash
# `mlwm validate --engine` against the engine under test (MLWM_TEST_ENGINE,
# MLWM_TEST_DOCKER_SOCKET set by tests/integration/run.sh): what the engine
# cannot give a model is said before any run. dockerd 20.10 has no CDI
# devices (API 1.41 < 1.45); Podman names GPUs by CDI and cannot count them.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
SOCK=${MLWM_TEST_DOCKER_SOCKET:?}
ENGINE=${MLWM_TEST_ENGINE:?}
FIXTURE=$(cd "$(dirname "$0")/../fixtures/run-configurations/missing-input" && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D" "$_tmp"' EXIT

model() {  # NAME RESOURCES
    mkdir -p "$D/$1"
    { cat "$FIXTURE/config.yaml"; echo "resources: $2"; } >"$D/$1/config.yaml"
}
model devices "{devices: [/dev/zero, '/dev/null:/dev/n:r']}"
model cdi "{devices: [nvidia.com/gpu=all]}"
model count "{gpus: 2}"

# without --engine: every form is valid configuration
run "$MLWM" validate "$D"
expect_status 0
expect_stdout_contains "3 model configuration(s)"

run "$MLWM" validate --engine --docker-socket "$SOCK" "$D"
expect_status 1
case $ENGINE in
docker)
    expect_stderr_contains "$D/cdi/config.yaml: resources: CDI devices need Docker Engine 25 or later with CDI enabled (API 1.45); this engine is "
    expect_stderr_contains "this engine is Docker Engine 20.10"
    CHECKS=$((CHECKS + 1))
    [[ $ERR != *count/config.yaml* && $ERR != *devices/config.yaml* ]] || _fail "dockerd counts GPUs and takes host devices: $ERR"
    ;;
podman)
    expect_stderr_contains "$D/count/config.yaml: resources: this engine is Podman Engine"
    expect_stderr_contains "cannot count them: write resources.gpus: all or a list of GPU ids"
    CHECKS=$((CHECKS + 1))
    [[ $ERR != *cdi/config.yaml* && $ERR != *devices/config.yaml* ]] || _fail "Podman resolves CDI names and takes host devices: $ERR"
    ;;
esac
expect_stderr_contains "1 model(s) cannot run on the engine at $SOCK"

rm -rf "$D/cdi" "$D/count"
run "$MLWM" validate --engine --docker-socket "$SOCK" "$D"
expect_status 0
expect_stdout_contains "ok: the engine at $SOCK ("
expect_stdout_contains "can run every model"

# an engine that does not answer: one clear line, exit 1
run "$MLWM" validate --engine --docker-socket "$D/nothing.sock" "$D"
expect_status 1
expect_stderr_contains "$D/nothing.sock"
finish
