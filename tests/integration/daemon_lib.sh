# Helpers shared by the daemon's integration tests (sourced after cli/lib.sh).
# Needs MLWM, ROOT, W (a scratch folder) and PORT set; MLWM_TEST_S3_ENDPOINT,
# MLWM_TEST_DOCKER_SOCKET and AWS_* in the environment.
EP=${MLWM_TEST_S3_ENDPOINT:?}
SOCK=${MLWM_TEST_DOCKER_SOCKET:?}
aws_() { /usr/bin/aws --endpoint-url "$EP" "$@"; }
# empty test buckets: start-after skips analysis times older than the newest seen
clean_buckets() {
    aws_ s3 rm --recursive --only-show-errors "s3://mlwm-inputs/harmonie_cy46/" >/dev/null
    aws_ s3 rm --recursive --only-show-errors "s3://mlwm-outputs/" >/dev/null
}
docker_() { DOCKER_HOST=unix://$SOCK docker "$@"; }
DPID=
stop_daemon() { [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; }
trap 'stop_daemon; [ "$FAILED" -eq 0 ] || { echo "--- daemon log (tail)" >&2; tail -n 40 "$W/daemon.log" >&2; }; rm -rf "$W" "$_tmp"' EXIT
wait_for() {  # DEADLINE_SECONDS CMD...: until CMD succeeds
    local deadline=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 0.2; done
}
# the key of a dataset of the test layout: MODEL_NAME TIME
key() { "$MLWM" paths create --model-name "$1" --model-config danra --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km --analysis-time "$2" --data-kind single_levels; }
upload_time() {  # TIME [--no-marker]: a sample analysis, written with its .zmetadata last
    local k; k=$(key harmonie_cy46 "$1")
    /usr/bin/python3 "$ROOT/deploy/example/make_sample_zarr.py" "$W/in-$1" "$1"
    aws_ s3 cp --recursive --only-show-errors --exclude .zmetadata "$W/in-$1" "s3://mlwm-inputs/$k/"
    [ "${2:-}" = --no-marker ] || aws_ s3 cp --only-show-errors "$W/in-$1/.zmetadata" "s3://mlwm-inputs/$k/.zmetadata"
}
marker_key() { echo "$(dirname "$(key "$1" "$2")")/_mlwm_run.json"; }  # MODEL_NAME TIME
marker_exists() { aws_ s3api head-object --bucket mlwm-outputs --key "$(marker_key "$1" "$2")"; }
start_daemon() {  # [ENV=VALUE...]: started in the background, ready within 30 s
    env "$@" "$MLWM" daemon --config "$W/mlwm.yaml" >>"$W/daemon.log" 2>&1 &
    DPID=$!
    wait_for 30 curl -sf "http://127.0.0.1:$PORT/readyz" || _fail "the daemon becomes ready"
}
write_config() {  # POLL_SECONDS RUNS
    cat >"$W/mlwm.yaml" <<CONF
storage: {type: s3, endpoint: $EP}
docker: {socket: $SOCK}
work_dir: $W/work
configurations_dir: $W/configurations
state_dir: $W/state
http: {listen: 127.0.0.1:$PORT}
daemon: {poll_interval: $1}
concurrency: {runs: $2}
CONF
}
# A test model reading the sample analysis: copies it to its output, then
# runs COMMAND_TAIL (e.g. "sleep 4"). NAME [COMMAND_TAIL [EXTRA_YAML]]
write_model() {
    mkdir -p "$W/configurations/$1"
    cat >"$W/configurations/$1/config.yaml" <<CONF
docker_image: mlwm-test/busybox:1
inputs:
  danra_state:
    uri_args:
      bbox: {lon_min: 12.5, lat_min: 45.65, lon_max: 24.52, lat_max: 64.40}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: single_levels
      model_name: harmonie_cy46
      model_config: danra
      bucket_name: mlwm-inputs
    internal_path: /volume/inputs/state.zarr
outputs:
  forecast:
    uri_args:
      bbox: {lon_min: 12.5, lat_min: 45.65, lon_max: 24.52, lat_max: 64.40}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: single_levels
      model_name: $1
      model_config: danra
      bucket_name: mlwm-outputs
    internal_path: /volume/outputs/forecast.zarr
command: [sh, -c, "cp -R /volume/inputs/state.zarr/. /volume/outputs/forecast.zarr/ && ${2:-true}"]
timeout: PT2M
${3:-}
CONF
}
# the ledger's row of a run, as JSON (the daemon may be down)
ledger_row() {
    /usr/bin/python3 - "$W/state/ledger.sqlite3" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
r = db.execute("SELECT * FROM runs WHERE run_id = ?", (sys.argv[2],)).fetchone()
h = [dict(x) for x in db.execute("SELECT from_state, to_state, message FROM transitions WHERE run_id = ? ORDER BY id", (sys.argv[2],))]
print(json.dumps({**dict(r), "history": h} if r else {}))
PY
}
state_is() { [ "$(ledger_state "$1")" = "$2" ]; }  # RUN_ID STATE
ledger_state() { ledger_row "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))'; }
# containers the engine created for a run since a unix time
creates_since() {  # SINCE RUN_ID
    docker_ events --since "$1" --until "$(date +%s.%N)" --filter type=container --filter event=create \
        --filter "label=org.mlwm.run-id=$2" --format '{{.ID}}' | wc -l
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | grep -E "^$1" | awk '{print $2}'; }
