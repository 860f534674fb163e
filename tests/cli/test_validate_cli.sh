#!/usr/bin/env bash
# `mlwm validate` and the configuration errors of `mlwm run`, through the binary.
source "$(dirname "$0")/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D" "$_tmp"' EXIT

# the bundled configurations are valid
run "$MLWM" validate "$ROOT/configurations"
expect_status 0
expect_stdout_contains "3 model configuration(s)"
expect_stdout_contains "advection-cnn, neural-lam-dini, persistence"
CHECKS=$((CHECKS + 1))
[ -z "$ERR" ] || _fail "the bundled configurations and Containerfiles draw no warning or note"

# a broken model configuration: every problem, with file:line:column and key path
mkdir -p "$D/conf/good" "$D/conf/bad"
cp "$ROOT/configurations/persistence/config.yaml" "$D/conf/good/config.yaml"
sed -e 's/unit: km}/unit: miles}/' -e 's/mlwm\/persistence:latest/mlwm\/persistence/' \
    -e 's|internal_path: /volume/outputs/forecast.zarr|internal_path: /volume/inputs/state.zarr|' \
    "$ROOT/configurations/persistence/config.yaml" >"$D/conf/bad/config.yaml"
echo "colour: blue" >>"$D/conf/bad/config.yaml"
run "$MLWM" validate "$D/conf"
expect_status 1
expect_stderr_contains "$D/conf/bad/config.yaml:4:15: docker_image: image 'mlwm/persistence': no tag or digest"
expect_stderr_contains "bad/config.yaml:9:68: inputs.danra_state.uri_args.resolution.unit: unit 'miles' is not one of m, km, deg"
expect_stderr_contains "outputs.forecast.internal_path: '/volume/inputs/state.zarr' is also the mount path of inputs.danra_state"
expect_stderr_contains "colour: unknown key"
expect_stderr_contains "problem(s) found"
CHECKS=$((CHECKS + 1))
[[ $ERR != *good/config.yaml* ]] || _fail "only the broken file is named"

# a model's Containerfile: problems named with their line, credentials a warning,
# a configuration without one (the original's) only noted
mkdir -p "$D/cf/m"
cp "$ROOT/configurations/persistence/config.yaml" "$D/cf/m/"
printf 'ARG BASE\nFROM ${BASE}\nENV AWS_SECRET_ACCESS_KEY=x\nCOPY artifact/ /a\n' >"$D/cf/m/Containerfile"
run "$MLWM" validate "$D/cf"
expect_status 1
expect_stderr_contains "$D/cf/m/Containerfile:2:1: FROM: \${BASE}: ARG BASE has no default and config.yaml's build_args does not set it"
expect_stderr_contains "$D/cf/m/Containerfile:4:1: COPY: copies artifact/, which mlwm build-image fills from the inference artifact, but config.yaml sets no inference_artifact"
expect_stderr_contains "warning: $D/cf/m/Containerfile:3:1: ENV: ENV AWS_SECRET_ACCESS_KEY bakes S3 credentials into the image"
expect_stderr_contains "2 problem(s) found"
rm "$D/cf/m/Containerfile"
run "$MLWM" validate "$D/cf"
expect_status 0
expect_stderr_contains "note: $D/cf/m has no Containerfile: its image mlwm/persistence:latest is built elsewhere"

# a broken host configuration
printf 'storage: {type: gcs}\nconcurrency: {runs: many}\n' >"$D/mlwm.yaml"
run "$MLWM" validate --config "$D/mlwm.yaml" "$ROOT/configurations"
expect_status 1
expect_stderr_contains "$D/mlwm.yaml:1:17: storage.type: 'gcs' is not s3 or file"
expect_stderr_contains "$D/mlwm.yaml:2:21: concurrency.runs: expected an integer"

# mlwm run refuses to start on an invalid configuration (exit 2), names the problems
run "$MLWM" run --configurations "$D/conf" --analysis-time 2023-10-01T12:00Z --dry-run
expect_status 2
expect_stderr_contains "the configuration is not valid"
# a dry run of a valid one prints the plan and touches nothing
run "$MLWM" run --configurations "$ROOT/configurations" --analysis-time 2023-10-01T14:00+02:00 --model persistence --dry-run
expect_status 0
expect_stdout_contains "run persistence/2023-10-01T1200Z/member0"
expect_stdout_contains "s3://mlwm-inputs/harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/single_levels.zarr"
expect_stdout_contains "env     ANALYSIS_TIME=2023-10-01T12:00:00Z"
# in a swarm job: exactly the GPUs its task reserved (DOCKER_RESOURCE_<kind>), else the count
mkdir -p "$D/gpu/g"
sed '/^resources:/,$d' "$ROOT/configurations/persistence/config.yaml" >"$D/gpu/g/config.yaml"
printf 'resources:\n  gpus: 2\n' >>"$D/gpu/g/config.yaml"
run "$MLWM" run --configurations "$D/gpu" --analysis-time 2023-10-01T12:00Z --dry-run --json
expect_status 0
expect_stdout_contains '"gpus": 2,'
run env MLWM_SWARM_GPU_RESOURCE=NVIDIA-GPU DOCKER_RESOURCE_NVIDIA-GPU=GPU-n2-b,GPU-n2-a \
    "$MLWM" run --configurations "$D/gpu" --analysis-time 2023-10-01T12:00Z --dry-run --json
expect_stdout_contains '"gpus": [
      "GPU-n2-b",
      "GPU-n2-a"
    ],'
run "$MLWM" run --configurations "$ROOT/configurations" --analysis-time 2023-10-01T12:00Z --model nope --dry-run
expect_status 2
expect_stderr_contains "--model 'nope': no such model configuration (configured: advection-cnn, neural-lam-dini, persistence)"
run "$MLWM" run --configurations "$ROOT/configurations" --analysis-time 2023-10-01T12:00Z --member 3 --model persistence --dry-run
expect_status 2
expect_stderr_contains "does not run that member"
run "$MLWM" run --configurations "$ROOT/configurations" --model persistence
expect_status 2
expect_stderr_contains "missing required option --analysis-time"
finish
