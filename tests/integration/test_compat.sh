#!/usr/bin/env bash
# Moving from the original Python mlwm: a configuration in its format (a
# model folder named like its surface-dummy-model_DINI, two inputs, an output
# model_config "FakeDINI+FakeIFS", integer-written numbers), its image built
# with `mlwm build-image`, run end to end against radosgw and dockerd with a
# container configured by environment like the original images (it fails
# on FORECAST_DURATION=PT0S, reads DATASTORE_INPUT_PATHS), cross-checked with
# the aws CLI and xarray; and `s3_credentials: pass`, whose secret must
# appear nowhere but in the container. Needs MLWM_TEST_S3_ENDPOINT,
# MLWM_TEST_DOCKER_SOCKET, MLWM_TEST_IMAGE and AWS_* (tests/integration/run.sh).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/mlwm-compat.XXXXXX)
PORT=${MLWM_TEST_COMPAT_PORT:-19391}
source "$(dirname "$0")/daemon_lib.sh"
PY=/usr/bin/python3
T=2023-10-01T12:00Z
SECRET=${AWS_SECRET_ACCESS_KEY:?}
FIXTURE=$ROOT/tests/fixtures/original-layout/surface-dummy-model_DINI

# the datasets' keys, as the original's producers write them (floats: w-10p0, dx2500p0m)
DINI_KEY=$("$MLWM" paths create --model-name harmonie --model-config dini --bbox=-10.0,50.0,10.0,60.0 \
    --resolution 2500.0,2500.0,m --analysis-time "$T" --data-kind pressure_levels)
IFS_KEY=$("$MLWM" paths create --model-name ifs --model-config FakeIFS --bbox=-10.0,50.0,10.0,60.0 \
    --resolution 0.1,0.1,deg --analysis-time "$T" --data-kind single_levels)
out_key() { "$MLWM" paths create --model-name "$1" --model-config FakeDINI+FakeIFS \
    --bbox=-10.0,50.0,10.0,60.0 --resolution 2.5,2.5,km --analysis-time "${2:-$T}" --data-kind pressure_levels; }
OUT_KEY=$(out_key gefion1)
CHECKS=$((CHECKS + 1))
[ "$DINI_KEY" = "harmonie/dini/w-10p0_s50p0_e10p0_n60p0/dx2500p0m_dy2500p0m/2023-10-01T1200Z/member0/pressure_levels.zarr" ] ||
    _fail "the input key as the original writes it: $DINI_KEY"

# the configurations: the original's format, and two variants of it
C=$W/configurations
mkdir -p "$C"
cp -r "$FIXTURE" "$C/"
variant() {  # NAME OUTPUT_MODEL_NAME EXTRA_YAML
    mkdir -p "$C/$1"
    sed "s/model_name: gefion1$/model_name: $2/" "$FIXTURE/config.yaml" >"$C/$1/config.yaml"
    printf '%s\n' "$3" >>"$C/$1/config.yaml"
}
variant surface-6h gefion1-6h "forecast_duration: PT6H"
variant s3-reader gefion1-s3 "network: host
s3_credentials: pass"
cat >"$W/mlwm.yaml" <<CONF
storage: {type: s3, endpoint: $EP}
docker: {socket: $SOCK}
work_dir: $W/work
configurations_dir: $C
state_dir: $W/state
http: {listen: "127.0.0.1:$PORT"}
daemon: {poll_interval: 1}
CONF
run "$MLWM" validate --config "$W/mlwm.yaml"
expect_status 0
expect_stdout_contains "3 model configuration(s)"
# an unknown placeholder in env is refused, naming the file, the variable and the known ones
mkdir -p "$W/bad/typo"
sed 's/{inputs.ifs_single_levels.path}/{inputs.ifs.path}/' "$FIXTURE/config.yaml" >"$W/bad/typo/config.yaml"
run "$MLWM" validate "$W/bad"
expect_status 1
expect_stderr_contains "typo/config.yaml"
expect_stderr_contains "env.DATASTORE_INPUT_PATHS: unknown placeholder {inputs.ifs.path}"
# s3_credentials: pass without a network is refused
mkdir -p "$W/bad2/nonet"
printf '%s\n' "s3_credentials: pass" | cat "$FIXTURE/config.yaml" - >"$W/bad2/nonet/config.yaml"
run "$MLWM" validate "$W/bad2"
expect_status 1
expect_stderr_contains "s3_credentials: 'pass' needs a network"

# the image, from the model folder named like the original's (lower-cased
# repository), BASE_IMAGE taken from the environment (--build-arg NAME)
run env BASE_IMAGE="${MLWM_TEST_IMAGE:?}" "$MLWM" build-image surface-dummy-model_DINI \
    --configurations "$C" --docker-socket "$SOCK" --build-arg BASE_IMAGE --tag compat --quiet
expect_status 0
run docker_ image inspect --format '{{index .Config.Labels "org.opencontainers.image.title"}}' \
    mlwm/surface-dummy-model_dini:compat
expect_status 0
expect_stdout "surface-dummy-model_DINI"

# the inputs, written by xarray, uploaded by aws
run "$PY" - "$W/dini.zarr" "$W/ifs.zarr" <<'PY'
import sys, numpy as np, pandas as pd, xarray as xr
rng = np.random.default_rng(11)
t = pd.date_range("2023-10-01T12:00", periods=2, freq="3h")
dini = xr.Dataset({"t": (("time", "level", "y", "x"), rng.normal(270, 9, (2, 3, 8, 8)).astype("float32"))},
                  coords={"time": t, "level": [500, 700, 850], "y": np.arange(8) * 2500.0, "x": np.arange(8) * 2500.0})
ifs = xr.Dataset({"u10": (("time", "lat", "lon"), rng.normal(0, 4, (2, 6, 6)))},
                 coords={"time": t, "lat": 50 + np.arange(6) * 0.1, "lon": -10 + np.arange(6) * 0.1})
dini.to_zarr(sys.argv[1], consolidated=True, mode="w")
ifs.to_zarr(sys.argv[2], consolidated=True, mode="w")
PY
expect_status 0
upload() {  # LOCAL KEY [TIME]
    aws_ s3 cp --recursive --only-show-errors "$1" "s3://mlwm-inputs/$2/"
}
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-outputs/" >/dev/null
run upload "$W/dini.zarr" "$DINI_KEY"
expect_status 0
run upload "$W/ifs.zarr" "$IFS_KEY"
expect_status 0

# the dry run: the keys the original's producers wrote, the environment expanded
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --dry-run --json
expect_status 0
expect_stdout_contains "\"location\": \"s3://mlwm-inputs/$DINI_KEY\""
expect_stdout_contains "\"location\": \"s3://mlwm-outputs/$OUT_KEY\""
expect_stdout_contains '"DATASTORE_INPUT_PATHS": "danra.dini_pressure_levels=/volume/inputs/dini/pressure_levels.zarr,ifs.ifs_single_levels=/volume/inputs/ifs/single_levels.zarr"'
expect_stdout_contains '"DINI_ROOT": "s3://harmonie-zarr/dini/control/2023-10-01T120000Z/"'
CHECKS=$((CHECKS + 1))
[[ $OUT != *FORECAST_DURATION\":\ \"PT0S* ]] || _fail "no FORECAST_DURATION=PT0S injected"
CHECKS=$((CHECKS + 1))
[[ $OUT != *"$SECRET"* ]] || _fail "the dry run shows no secret"

# the runs
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T"
expect_status 0
expect_stdout_contains "surface-dummy-model_DINI 0      succeeded"
expect_stdout_contains "surface-6h"
CHECKS=$((CHECKS + 1))
[[ "$OUT$ERR" != *"$SECRET"* ]] || _fail "mlwm run prints no secret"

# published under the key with '+', listed and read back by aws and xarray
run aws_ s3 ls "s3://mlwm-outputs/gefion1/FakeDINI+FakeIFS/"
expect_status 0
expect_stdout_contains "w-10p0_s50p0_e10p0_n60p0/"
run aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$OUT_KEY/" "$W/out.zarr"
expect_status 0
run "$PY" -c '
import sys, xarray as xr
a, b = xr.open_zarr(sys.argv[1]), xr.open_zarr(sys.argv[2])
xr.testing.assert_identical(a.load(), b.load())
print("identical", sorted(b.data_vars))' "$W/dini.zarr" "$W/out.zarr"
expect_status 0
expect_stdout "identical ['t']"
run cat "$W/out.zarr/mlwm_compat.txt"
expect_stdout_contains "FORECAST_DURATION=unset"
expect_stdout_contains "steps_hours=18"
expect_stdout_contains "DATASTORE_INPUT_PATHS=danra.dini_pressure_levels=/volume/inputs/dini/pressure_levels.zarr,ifs.ifs_single_levels=/volume/inputs/ifs/single_levels.zarr"
expect_stdout_contains "TIME_DIMENSIONS=time"
expect_stdout_contains "AWS_ACCESS_KEY_ID=unset"
run aws_ s3 cp "s3://mlwm-outputs/$(dirname "$OUT_KEY")/_mlwm_run.json" -
expect_status 0
expect_stdout_contains '"run_id": "surface-dummy-model_DINI/2023-10-01T1200Z/member0"'
# forecast_duration configured: injected as written
run aws_ s3 cp "s3://mlwm-outputs/$(out_key gefion1-6h)/mlwm_compat.txt" -
expect_stdout_contains "FORECAST_DURATION=PT6H"
expect_stdout_contains "steps_hours=6"
# s3_credentials: pass: the container got the host's S3 settings ...
run aws_ s3 cp "s3://mlwm-outputs/$(out_key gefion1-s3)/mlwm_compat.txt" -
expect_status 0
expect_stdout_contains "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
expect_stdout_contains "AWS_SECRET_ACCESS_KEY length=${#SECRET}"
expect_stdout_contains "AWS_ENDPOINT_URL=$EP"
# ... and the marker does not hold them
run aws_ s3 cp "s3://mlwm-outputs/$(dirname "$(out_key gefion1-s3)")/_mlwm_run.json" -
expect_status 0
CHECKS=$((CHECKS + 1))
[[ $OUT != *"$SECRET"* && $OUT != *AWS_* ]] || _fail "the run marker holds no credential"
# nor the image's configuration (they are given at run time only)
run docker_ image inspect mlwm/surface-dummy-model_dini:compat
CHECKS=$((CHECKS + 1))
[[ $OUT != *"$SECRET"* ]] || _fail "the image holds no secret"

# the daemon, for the next cycle: nothing in its log, /status or /metrics
T2=2023-10-01T18:00Z
upload "$W/dini.zarr" "${DINI_KEY/2023-10-01T1200Z/2023-10-01T1800Z}"
upload "$W/ifs.zarr" "${IFS_KEY/2023-10-01T1200Z/2023-10-01T1800Z}"
start_daemon
S3_MARKER="$(dirname "$(out_key gefion1-s3 "$T2")")/_mlwm_run.json"
CHECKS=$((CHECKS + 1))
wait_for 90 aws_ s3api head-object --bucket mlwm-outputs --key "$S3_MARKER" ||
    _fail "the daemon publishes the s3-reader's next cycle"
run curl -sf "http://127.0.0.1:$PORT/status"
expect_status 0
expect_stdout_contains "s3-reader/2023-10-01T1800Z/member0"
CHECKS=$((CHECKS + 1))
[[ $OUT != *"$SECRET"* ]] || _fail "/status shows no secret"
run curl -sf "http://127.0.0.1:$PORT/metrics"
CHECKS=$((CHECKS + 1))
[[ $OUT != *"$SECRET"* ]] || _fail "/metrics shows no secret"
run "$MLWM" daemon --config "$W/mlwm.yaml" --dry-run --listen 127.0.0.1:0
CHECKS=$((CHECKS + 1))
[[ "$OUT$ERR" != *"$SECRET"* ]] || _fail "the daemon's dry run shows no secret"
stop_daemon
CHECKS=$((CHECKS + 1))
grep -q '"event":"run.succeeded"' "$W/daemon.log" || _fail "the daemon's log holds its runs"
CHECKS=$((CHECKS + 1))
! grep -qF "$SECRET" "$W/daemon.log" || _fail "the daemon's log holds no secret"
# a failing run's error names the container's exit, not its environment (the
# image refuses a forecast_duration that is not PT<N>H, as the original's do)
variant s3-fails gefion1-fail "network: host
s3_credentials: pass
forecast_duration: P1D"
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model s3-fails --json
expect_status 1
expect_stdout_contains "the container ended with exit 1"
run cat "$W/work/2023-10-01T1200Z/member0/logs/s3-fails/stderr.log"
expect_stdout_contains "Cannot infer NUM_EVAL_STEPS from FORECAST_DURATION=P1D"
CHECKS=$((CHECKS + 1))
[[ "$OUT$ERR" != *"$SECRET"* ]] || _fail "a failed run's message holds no secret"
finish
