#!/usr/bin/env bash
# End to end, real everything: a zarr dataset written by xarray, uploaded by
# the aws CLI to the test S3 server at the layout key; `mlwm run` with the
# persistence model on the test dockerd; the outputs downloaded by the aws CLI
# open with xarray and equal the input; the run marker; a second run is
# "already done"; and the failure cases. Needs MLWM_TEST_S3_ENDPOINT,
# MLWM_TEST_DOCKER_SOCKET, AWS_* (set by tests/integration/run.sh).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EP=${MLWM_TEST_S3_ENDPOINT:?}
SOCK=${MLWM_TEST_DOCKER_SOCKET:?}
PY=/usr/bin/python3
aws_() { /usr/bin/aws --endpoint-url "$EP" "$@"; }
W=$(mktemp -d /tmp/mlwm-e2e.XXXXXX)
trap 'rm -rf "$W" "$_tmp"' EXIT
T=2023-10-01T12:00Z
layout() {  # MODEL_NAME DATA_KIND -> key
    "$MLWM" paths create --model-name "$1" --model-config danra --bbox 12.5,45.65,24.52,64.40 \
        --resolution 2.5,2.5,km --analysis-time "$T" --data-kind "$2"
}
IN_KEY=$(layout harmonie_cy46 single_levels)
OUT_KEY=$(layout persistence single_levels)

# the input, written by xarray, uploaded by aws
run "$PY" - "$W/input.zarr" <<'PY'
import sys, numpy as np, pandas as pd, xarray as xr
rng = np.random.default_rng(7)
ds = xr.Dataset(
    {"t2m": (("time", "y", "x"), rng.normal(283.0, 5.0, (2, 30, 40)).astype("float32"), {"units": "K"}),
     "msl": (("time", "y", "x"), rng.normal(101300.0, 800.0, (2, 30, 40)), {"units": "Pa"})},
    coords={"time": pd.date_range("2023-10-01T12:00", periods=2, freq="3h"),
            "y": np.arange(30) * 2500.0, "x": np.arange(40) * 2500.0},
    attrs={"source": "mlwm end-to-end test"})
chunks = {"chunks": (1, 15, 20)}  # several chunk objects per variable
ds.to_zarr(sys.argv[1], consolidated=True, mode="w", encoding={"t2m": chunks, "msl": chunks})
PY
expect_status 0
run aws_ s3 cp --recursive --only-show-errors "$W/input.zarr" "s3://mlwm-inputs/$IN_KEY/"
expect_status 0

# configurations: persistence and the failing test models
mkdir -p "$W/configurations"
ln -s "$ROOT/configurations/persistence" "$W/configurations/persistence"
for f in "$ROOT"/tests/fixtures/run-configurations/*/; do ln -s "$f" "$W/configurations/$(basename "$f")"; done
cat >"$W/mlwm.yaml" <<CONF
storage: {type: s3, endpoint: $EP}
docker: {socket: $SOCK}
work_dir: $W/work
configurations_dir: $W/configurations
state_dir: $W/state
keep_failed_runs: 10
CONF
run "$MLWM" validate --config "$W/mlwm.yaml"
expect_status 0
expect_stdout_contains "5 model configuration(s)"

# the persistence image, on the test base image
run "$MLWM" build-image persistence --configurations "$ROOT/configurations" --docker-socket "$SOCK" \
    --build-arg BASE_IMAGE=mlwm-test/busybox:1 --quiet
expect_status 0

# the dry run touches nothing
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model persistence --dry-run --json
expect_status 0
expect_stdout_contains "\"location\": \"s3://mlwm-inputs/$IN_KEY\""
expect_stdout_contains "\"ANALYSIS_TIME\": \"2023-10-01T12:00:00Z\""
CHECKS=$((CHECKS + 1))
[ ! -e "$W/work" ] || _fail "a dry run creates no work folder"

# the run
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model persistence
expect_status 0
expect_stdout_contains "persistence          0      succeeded"
run aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$OUT_KEY/" "$W/output.zarr"
expect_status 0
run "$PY" -c '
import sys, xarray as xr
a, b = xr.open_zarr(sys.argv[1]), xr.open_zarr(sys.argv[2])
xr.testing.assert_identical(a.load(), b.load())
print("identical", sorted(b.data_vars))' "$W/input.zarr" "$W/output.zarr"
expect_status 0
expect_stdout "identical ['msl', 't2m']"
run aws_ s3 cp "s3://mlwm-outputs/${OUT_KEY%/*}/_mlwm_run.json" "$W/marker.json"
expect_status 0
run "$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["run_id"], m["member"], m["analysis_time"], m["exit_code"], m["outputs"]["forecast"]["objects"] > 0, m["image_id"].startswith("sha256:"), "mlwm_version" in m)' "$W/marker.json"
expect_stdout "persistence/2023-10-01T1200Z/member0 0 2023-10-01T12:00:00Z 0 True True True"
CHECKS=$((CHECKS + 1))
[ ! -e "$W/work/2023-10-01T1200Z/member0/input/persistence" ] || _fail "the work folders of a succeeded run are removed"

# again: already done, nothing repeated
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model persistence --json
expect_status 0
expect_stdout_contains '"status": "already done"'

count_outputs() { aws_ s3api list-objects-v2 --bucket mlwm-outputs --prefix "fixture_$1/" --query 'length(Contents || `[]`)' --output text; }

# failures: input missing
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model missing-input
expect_status 1
expect_stdout_contains "inputs missing"
expect_stdout_contains "pressure_levels.zarr/.zmetadata"
run count_outputs missing_input
expect_stdout "0"

# the container exits 1: failed, logs kept, nothing uploaded
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model exits-1
expect_status 1
expect_stdout_contains "exits-1              0      failed"
expect_stdout_contains "exit 1"
LOGS=$W/work/2023-10-01T1200Z/member0/logs/exits-1
run cat "$LOGS/stdout.log"
expect_stdout "about to fail
 00 00"
run cat "$LOGS/stderr.log"
expect_stdout "the model broke"
run count_outputs exits_1
expect_stdout "0"

# past its timeout: killed, failed
start=$(date +%s)
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model outlives-timeout
expect_status 1
expect_stdout_contains "timed out"
CHECKS=$((CHECKS + 1))
[ $(($(date +%s) - start)) -lt 30 ] || _fail "the timed-out container is killed promptly"
run count_outputs outlives_timeout
expect_stdout "0"
run env DOCKER_HOST="unix://$SOCK" docker ps -aq --filter label=org.mlwm.run-id=outlives-timeout/2023-10-01T1200Z/member0
expect_stdout ""

# an empty output folder: failed
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --model empty-output
expect_status 1
expect_stdout_contains "output forecast is empty"
run count_outputs empty_output
expect_stdout "0"

# all models at once: the table has every run, the exit status is 1
run "$MLWM" run --config "$W/mlwm.yaml" --analysis-time "$T" --json
expect_status 1
run "$PY" -c 'import json,sys; print(sorted((r["model"], r["status"]) for r in json.load(sys.stdin)))' <<<"$OUT"
expect_stdout "[('empty-output', 'failed'), ('exits-1', 'failed'), ('missing-input', 'inputs missing'), ('outlives-timeout', 'timed out'), ('persistence', 'already done')]"

aws_ s3 rm --recursive --only-show-errors "s3://mlwm-inputs/harmonie_cy46/" >/dev/null
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-outputs/" >/dev/null
finish
