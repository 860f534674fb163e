#!/usr/bin/env bash
# The daemon with runner: {type: swarm} on the 3-node cluster of
# tests/services/swarm.sh: each run attempt is a replicated job running the
# mlwm image's `mlwm run` on a node (staging from S3, the model container on
# that node's engine, publishing); the daemon on the manager records, waits,
# reads the job's report, removes the job. Checked: every member published
# with the model's output, one model container start per run across the
# nodes (from every node's engine events), the model container with network
# none and a read-only input, no job left; a SIGKILL of the daemon while jobs
# run: the restarted daemon adopts them by name, nothing runs twice; the
# manager's engine stopped while jobs run on the workers: the daemon waits
# through it, nothing fails, nothing runs twice; a worker's link cut: after
# runner.node_grace the run completes on the other worker, one marker, the
# late attempt overwrites nothing; a worker's engine restarted mid-run: the
# run is retried and completes.
# Needs MLWM_TEST_SWARM_MANAGER, MLWM_TEST_SWARM_NODES, MLWM_TEST_SWARM_DIR,
# MLWM_TEST_MLWM_IMAGE_TAR (docker save of the mlwm image) and
# MLWM_TEST_MLWM_IMAGE (its name), MLWM_TEST_S3_ENDPOINT, AWS_*.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/integration
PORT=${MLWM_TEST_DAEMON_PORT:-19294}
W=$(mktemp -d /tmp/mlwm-swarm.XXXXXX)
MANAGER=${MLWM_TEST_SWARM_MANAGER:?}
export MLWM_TEST_DOCKER_SOCKET=$MANAGER
source "$HERE/daemon_lib.sh"
read -ra NODES <<<"${MLWM_TEST_SWARM_NODES:?}"
IMAGE=${MLWM_TEST_MLWM_IMAGE:?}
node() { local i=$1; shift; DOCKER_HOST=unix://${NODES[$i]} docker "$@"; }

# the mlwm image on every node (a cluster pulls it from its registry)
for i in "${!NODES[@]}"; do node "$i" load -q -i "${MLWM_TEST_MLWM_IMAGE_TAR:?}" >/dev/null; done
S3_PORT=${EP##*:}
NODE_EP=$("$ROOT/tests/services/swarm.sh" expose "${MLWM_TEST_SWARM_DIR:?}" "$S3_PORT")

clean_buckets
mkdir -p "$W/configurations"
write_config 1 6
cat >>"$W/mlwm.yaml" <<CONF
runner:
  type: swarm
  manager: $MANAGER
  image: $IMAGE
  node_socket: ${MLWM_TEST_SWARM_NODE_SOCKET:-/run/mlwm-node/docker.sock}
  node_work_dir: ${MLWM_TEST_SWARM_NODE_WORK:-/run/mlwm-node/work}
  node_endpoint: $NODE_EP
  placement: [node.role==worker]
  node_grace: PT5S
CONF
MODELS=(swarm-a swarm-b swarm-c)
for m in "${MODELS[@]}"; do write_model "$m" "sleep 4"; done
run "$MLWM" validate --config "$W/mlwm.yaml"
expect_status 0
# (the image is a tag here; a registry would give it a digest)
expect_stderr_contains "is a tag: the workers try to pull it"

T1=2023-11-07T00:00Z
since=$(date +%s)
start_daemon
upload_time "$T1"
published() { for m in "${MODELS[@]}"; do marker_exists "$m" "$T1" >/dev/null || return 1; done; }
# a model container, caught running on its node: its network and input mount
catch_model() {
    local i id
    for i in "${!NODES[@]}"; do
        id=$(node "$i" ps -q --filter label=org.mlwm.run-id | head -n 1)
        [ -n "$id" ] && node "$i" inspect -f '{{.HostConfig.NetworkMode}} {{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}' "$id" >"$W/model-inspect" && return 0
    done
    return 1
}
# the image was loaded, not pulled: no registry digest to pin it to (said once)
run grep -c '"event":"runner.image".*by tag: the manager has no registry digest' "$W/daemon.log"
expect_stdout "1"
CHECKS=$((CHECKS + 1))
wait_for 90 catch_model || _fail "a model container runs on a node"
run cat "$W/model-inspect"
expect_stdout_contains "none "
expect_stdout_contains "/volume/inputs/state.zarr:false"
# the daemon killed while the jobs run, then restarted: it adopts them
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
start_daemon
CHECKS=$((CHECKS + 1))
wait_for 120 published || _fail "all 3 runs are published"
run grep -c '"event":"run.adopted"' "$W/daemon.log"
CHECKS=$((CHECKS + 1))
[ "$OUT" -ge 1 ] || _fail "the restarted daemon adopted the running jobs ($OUT)"
for m in "${MODELS[@]}"; do
    id="$m/$(echo "$T1" | tr -d ':')/member0"
    CHECKS=$((CHECKS + 1))
    wait_for 30 state_is "$id" succeeded || _fail "$id succeeded in the ledger ($(ledger_state "$id"))"
done
# the output is the model's (a copy of the input)
aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$(key swarm-b "$T1")/" "$W/out1"
run diff -r "$W/in-$T1" "$W/out1"
expect_status 0
# one model container start per run, counted on every node's engine
starts=0
for i in "${!NODES[@]}"; do
    n=$(node "$i" events --since "$since" --until "$(date +%s.%N)" --filter type=container --filter event=start \
        --filter label=org.mlwm.run-id --format '{{index .Actor.Attributes "org.mlwm.run-id"}}' | sort | uniq -c |
        awk '{print $1}' | sort -n | tail -n 1)
    c=$(node "$i" events --since "$since" --until "$(date +%s.%N)" --filter type=container --filter event=start \
        --filter label=org.mlwm.run-id --format x | wc -l)
    echo "node $((i + 1)): $c model container start(s)"
    starts=$((starts + c))
    CHECKS=$((CHECKS + 1))
    [ "${n:-0}" -le 1 ] || _fail "no run started twice on node $((i + 1))"
done
CHECKS=$((CHECKS + 1))
[ "$starts" -eq 3 ] || _fail "3 model container starts across the nodes ($starts)"
# the manager's engine stopped while jobs run on the workers, started again
# after they ended: the daemon waits through it; nothing fails, nothing runs twice
T2=2023-11-07T06:00Z
since2=$(date +%s)
upload_time "$T2"
CHECKS=$((CHECKS + 1))
wait_for 90 catch_model || _fail "a model container of $T2 runs on a worker"
"$ROOT/tests/services/swarm.sh" stop-node "${MLWM_TEST_SWARM_DIR:?}" 1
models_running() {
    local i
    for i in "${!NODES[@]}"; do
        [ "${NODES[$i]}" = "$MANAGER" ] && continue
        [ -z "$(node "$i" ps -q --filter label=org.mlwm.run-id)" ] || return 0
    done
    return 1
}
models_done() { ! models_running; }
CHECKS=$((CHECKS + 1))
wait_for 60 models_done || _fail "the model containers end while the manager is down"
# (the daemon did ask meanwhile, and was not answered)
run metric 'mlwm_docker_requests_total\{operation="task_list",status="0"\}'
CHECKS=$((CHECKS + 1))
[ "${OUT:-0}" -gt 0 ] || _fail "the daemon's task listings failed during the outage ($OUT)"
"$ROOT/tests/services/swarm.sh" start-node "$MLWM_TEST_SWARM_DIR" 1 >/dev/null
published2() { for m in "${MODELS[@]}"; do marker_exists "$m" "$T2" >/dev/null || return 1; done; }
CHECKS=$((CHECKS + 1))
wait_for 120 published2 || _fail "all 3 runs of $T2 are published after the outage"
run grep -c "\"event\":\"run.failed\".*$(echo "$T2" | tr -d ':')" "$W/daemon.log"
expect_stdout "0"
starts2=0
for i in "${!NODES[@]}"; do
    starts2=$((starts2 + $(node "$i" events --since "$since2" --until "$(date +%s.%N)" --filter type=container \
        --filter event=start --filter label=org.mlwm.run-id --format x | wc -l)))
done
CHECKS=$((CHECKS + 1))
[ "$starts2" -eq 3 ] || _fail "3 model container starts for $T2 across the nodes ($starts2)"

# --- a worker's link cut while its model runs: the manager sees the node
# down; after runner.node_grace the daemon gives the job up and the run's
# next attempt runs on the other worker; the late attempt, back on the
# network, finds the marker and uploads nothing
for m in "${MODELS[@]}"; do
    write_model "$m" "hostname >/volume/outputs/forecast.zarr/signature && sleep 15" "max_attempts: 3
retry_delay: PT2S"
done
kill -HUP "$DPID"
CHECKS=$((CHECKS + 1))
wait_for 10 grep -q '"event":"config.reloaded"' "$W/daemon.log" || _fail "the models are reloaded"
# the node and run of a running model container, "INDEX RUN_ID", into $W/found
model_on_worker() {
    local i r
    for i in "${!NODES[@]}"; do
        [ "${NODES[$i]}" = "$MANAGER" ] && continue
        r=$(node "$i" ps --filter label=org.mlwm.run-id --format '{{.Label "org.mlwm.run-id"}}' | head -n 1)
        [ -n "$r" ] && echo "$i $r" >"$W/found" && return 0
    done
    return 1
}
T3=2023-11-07T12:00Z
since3=$(date +%s)
upload_time "$T3"
CHECKS=$((CHECKS + 1))
wait_for 90 model_on_worker || _fail "a model container of $T3 runs on a worker"
read -r CUT CUT_RUN <"$W/found"
CUT_MODEL=${CUT_RUN%%/*}
echo "cutting node $((CUT + 1))'s link while it runs $CUT_RUN"
"$ROOT/tests/services/swarm.sh" cut "$MLWM_TEST_SWARM_DIR" "$((CUT + 1))"
published3() { for m in "${MODELS[@]}"; do marker_exists "$m" "$T3" >/dev/null || return 1; done; }
CHECKS=$((CHECKS + 1))
wait_for 180 published3 || _fail "all 3 runs of $T3 are published while node $((CUT + 1)) is cut off"
CHECKS=$((CHECKS + 1))
grep -q "\"event\":\"run.failed\".*given up.*runner.node_grace" "$W/daemon.log" ||
    _fail "the daemon gave the lost node's job up"
aws_ s3 cp --only-show-errors "s3://mlwm-outputs/$(marker_key "$CUT_MODEL" "$T3")" "$W/marker3.json"
run /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$W/marker3.json"
CHECKS=$((CHECKS + 1))
case $OUT in *-a2) ;; *) _fail "the marker is the second attempt's ($OUT)" ;; esac
sig_key="$(key "$CUT_MODEL" "$T3")/signature"
aws_ s3 cp --only-show-errors "s3://mlwm-outputs/$sig_key" "$W/sig-before"
# the link back: the late attempt wakes up; it must not overwrite anything
"$ROOT/tests/services/swarm.sh" heal "$MLWM_TEST_SWARM_DIR" "$((CUT + 1))"
late_done() {
    [ -z "$(node "$CUT" ps -q --filter label=org.mlwm.run-id)" ] &&
        [ -z "$(node "$CUT" ps -q --filter label=com.docker.swarm.service.name)" ]
}
CHECKS=$((CHECKS + 1))
wait_for 120 late_done || _fail "the late attempt on node $((CUT + 1)) ends after the heal"
aws_ s3 cp --only-show-errors "s3://mlwm-outputs/$sig_key" "$W/sig-after"
aws_ s3 cp --only-show-errors "s3://mlwm-outputs/$(marker_key "$CUT_MODEL" "$T3")" "$W/marker3b.json"
run cmp "$W/marker3.json" "$W/marker3b.json"
expect_status 0
run cmp "$W/sig-before" "$W/sig-after"
expect_status 0
# the published signature is the container of the second attempt, on another node
other_starts=""
for i in "${!NODES[@]}"; do
    [ "$i" = "$CUT" ] && continue
    other_starts+=$(node "$i" events --since "$since3" --until "$(date +%s.%N)" --filter type=container --filter event=start \
        --filter "label=org.mlwm.run-id=$CUT_RUN" --format '{{.ID}} ')
done
CHECKS=$((CHECKS + 1))
case " $other_starts" in *" $(cat "$W/sig-after")"*) ;; *) _fail "the output is the second attempt's model's ($(cat "$W/sig-after") not in: $other_starts)" ;; esac
# (every failure of $T3 is a job given up; another run may have been on the node too)
run sh -c "grep '\"event\":\"run.failed\".*$(echo "$T3" | tr -d ':')' '$W/daemon.log' | grep -vc 'given up'"
expect_stdout "0"

# --- a worker's engine restarted while its model runs: the run is retried and completes
T4=2023-11-07T18:00Z
upload_time "$T4"
CHECKS=$((CHECKS + 1))
wait_for 90 model_on_worker || _fail "a model container of $T4 runs on a worker"
read -r RESTARTED RESTARTED_RUN <"$W/found"
echo "restarting node $((RESTARTED + 1))'s dockerd while it runs $RESTARTED_RUN"
"$ROOT/tests/services/swarm.sh" stop-node "$MLWM_TEST_SWARM_DIR" "$((RESTARTED + 1))"
"$ROOT/tests/services/swarm.sh" start-node "$MLWM_TEST_SWARM_DIR" "$((RESTARTED + 1))" >/dev/null
published4() { for m in "${MODELS[@]}"; do marker_exists "$m" "$T4" >/dev/null || return 1; done; }
CHECKS=$((CHECKS + 1))
wait_for 180 published4 || _fail "all 3 runs of $T4 are published after node $((RESTARTED + 1))'s restart"
CHECKS=$((CHECKS + 1))
wait_for 30 state_is "$RESTARTED_RUN" succeeded || _fail "$RESTARTED_RUN succeeded ($(ledger_state "$RESTARTED_RUN"))"
run ledger_row "$RESTARTED_RUN"
expect_stdout_contains '"attempt": 1'
# the model containers the engine's stop killed stay on the node, exited (no
# `mlwm run` is left to remove them; a later attempt of the same run on that
# node would): the test removes them
node "$RESTARTED" ps -aq --filter label=org.mlwm.managed=true --filter status=exited | xargs -r docker -H "unix://${NODES[$RESTARTED]}" rm >/dev/null

# --- mlwm cancel of a run whose job runs: the job is shut down (its `mlwm
# run` stops the model container) and removed; the run is cancelled, unpublished
T5=2023-11-08T00:00Z
upload_time "$T5"
CHECKS=$((CHECKS + 1))
wait_for 90 model_on_worker || _fail "a model container of $T5 runs on a worker"
read -r CANCEL_NODE CANCEL_RUN <"$W/found"
run "$MLWM" cancel --config "$W/mlwm.yaml" "${CANCEL_RUN%%/*}" "$T5" --member 0
expect_status 0
expect_stdout_contains "stopped and removed"
model_stopped() { [ -z "$(node "$CANCEL_NODE" ps -q --filter "label=org.mlwm.run-id=$CANCEL_RUN")" ]; }
CHECKS=$((CHECKS + 1))
model_stopped || _fail "the cancelled run's model container no longer runs"
CHECKS=$((CHECKS + 1))
wait_for 30 grep -q "\"event\":\"run.cancelled\".*\"run_id\":\"$CANCEL_RUN\"" "$W/daemon.log" ||
    _fail "the daemon records the cancellation"
published5() {
    for m in "${MODELS[@]}"; do
        [ "$m" = "${CANCEL_RUN%%/*}" ] || marker_exists "$m" "$T5" >/dev/null || return 1
    done
}
CHECKS=$((CHECKS + 1))
wait_for 90 published5 || _fail "the other runs of $T5 are published"
run state_is "$CANCEL_RUN" cancelled
expect_status 0
run marker_exists "${CANCEL_RUN%%/*}" "$T5"
expect_status 254

# --- 8 members x 1 GPU on 3 nodes x 2 GPUs, every node (no placement), no
# concurrency limit of the daemon's below 8: the swarm runs at most 6 at
# once, each model container gets exactly its task's GPU id. The model
# catches up the latest cycle only, uploaded before the daemon starts: the
# earlier cycles' inputs are there too, and their runs would take GPUs
# (CI once saw 3 at once of T6 while T5's members held the others)
# (docker.gpus: nvidia-env -> NVIDIA_VISIBLE_DEVICES; no NVIDIA runtime here)
stop_daemon
write_config 1 8
sed -i 's|^docker: {socket: \(.*\)}$|docker: {socket: \1, gpus: nvidia-env}|' "$W/mlwm.yaml"
cat >>"$W/mlwm.yaml" <<CONF
runner:
  type: swarm
  manager: $MANAGER
  image: $IMAGE
  node_socket: ${MLWM_TEST_SWARM_NODE_SOCKET:-/run/mlwm-node/docker.sock}
  node_work_dir: ${MLWM_TEST_SWARM_NODE_WORK:-/run/mlwm-node/work}
  node_endpoint: $NODE_EP
CONF
rm -rf "$W/configurations"/*
T6=2023-11-08T06:00Z
T6K=$(echo "$T6" | tr -d ':')
in_key=$(key harmonie_cy46 "$T6")
in_uri=${in_key/$T6K/\{analysis_time\}}
mkdir -p "$W/configurations/swarm-gpu"
cat >"$W/configurations/swarm-gpu/config.yaml" <<CONF
docker_image: mlwm-test/busybox:1
members: [0, 1, 2, 3, 4, 5, 6, 7]
resources: {gpus: 1}
catch_up: latest
inputs:
  state:
    uri: s3://mlwm-inputs/$in_uri
    internal_path: /volume/inputs/state.zarr
outputs:
  forecast:
    uri: s3://mlwm-outputs/swarm-gpu/{analysis_time}/member{member}/forecast.zarr
    internal_path: /volume/outputs/forecast.zarr
CONF
cat >>"$W/configurations/swarm-gpu/config.yaml" <<'CONF'
command: [sh, -c, "cp -R /volume/inputs/state.zarr/. /volume/outputs/forecast.zarr/ && echo \"$NVIDIA_VISIBLE_DEVICES $(hostname) $(cut -d' ' -f1 /proc/uptime)\" >/volume/outputs/forecast.zarr/gpu && sleep 6 && cut -d' ' -f1 /proc/uptime >>/volume/outputs/forecast.zarr/gpu"]
timeout: PT2M
CONF
run "$MLWM" validate --config "$W/mlwm.yaml"
expect_status 0
since6=$(date +%s)
upload_time "$T6"
start_daemon
published6() {
    local m
    for m in 0 1 2 3 4 5 6 7; do
        aws_ s3api head-object --bucket mlwm-outputs --key "swarm-gpu/$T6K/member$m/_mlwm_run.json" >/dev/null 2>&1 || return 1
    done
}
CHECKS=$((CHECKS + 1))
wait_for 180 published6 || _fail "the 8 GPU members of $T6 are published"
for m in 0 1 2 3 4 5 6 7; do
    aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/swarm-gpu/$T6K/member$m/forecast.zarr/" "$W/out6-$m"
    cp "$W/out6-$m/gpu" "$W/gpu$m"
    # the output is the model's: its copy of the input (and its GPU note)
    run diff -r -x gpu "$W/in-$T6" "$W/out6-$m"
    expect_status 0
done
# which node started each model container (every node's events)
for i in "${!NODES[@]}"; do
    node "$i" events --since "$since6" --until "$(date +%s.%N)" --filter type=container --filter event=start \
        --filter label=org.mlwm.run-id --format "{{.ID}} $((i + 1))"
done >"$W/gpu-starts"
run /usr/bin/python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
starts = dict(l.split() for l in open(f"{w}/gpu-starts"))
runs = []
for m in range(8):
    first, end = open(f"{w}/gpu{m}").read().split("\n")[:2]
    gpu, host, start = first.split()
    node = [n for c, n in starts.items() if c.startswith(host)]
    runs.append((gpu, node[0] if node else "?", float(start), float(end)))
problems = []
for gpu, node, s, e in runs:
    if "," in gpu or not gpu.startswith("GPU-n"):
        problems.append(f"member got {gpu!r}, not one GPU id")
    elif gpu[len("GPU-n"):].split("-")[0] != node:
        problems.append(f"{gpu} used on node {node}")
for i, (g1, _, s1, e1) in enumerate(runs):
    for g2, _, s2, e2 in runs[i + 1:]:
        if g1 == g2 and s1 < e2 and s2 < e1:
            problems.append(f"{g1} used by two runs at once")
peak = max(sum(1 for _, _, s, e in runs if s <= t < e) for _, _, t, _ in runs)
print(f"peak {peak} at once; GPUs used: {len({r[0] for r in runs})}; nodes: {sorted({r[1] for r in runs})}")
print("\n".join(problems) if problems else "no problems")
PY
expect_stdout_contains "no problems"
CHECKS=$((CHECKS + 1))
case $OUT in "peak 6 at once"* | "peak 5 at once"* | "peak 4 at once"*) ;; *) _fail "at most 6 members at once, several of them ($OUT)" ;; esac
echo "$OUT" | head -n 1

# the jobs are removed once their outcome is recorded (a given-up one when
# its node is back and its task ended: by the sweep, every minute)
no_jobs() { [ -z "$(docker_ service ls -q --filter label=org.mlwm.job=true)" ]; }
CHECKS=$((CHECKS + 1))
wait_for 150 no_jobs || _fail "no swarm job is left ($(docker_ service ls))"
# the configs of the models and host configuration this test changed are
# pruned once no job uses them: left are the current host configuration's
# and swarm-gpu's (and the credentials' secret)
configs_now() { docker_ config ls -q --filter label=org.mlwm.job=true | wc -l; }
CHECKS=$((CHECKS + 1))
wait_for 90 test "$(configs_now)" -eq 2 || _fail "2 swarm configs are left ($(docker_ config ls --format '{{.Name}}'))"
run sh -c "docker -H unix://$MANAGER secret ls -q --filter label=org.mlwm.job=true | wc -l"
expect_stdout "1"
stop_daemon
finish
