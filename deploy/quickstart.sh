#!/usr/bin/env bash
# deploy/quickstart.sh -- the README's first command. On a fresh Debian 12
# machine: installs what mlwm needs, builds it, and runs one whole forecast
# cycle of the bundled persistence model on a sample analysis:
#   - a file:// store (no S3 needed) seeded with a sample analysis time,
#   - the Docker Engine at DOCKER_HOST or /var/run/docker.sock, or else a
#     private dockerd started for the run (and stopped afterwards),
#   - the persistence image built from configurations/persistence,
#   - mlwm validate, mlwm run, and the published result,
#   - mlwm daemon picking up the next analysis time by itself.
# Everything it writes is under MLWM_QUICKSTART_DIR (default /var/tmp/mlwm-quickstart).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${MLWM_QUICKSTART_DIR:-/var/tmp/mlwm-quickstart}
TIME=2023-10-01T12:00Z
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "dependencies and build"
tests/install-deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${MLWM_JOBS:-2}" --target mlwm
MLWM=$ROOT/build/daemon/mlwm
mkdir -p "$DIR"

say "container engine"
private_engine=0
if [ -n "${DOCKER_HOST:-}" ]; then
    SOCK=${DOCKER_HOST#unix://}
elif curl -s --max-time 3 --unix-socket /var/run/docker.sock http://d/_ping 2>/dev/null | grep -qx OK; then
    SOCK=/var/run/docker.sock
else
    tests/services/dockerd.sh start "$DIR/engine" >/dev/null
    SOCK=$DIR/engine/docker.sock
    private_engine=1
    trap 'tests/services/dockerd.sh stop "$DIR/engine"' EXIT
fi
echo "using the engine at unix://$SOCK$([ $private_engine = 1 ] && echo ' (a private dockerd, stopped at the end)')"
export DOCKER_HOST=unix://$SOCK

say "the persistence model's image"
deploy/base-image.sh mlwm/busybox-base:1
"$MLWM" build-image persistence --docker-socket "$SOCK" --quiet

say "a file:// store with a sample analysis for $TIME"
STORE=$DIR/store
rm -rf "$STORE" "$DIR/work" "$DIR/state"
key=$("$MLWM" paths create --model-name harmonie_cy46 --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time "$TIME" --data-kind single_levels)
python3 deploy/example/make_sample_zarr.py "$STORE/mlwm-inputs/$key" 2023-10-01T12:00:00Z
cat >"$DIR/mlwm.yaml" <<CONF
storage: {type: file, root: $STORE}
docker: {socket: $SOCK}
work_dir: $DIR/work
configurations_dir: $ROOT/configurations
state_dir: $DIR/state
log: {format: text}
http: {listen: 127.0.0.1:${MLWM_QUICKSTART_PORT:-19187}}
daemon: {poll_interval: 2}
CONF
show "$MLWM" ls --recursive "file://$STORE/mlwm-inputs"

say "validate, plan, run"
show "$MLWM" validate --config "$DIR/mlwm.yaml"
show "$MLWM" run --config "$DIR/mlwm.yaml" --analysis-time "$TIME" --model persistence --dry-run
show "$MLWM" run --config "$DIR/mlwm.yaml" --analysis-time "$TIME" --model persistence

say "the published forecast"
out=$("$MLWM" paths create --model-name persistence --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time "$TIME" --data-kind single_levels)
show "$MLWM" ls --recursive "file://$STORE/mlwm-outputs"
show cat "$STORE/mlwm-outputs/${out%/*}/_mlwm_run.json"
diff -r "$STORE/mlwm-inputs/$key" "$STORE/mlwm-outputs/$out" >/dev/null && echo "the forecast store equals the analysis store (persistence)"

say "running it again: already done"
show "$MLWM" run --config "$DIR/mlwm.yaml" --analysis-time "$TIME" --model persistence

say "the daemon: a new analysis time arrives and is detected, run and published"
"$MLWM" daemon --config "$DIR/mlwm.yaml" --log-format text >"$DIR/daemon.log" 2>&1 &
daemon_pid=$!
trap 'kill -TERM $daemon_pid 2>/dev/null || true; [ $private_engine = 1 ] && tests/services/dockerd.sh stop "$DIR/engine"' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:${MLWM_QUICKSTART_PORT:-19187}/readyz" >/dev/null && break; sleep 0.2; done
key2=$("$MLWM" paths create --model-name harmonie_cy46 --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time 2023-10-01T18:00Z --data-kind single_levels)
echo "writing a sample analysis for 2023-10-01T18:00Z to the store"
python3 deploy/example/make_sample_zarr.py "$STORE/mlwm-inputs/$key2" 2023-10-01T18:00:00Z
for _ in $(seq 150); do grep -q "run.succeeded" "$DIR/daemon.log" && break; sleep 0.2; done
cat "$DIR/daemon.log"
show "$MLWM" status --config "$DIR/mlwm.yaml"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || true
grep -q "run.succeeded" "$DIR/daemon.log" && echo "the daemon published the 18 UTC forecast"
