#!/usr/bin/env bash
# A real neural network end to end, as a model team walks it (README: "A real
# model, end to end"): configurations/advection-cnn trained on CPU by its
# train/train.py (PyTorch from Debian) -> `mlwm build-artifact`, uploaded to
# s3://mlwm-artifacts on radosgw -> its base image made offline
# (deploy/debian-image.sh, the root cached in /var/cache/mlwm-tests) ->
# `mlwm build-image` (the artifact downloaded and verified) -> the daemon runs
# it for analysis times uploaded by the aws CLI -> the forecasts, read back with
# xarray, have the expected lead times, shape and attributes, equal what the
# same checkpoint computes outside the container on the same input (1e-5), and
# beat persistence. The model container: network none, read-only input,
# memory limit. Prints the timing figures (build, sizes, per-run phases).
# Needs MLWM_TEST_S3_ENDPOINT, MLWM_TEST_DOCKER_SOCKET, AWS_*; root (mmdebstrap).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/integration
PORT=${MLWM_TEST_DAEMON_PORT:-19293}
W=$(mktemp -d /tmp/mlwm-model.XXXXXX)
source "$HERE/daemon_lib.sh"
CACHE=${MLWM_TEST_CACHE:-/var/cache/mlwm-tests}
MODEL=$ROOT/configurations/advection-cnn
PY=/usr/bin/python3
export DOCKER_HOST=unix://$SOCK AWS_ENDPOINT_URL=$EP
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
now() { date +%s.%N; }

# --- train (on the host, as on a training machine)
t=$(now)
run "$PY" "$MODEL/train/train.py" "$W/train"
expect_status 0
echo "training: $(secs "$t" "$(now)") s; $(printf '%s\n' "$OUT" | grep '^trained')"
expect_stdout_contains "27265 parameters"
# the network learnt the dynamics: far better than persistence at 6 h
rmse=$(printf '%s\n' "$OUT" | sed -n 's/.*6 h RMSE \([0-9.]*\) K (persistence \([0-9.]*\) K).*/\1 \2/p')
CHECKS=$((CHECKS + 1))
awk -v r="$rmse" 'BEGIN { split(r, a, " "); exit !(a[1] > 0 && a[1] < a[2] / 5) }' ||
    _fail "6 h RMSE of the network below a fifth of persistence's ($rmse)"

# --- the inference artifact, uploaded to radosgw
aws_ s3 mb s3://mlwm-artifacts >/dev/null 2>&1 || true
run sh -c "cd '$W/train' && '$MLWM' build-artifact advection-cnn --nl_config config.yaml --checkpoint last.ckpt \
    --cli_training_args_filepath training_cli_args.yaml --output '$W/artifact'"
expect_status 0
expect_stderr_contains "uploaded to s3://mlwm-artifacts/inference-artifacts/advection-cnn.zip"
ZIP_SHA=$(sha256sum "$W/artifact/advection-cnn.zip" | cut -d' ' -f1)
echo "artifact: $(stat -c %s "$W/artifact/advection-cnn.zip") bytes, sha256 $ZIP_SHA"

# --- the base image (Debian 12 + python3-torch, xarray, zarr) and the model's image
t=$(now)
run "$ROOT/deploy/debian-image.sh" mlwm/python-torch:bookworm python3-torch python3-xarray python3-zarr \
    python3-yaml --cache "$CACHE"
expect_status 0
echo "base image: $OUT ($(secs "$t" "$(now)") s)"
mkdir -p "$W/configurations"
cp -r "$MODEL" "$W/configurations/"
t=$(now)
run "$MLWM" build-image advection-cnn --configurations "$W/configurations" --docker-socket "$SOCK" --quiet
expect_status 0
expect_stderr_contains "inference artifact s3://mlwm-artifacts/inference-artifacts/advection-cnn.zip: 22 files verified, unpacked"
size=$(docker image inspect -f '{{.Size}}' mlwm/advection-cnn:latest)
echo "model image: mlwm build-image $(secs "$t" "$(now)") s, $((size / 1048576)) MiB"
run docker image inspect -f '{{index .Config.Labels "org.mlwm.inference-artifact.sha256"}}' mlwm/advection-cnn:latest
expect_stdout "$ZIP_SHA"
# the training script stays out of the image
run docker run --rm --network none --entrypoint /bin/sh mlwm/advection-cnn:latest -c \
    'ls /opt/advection-cnn; ls /opt/advection-cnn/train 2>&1'
expect_stdout_contains "artifact
forecast.py
model.py"
expect_stdout_contains "No such file"

# --- the daemon runs it for new analysis times
aws_ s3 rm --recursive --only-show-errors s3://mlwm-inputs/synthetic/ >/dev/null
aws_ s3 rm --recursive --only-show-errors s3://mlwm-outputs/advection-cnn/ >/dev/null
rm -rf "$W/configurations/advection-cnn/train"  # (a host keeps the configuration only)
write_config 1 2
start_daemon
TIMES=(2023-10-01T12:00Z 2023-10-01T18:00Z)
run "$PY" "$MODEL/train/make_inputs.py" "$W/inputs" "${TIMES[@]}" --mlwm "$MLWM"
expect_status 0
KEYS=$OUT
# the model container, caught while it runs: its network, input mount, memory
inspect_running() {
    local id
    id=$(docker ps -q --filter "label=org.mlwm.run-id=advection-cnn/2023-10-01T1200Z/member0" | head -n 1)
    [ -n "$id" ] && docker inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.Memory}} {{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}' "$id" >"$W/inspect" 2>/dev/null
}
(until inspect_running; do sleep 0.05; done) &
INSPECTOR=$!
aws_ s3 cp --recursive --only-show-errors "$W/inputs" s3://mlwm-inputs/
marker_of() { echo "advection-cnn/advection/w5p0_s52p0_e15p0_n58p0/dx2p5km_dy2p5km/$(echo "$1" | tr -d ':')/member0/_mlwm_run.json"; }
both_published() {
    for T in "${TIMES[@]}"; do aws_ s3api head-object --bucket mlwm-outputs --key "$(marker_of "$T")" >/dev/null 2>&1 || return 1; done
}
CHECKS=$((CHECKS + 1))
wait_for 180 both_published || _fail "both analysis times are run and published"
kill "$INSPECTOR" 2>/dev/null; wait "$INSPECTOR" 2>/dev/null
run cat "$W/inspect"
expect_stdout_contains "none $((2 * 1024 * 1024 * 1024)) "
expect_stdout_contains "/volume/inputs/analysis.zarr:false"
expect_stdout_contains "/volume/outputs/forecast.zarr:true"

# --- the forecasts, read back: lead times, shape, attributes, and the same
# numbers as the checkpoint computes outside the container
for T in "${TIMES[@]}"; do
    k=$(printf '%s\n' "$KEYS" | grep "$(echo "$T" | tr -d ':')")
    out=${k/synthetic\/advection/advection-cnn\/advection}
    aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$out/" "$W/fc-$T.zarr"
    run "$PY" - "$W/fc-$T.zarr" "$W/inputs/$k" "$W/artifact/advection-cnn.zip" "$MODEL" "$T" "$ZIP_SHA" <<'PY'
import sys, tempfile, zipfile
import numpy as np, xarray as xr
fc_path, in_path, zip_path, model_dir, t, zip_sha = sys.argv[1:]
sys.path.insert(0, model_dir)
import model
fc = xr.open_zarr(fc_path)
a = fc.attrs
assert fc["t2m"].dims == ("time", "lead_time", "y", "x"), fc["t2m"].dims
assert fc["t2m"].shape == (1, 6, 40, 56), fc["t2m"].shape
hours = (fc["lead_time"].values / np.timedelta64(1, "h")).tolist()
assert hours == [1, 2, 3, 4, 5, 6], hours
assert str(fc["time"].values[0])[:16] == t[:16], fc["time"].values
assert (fc["valid_time"].values[0] == fc["time"].values[0] + fc["lead_time"].values).all()
assert a["inference_artifact"] == "s3://mlwm-artifacts/inference-artifacts/advection-cnn.zip", a
assert a["inference_artifact_sha256"] == zip_sha, a["inference_artifact_sha256"]
assert a["artifact_name"] == "advection-cnn" and a["Conventions"] == "CF-1.8"
# outside the container: the same weights and statistics from the zip, the same input
with tempfile.TemporaryDirectory() as d:
    zipfile.ZipFile(zip_path).extractall(d)
    net, ckpt = model.load_checkpoint(d + "/checkpoint.pkl")
    st = xr.open_zarr(d + "/stats/advection.datastore.stats.zarr")
    stats = {k: float(st[f"state__train__{k}"].sel(state_feature="t2m")) for k in ("mean", "std", "diff_mean", "diff_std")}
    x0 = xr.open_zarr(in_path)["t2m"].values[0]
    ref = model.forecast(net, stats, x0, 6)
got = fc["t2m"].values[0]
diff = float(np.abs(got - ref).max())
np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
print(f"identical within 1e-5 (max |diff| {diff:.2e} K)",
      f"compute {a['timing_compute_s']} s, imports {a['timing_imports_s']} s, load {a['timing_load_s']} s,",
      f"process start {a['timing_process_start']}, first output {a['timing_first_output']}")
PY
    expect_status 0
    expect_stdout_contains "identical within 1e-5"
    echo "forecast $T: $OUT"
done

# --- per-run timing, from the daemon's log (run.state events) and the forecast's attributes
run "$PY" - "$W/daemon.log" "$W/fc-${TIMES[0]}.zarr" "$W/fc-${TIMES[1]}.zarr" <<'PY'
import json, sys, datetime as dt
import xarray as xr
ts = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
runs = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") in ("run.state", "run.succeeded") and "advection-cnn" in e.get("run_id", ""):
        phase = "succeeded" if e["event"] == "run.succeeded" else e["msg"].split(" ")[0]
        runs.setdefault(e["run_id"], {}).setdefault(phase, ts(e["ts"]))
for (rid, p), fc in zip(sorted(runs.items()), sys.argv[2:]):
    a = xr.open_zarr(fc).attrs
    container = p["publishing"] - p["running"]
    to_first = ts(a["timing_first_output"]) - p["running"]
    compute = a["timing_compute_s"]
    print(f"{rid}: staging {p['launching'] - p['staging']:.2f} s, container {container:.2f} s, "
          f"publishing {p['succeeded'] - p['publishing']:.2f} s; container start to first output "
          f"{to_first:.2f} s against {compute:.3f} s of the model's compute "
          f"(python imports {a['timing_imports_s']} s, loading {a['timing_load_s']} s)")
PY
expect_status 0
printf '%s\n' "$OUT"
CHECKS=$((CHECKS + 1))
[ "$(printf '%s\n' "$OUT" | grep -c 'container start to first output')" -eq 2 ] || _fail "timings for both runs"
stop_daemon
finish
