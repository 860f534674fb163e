#!/usr/bin/env bash
# tests/bench/swarm_submit.sh [BUILD_DIR] [MEMBERS] -- submission of runs to a
# Docker Swarm: 5 models x MEMBERS members (default 40: 200 runs) become
# ready at once (one analysis time); measured: the time from "all inputs
# ready" (the input's .zmetadata written) to "all runs started" (the last job
# created on the manager, from the services' CreatedAt), and the daemon's
# CPU per run over that time, against the cluster's floor: the same number
# of jobs created by a bare loop of `docker service create` on the manager.
# The jobs' placement cannot be met (node.labels.mlwm-bench==never): they
# stay pending, so the swarm's own scheduling and 200 containers on this
# machine's cores do not blur the submission path. Starts and stops its own
# Ceph radosgw and 3-node swarm (tests/services/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
MEMBERS=${2:-40}
MODELS=5
RUNS=$((MODELS * MEMBERS))
PORT=${MLWM_BENCH_PORT:-19398}
S3_PORT=${MLWM_BENCH_S3_PORT:-7790}
WORK=$(mktemp -d /tmp/mlwm-bench-swarm.XXXXXX)
DPID=
cleanup() {
    [ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null || true
    "$ROOT/tests/services/swarm.sh" stop "$WORK/swarm" >/dev/null 2>&1 || true
    "$ROOT/tests/services/s3server.sh" stop "$WORK/s3" >/dev/null 2>&1 || true
    rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
S3_BUCKETS="mlwm-inputs mlwm-outputs" "$ROOT/tests/services/s3server.sh" start "$WORK/s3" "$S3_PORT" >"$WORK/s3.out" 2>&1 ||
    { cat "$WORK/s3.out" >&2; exit 1; }
set -a
. "$WORK/s3/s3.env"
set +a
"$ROOT/tests/services/swarm.sh" start "$WORK/swarm" >/dev/null
MANAGER=$(. "$WORK/swarm/env" && echo "$MLWM_TEST_SWARM_MANAGER")
mgr() { DOCKER_HOST=unix://$MANAGER docker "$@"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(uname -r)"
echo "swarm: 3 nodes, Docker $(mgr version -f '{{.Server.Version}}'); $RUNS runs ($MODELS models x $MEMBERS members)"

mkdir -p "$WORK/configurations" "$WORK/state"
members=$(seq -s, 0 $((MEMBERS - 1)))
for m in $(seq 1 $MODELS); do
    mkdir -p "$WORK/configurations/bench$m"
    cat >"$WORK/configurations/bench$m/config.yaml" <<CONF
docker_image: mlwm-test/busybox:1
members: [$members]
catch_up: all
inputs:
  state: {uri: 's3://mlwm-inputs/bench/{analysis_time}/state.zarr', internal_path: /in}
outputs:
  out: {uri: 's3://mlwm-outputs/bench$m/{analysis_time}/member{member}/out.zarr', internal_path: /out}
command: [cp, -R, /in/., /out/]
CONF
done
cat >"$WORK/mlwm.yaml" <<CONF
storage: {type: s3, endpoint: $S3_ENDPOINT}
work_dir: $WORK/work
configurations_dir: $WORK/configurations
state_dir: $WORK/state
http: {listen: 127.0.0.1:$PORT}
daemon: {poll_interval: 1}
concurrency: {runs: $RUNS}
runner:
  type: swarm
  manager: $MANAGER
  image: mlwm/mlwm:bench
  placement: [node.labels.mlwm-bench==never]
CONF
"$BUILD/daemon/mlwm" daemon --config "$WORK/mlwm.yaml" >"$WORK/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { tail "$WORK/daemon.log" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
TICK=$(getconf CLK_TCK)
jobs_created() { mgr service ls -q --filter "label=$1" | wc -l; }
last_created() {  # the newest CreatedAt of the services labelled $1, in epoch seconds
    mgr service ls -q --filter "label=$1" | xargs docker -H "unix://$MANAGER" service inspect -f '{{.CreatedAt}}' |
        /usr/bin/python3 -c 'import sys, datetime
print(max(datetime.datetime.fromisoformat(l.strip()[:26].rstrip("Z").replace(" ", "T")).replace(tzinfo=datetime.timezone.utc).timestamp() for l in sys.stdin if l.strip()))'
}
wait_jobs() {  # LABEL: until RUNS jobs exist (120 s at most)
    local deadline=$(($(date +%s) + 120))
    until [ "$(jobs_created "$1")" -ge "$RUNS" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "only $(jobs_created "$1") of $RUNS jobs within 120 s" >&2; tail -n 5 "$WORK/daemon.log" >&2; exit 1; }
        sleep 0.2
    done
}

# --- mlwm: the input of one analysis time arrives; every run becomes ready
/usr/bin/python3 "$ROOT/deploy/example/make_sample_zarr.py" "$WORK/in" 2023-12-01T00:00Z
aws() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
aws s3 cp --recursive --only-show-errors --exclude .zmetadata "$WORK/in" s3://mlwm-inputs/bench/2023-12-01T0000Z/state.zarr/
cpu0=$(cpu "$DPID")
aws s3 cp --only-show-errors "$WORK/in/.zmetadata" s3://mlwm-inputs/bench/2023-12-01T0000Z/state.zarr/.zmetadata
ready=$(date +%s.%N)
wait_jobs org.mlwm.job=true
cpu1=$(cpu "$DPID")
mlwm_last=$(last_created org.mlwm.job=true)
# then the daemon waits for the jobs (each attempt lists its job's tasks:
# every second in the first minute, then every 5 s)
sleep 10
cpu2=$(cpu "$DPID")
sleep 55
cpu3=$(cpu "$DPID")
sleep 20
cpu4=$(cpu "$DPID")
wait1_ms=$(echo "($cpu2 - $cpu1) * 1000 / $TICK / 10 / $RUNS" | bc -l)
wait2_ms=$(echo "($cpu4 - $cpu3) * 1000 / $TICK / 20 / $RUNS" | bc -l)
kill -TERM "$DPID"
wait "$DPID" || true
DPID=
mlwm_s=$(echo "$mlwm_last - $ready" | bc -l)
cpu_ms=$(echo "($cpu1 - $cpu0) * 1000 / $TICK / $RUNS" | bc -l)
mgr service ls -q --filter label=org.mlwm.job=true | xargs -r -n 50 docker -H "unix://$MANAGER" service rm >/dev/null

# --- the floor: the same number of jobs by a bare loop of docker service create
start=$(date +%s.%N)
for i in $(seq 1 "$RUNS"); do
    mgr service create -d -q --no-resolve-image --name "floor-$i" --mode replicated-job \
        --restart-condition none --constraint node.labels.mlwm-bench==never \
        --label org.mlwm.bench=floor mlwm/mlwm:bench run >/dev/null
done
floor_last=$(last_created org.mlwm.bench=floor)
floor_s=$(echo "$floor_last - $start" | bc -l)
mgr service ls -q --filter label=org.mlwm.bench=floor | xargs -r -n 50 docker -H "unix://$MANAGER" service rm >/dev/null

printf 'all inputs ready -> all %d runs started: mlwm %.2f s, floor (docker service create loop) %.2f s, ratio %.2f\n' \
    "$RUNS" "$mlwm_s" "$floor_s" "$(echo "$mlwm_s / $floor_s" | bc -l)"
printf 'daemon CPU per run: %.2f ms to submit (target < 5 ms); ratio target <= 1.2\n' "$cpu_ms"
printf 'daemon CPU while the %d jobs wait: %.3f ms per second per job in their first minute, %.3f ms after\n' \
    "$RUNS" "$wait1_ms" "$wait2_ms"
