#!/usr/bin/env bash
# Chaos drill: `mlwm daemon` SIGKILLed at random moments while it works, with
# both CPUs busy, then checked against its promise (exactly once per run).
#
# 24 runs (12 analysis times x 2 models; containers sleep 1-3 s, then copy
# their input and sign it with their container id), concurrency 4, polls every
# second, catch-up all. The analysis times land one every few seconds while
# the daemon is killed MLWM_CHAOS_KILLS times (default 50) and restarted at
# once (tests/integration/chaos_killer.py): half the kills at random
# intervals of 0.2-2.2 s, half aimed 0-250 ms after an event of a run (a model
# container's `die` from the engine, or the daemon logging the start of a
# publication). The timing comes from a seeded generator: MLWM_CHAOS_SEED
# replays a run (the seed is printed).
#
# Then, per run: exactly one container start (the engine's events, by the
# run-id label), its marker, its outputs byte-identical to its input plus the
# signature of that one container, the ledger row `succeeded`; and no
# container left behind.
#
# With MLWM_CHAOS_SWARM=1 the same drill runs with runner: swarm on the
# cluster of tests/services/swarm.sh (MLWM_TEST_SWARM_*, MLWM_TEST_MLWM_IMAGE[_TAR]):
# each attempt is a job on a node, the starts are counted on every node's
# engine, and the second kind of aimed kill follows the end of a job.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${MLWM_TEST_DAEMON_PORT:-19291}
W=$(mktemp -d /tmp/mlwm-chaos.XXXXXX)
SWARM=${MLWM_CHAOS_SWARM:-}
[ -z "$SWARM" ] || export MLWM_TEST_DOCKER_SOCKET=${MLWM_TEST_SWARM_MANAGER:?}
source "$(dirname "$0")/daemon_lib.sh"
# the engines the model containers run on
if [ -n "$SWARM" ]; then read -ra ENGINES <<<"${MLWM_TEST_SWARM_NODES:?}"; else ENGINES=("$SOCK"); fi
engines() { local s; for s in "${ENGINES[@]}"; do DOCKER_HOST=unix://$s docker "$@"; done; }

SEED=${MLWM_CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
KILLS=${MLWM_CHAOS_KILLS:-50}
echo "chaos seed: $SEED (MLWM_CHAOS_SEED=$SEED replays this run), $KILLS kills"

LOADPIDS=()
cleanup_chaos() {
    for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null; done
    LOADPIDS=()
}
# the last daemon was started by the killer (not a child of this shell)
stop_daemon() {
    [ -n "$DPID" ] || return 0
    kill -TERM "$DPID" 2>/dev/null
    gone() { ! kill -0 "$DPID" 2>/dev/null; }
    wait_for 30 gone || kill -KILL "$DPID" 2>/dev/null
    DPID=
}
trap 'cleanup_chaos; stop_daemon; [ "$FAILED" -eq 0 ] || { echo "--- daemon log (tail)" >&2; tail -n 60 "$W/daemon.log" >&2; }; rm -rf "$W" "$_tmp"' EXIT

clean_buckets
mkdir -p "$W/configurations"
write_config 1 4
if [ -n "$SWARM" ]; then
    for s in "${ENGINES[@]}"; do DOCKER_HOST=unix://$s docker load -q -i "${MLWM_TEST_MLWM_IMAGE_TAR:?}" >/dev/null; done
    cat >>"$W/mlwm.yaml" <<CONF
runner:
  type: swarm
  manager: $SOCK
  image: ${MLWM_TEST_MLWM_IMAGE:?}
  node_socket: ${MLWM_TEST_SWARM_NODE_SOCKET:-/run/mlwm-node/docker.sock}
  node_work_dir: ${MLWM_TEST_SWARM_NODE_WORK:-/run/mlwm-node/work}
  node_endpoint: $("$ROOT/tests/services/swarm.sh" expose "${MLWM_TEST_SWARM_DIR:?}" "${EP##*:}")
CONF
fi
# sleep 1-3 s, then copy the input, then sign the output with the container's id
model_cmd='sleep $((RANDOM % 3 + 1)) && cp -R /volume/inputs/state.zarr/. /volume/outputs/forecast.zarr/ && echo "$MLWM_RUN_ID $HOSTNAME" > /volume/outputs/forecast.zarr/written_by'
for m in chaos_a chaos_b; do
    write_model "$m" "" "catch_up: all
max_attempts: 10
retry_delay: PT1S"
    sed -i "s|^command: .*|command: [sh, -c, '${model_cmd//&/\\&}']|" "$W/configurations/$m/config.yaml"
done
run "$MLWM" validate --config "$W/mlwm.yaml"
expect_status 0

TIMES=()
for h in $(seq 0 11); do TIMES+=("$(printf '2023-12-01T%02d:00Z' $((h * 2)))"); done
for t in "${TIMES[@]}"; do /usr/bin/python3 "$ROOT/deploy/example/make_sample_zarr.py" "$W/in-$t" "$t"; done

# the producer: analysis time number $1, its .zmetadata last
cat >"$W/produce.sh" <<SH
#!/usr/bin/env bash
t=\$(sed -n "\$((\$1 + 1))p" "$W/times")
[ -n "\$t" ] || exit 0
k=\$("$MLWM" paths create --model-name harmonie_cy46 --model-config danra --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km --analysis-time "\$t" --data-kind single_levels)
/usr/bin/aws --endpoint-url "$EP" s3 cp --recursive --only-show-errors --exclude .zmetadata "$W/in-\$t" "s3://mlwm-inputs/\$k/"
/usr/bin/aws --endpoint-url "$EP" s3 cp --only-show-errors "$W/in-\$t/.zmetadata" "s3://mlwm-inputs/\$k/.zmetadata"
SH
chmod +x "$W/produce.sh"
printf '%s\n' "${TIMES[@]}" >"$W/times"

# both CPUs busy for the whole drill
for _ in 1 2; do yes >/dev/null & LOADPIDS+=($!); done
since=$(date +%s)
# a new analysis time every 4 kills, so that work is in flight while the
# daemon is killed
sockets=()
for s in "${ENGINES[@]}"; do sockets+=(--docker-socket "$s"); done
/usr/bin/python3 "$ROOT/tests/integration/chaos_killer.py" --seed "$SEED" --kills "$KILLS" \
    --log "$W/daemon.log" "${sockets[@]}" ${SWARM:+--swarm} --produce-every 4 --producer "$W/produce.sh" \
    -- "$MLWM" daemon --config "$W/mlwm.yaml" >"$W/killer.out"
head -n 2 "$W/killer.out"
DPID=$(tail -n 1 "$W/killer.out")
# the times the drill did not reach
produced=$(sed -n 's/^producer steps started: //p' "$W/killer.out")
for ((i = produced; i < ${#TIMES[@]}; i++)); do "$W/produce.sh" "$i"; done
wait_for 60 curl -sf "http://127.0.0.1:$PORT/readyz" || _fail "the daemon becomes ready after the last kill"

ids=()
for t in "${TIMES[@]}"; do
    for m in chaos_a chaos_b; do ids+=("$m/$(echo "$t" | tr -d ':')/member0"); done
done
all_published() {
    for t in "${TIMES[@]}"; do for m in chaos_a chaos_b; do marker_exists "$m" "$t" || return 1; done; done
}
all_succeeded() { for id in "${ids[@]}"; do state_is "$id" succeeded || return 1; done; }
CHECKS=$((CHECKS + 1))
wait_for 300 all_published || _fail "every run is published"
CHECKS=$((CHECKS + 1))
wait_for 60 all_succeeded || _fail "every ledger row is succeeded"
# containers a kill left (e.g. a create in flight) are swept within a minute
# (this drill's: a swarm's nodes may hold other tests' containers)
chaos_containers() { engines ps -a --filter label=org.mlwm.managed=true --format '{{.ID}} {{.Label "org.mlwm.run-id"}}' | grep ' chaos_' || true; }
no_containers() { [ -z "$(chaos_containers)" ]; }
wait_for 90 no_containers || true
no_jobs() { [ -z "$SWARM" ] || [ -z "$(docker_ service ls -q --filter label=org.mlwm.job=true)" ]; }
CHECKS=$((CHECKS + 1))
wait_for 90 no_jobs || _fail "no swarm job is left ($(docker_ service ls))"
stop_daemon
cleanup_chaos

# what the engine saw: container starts per run
until=$(date +%s.%N)
engines events --since "$since" --until "$until" --filter type=container --filter event=start \
    --filter label=org.mlwm.managed=true \
    --format '{{index .Actor.Attributes "org.mlwm.run-id"}} {{.ID}}' >"$W/starts"
aws_ s3 sync --only-show-errors "s3://mlwm-outputs/" "$W/out/"
aws_ s3 sync --only-show-errors "s3://mlwm-inputs/" "$W/in/"
not_once=0
for t in "${TIMES[@]}"; do
    for m in chaos_a chaos_b; do
        id="$m/$(echo "$t" | tr -d ':')/member0"
        n=$(grep -c "^$id " "$W/starts")
        CHECKS=$((CHECKS + 1))
        [ "$n" -eq 1 ] || { not_once=$((not_once + 1)); _fail "$id: one container start ($n; $(grep "^$id " "$W/starts" | cut -c1-80 | tr '\n' ' '))"; }
        container=$(grep "^$id " "$W/starts" | head -n 1 | cut -d' ' -f2)
        k_in=$(key harmonie_cy46 "$t") k_out=$(key "$m" "$t")
        CHECKS=$((CHECKS + 1))
        [ "$(cat "$W/out/$k_out/written_by" 2>/dev/null)" = "$id ${container:0:12}" ] ||
            _fail "$id: its output was written by its one container (${container:0:12}): '$(cat "$W/out/$k_out/written_by" 2>/dev/null)'"
        CHECKS=$((CHECKS + 1))
        diff -r -x written_by "$W/in/$k_in" "$W/out/$k_out" >/dev/null ||
            _fail "$id: its outputs are byte-identical to what its container copied"
        run sh -c "/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"run_id\"])' '$W/out/$(marker_key "$m" "$t")'"
        expect_stdout "$id"
        run ledger_state "$id"
        expect_stdout succeeded
    done
done
run chaos_containers
expect_stdout_empty
echo "runs not started exactly once: $not_once of ${#ids[@]}; container starts: $(wc -l <"$W/starts")"
run grep -c '"event":"run.adopted"' "$W/daemon.log"
echo "adoptions: $OUT; daemon starts: $(grep -c '"event":"daemon.starting' "$W/daemon.log")"
clean_buckets
[ "$FAILED" -eq 0 ] || echo "chaos seed: $SEED" >&2
finish
