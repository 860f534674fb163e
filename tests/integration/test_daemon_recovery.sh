#!/usr/bin/env bash
# `mlwm daemon` killed and restarted, against the test S3 server and dockerd.
# For each failpoint (staging, launching, running, publishing) the daemon
# SIGKILLs itself at that step of a run; the restarted daemon must end the run
# `succeeded` exactly once: one container ever created for it (counted through
# the engine's events), one marker, complete outputs; with the container still
# running at the restart, it is adopted. Then: an operator's cancel and rerun,
# late alerts that fire while a run is still running (and for expected cycles
# that never came), a producer without a marker (quiet period), and S3 unreachable for a minute (readyz not ready,
# polling resumes, the run in flight is published), and a cycle that lands
# after a newer one (found within the lookback); the ledger locked by another
# process (writes fail for a while: nothing lost, the daemon goes on);
# stray containers (left by a kill) removed, other containers kept.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${MLWM_TEST_DAEMON_PORT:-19288}
W=$(mktemp -d /tmp/mlwm-recovery.XXXXXX)
source "$(dirname "$0")/daemon_lib.sh"

clean_buckets
mkdir -p "$W/configurations"
write_config 1 4
write_model crash "sleep 4"
objects() { aws_ s3 ls --recursive "s3://$1/$2/" | grep -vc '_mlwm_run.json$'; }  # BUCKET PREFIX

# --- SIGKILL at each step, then a restart
section_crash() {
declare -A expect_state=([staging]=staging [launching]=running [running]=running [publishing]=publishing)
hour=0
for fp in staging launching running publishing; do
    t=$(printf '2023-11-05T%02d:00Z' $hour); hour=$((hour + 6))
    id="crash/$(echo "$t" | tr -d ':')/member0"
    since=$(date +%s)
    start_daemon MLWM_FAILPOINTS=$fp
    upload_time "$t"
    # the daemon kills itself at the failpoint
    killed() { ! kill -0 "$DPID" 2>/dev/null; }
    CHECKS=$((CHECKS + 1))
    wait_for 60 killed || _fail "$fp: the daemon reaches the failpoint"
    wait "$DPID" 2>/dev/null; status=$?; DPID=
    CHECKS=$((CHECKS + 1))
    [ "$status" -eq 137 ] || _fail "$fp: the daemon died of SIGKILL (status $status)"
    run ledger_state "$id"
    expect_stdout "${expect_state[$fp]}"
    running_at_restart=$(docker_ ps -q --filter "label=org.mlwm.run-id=$id" | wc -l)
    start_daemon
    CHECKS=$((CHECKS + 1))
    wait_for 60 marker_exists crash "$t" || _fail "$fp: the run is published after the restart"
    wait_for 10 state_is "$id" succeeded
    run ledger_state "$id"
    expect_stdout succeeded
    run creates_since "$since" "$id"
    expect_stdout 1
    run grep -c "\"event\":\"run.succeeded\".*\"run_id\":\"$id\"" "$W/daemon.log"
    expect_stdout 1
    run sh -c "aws_() { /usr/bin/aws --endpoint-url $EP \"\$@\"; }; aws_ s3 cp --quiet s3://mlwm-outputs/$(marker_key crash "$t") - | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"run_id\"])'"
    expect_stdout "$id"
    k_in=$(key harmonie_cy46 "$t"); k_out=$(key crash "$t")
    CHECKS=$((CHECKS + 1))
    [ "$(objects mlwm-outputs "$k_out")" -eq "$(objects mlwm-inputs "$k_in")" ] ||
        _fail "$fp: the outputs are complete ($(objects mlwm-outputs "$k_out") of $(objects mlwm-inputs "$k_in") objects)"
    run docker_ ps -aq --filter "label=org.mlwm.run-id=$id"
    expect_stdout_empty
    if [ "$fp" = running ] || [ "$fp" = launching ]; then
        # the container outlived the daemon (or was created by it) and was adopted, not replaced
        run grep -c "\"event\":\"run.adopted\".*\"run_id\":\"$id\"" "$W/daemon.log"
        expect_stdout 1
    fi
    if [ "$fp" = running ]; then
        CHECKS=$((CHECKS + 1))
        [ "$running_at_restart" -eq 1 ] || _fail "running: the container still ran at the restart"
    fi
    stop_daemon
done
}

# --- cancel a running run, then rerun it
container_running() { [ "$(docker_ ps -q --filter "label=org.mlwm.run-id=$id" | wc -l)" -eq 1 ]; }
section_cancel() {
write_model crash "sleep 300"
t=2023-11-06T00:00Z; id=crash/2023-11-06T0000Z/member0
start_daemon
upload_time "$t"
CHECKS=$((CHECKS + 1))
wait_for 60 container_running || _fail "the long run starts"
run "$MLWM" cancel crash "$t" --config "$W/mlwm.yaml"
expect_status 0
expect_stdout_contains "$id: cancelled (was running); container"
gone() { [ "$(docker_ ps -aq --filter "label=org.mlwm.run-id=$id" | wc -l)" -eq 0 ]; }
CHECKS=$((CHECKS + 1))
wait_for 30 gone || _fail "the cancelled run's container is stopped and removed"
run grep -c "\"event\":\"run.cancelled\".*\"run_id\":\"$id\"" "$W/daemon.log"
expect_stdout 1
run ledger_state "$id"
expect_stdout cancelled
run marker_exists crash "$t"
expect_status 254  # not published
run "$MLWM" cancel crash "$t" --config "$W/mlwm.yaml"
expect_stdout "$id: already cancelled; nothing to cancel"
run "$MLWM" rerun nosuch "$t" --config "$W/mlwm.yaml"
expect_status 2
expect_stderr_contains "no model 'nosuch' in $W/configurations (configured: crash)"
# rerun: it runs again (quickly now) and is published; a rerun of a published run forces it
write_model crash "true"
kill -HUP "$DPID"
wait_for 10 grep -q '"event":"config.reloaded"' "$W/daemon.log"
run "$MLWM" rerun crash "$t" --config "$W/mlwm.yaml"
expect_status 0
expect_stdout "$id: scheduled again (was cancelled); runs at the daemon's next poll, even if published"
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash "$t" || _fail "the rerun is published"
first=$(aws_ s3api head-object --bucket mlwm-outputs --key "$(marker_key crash "$t")" --query ETag --output text)
sleep_past_second=$(date +%s); while [ "$(date +%s)" -eq "$sleep_past_second" ]; do sleep 0.1; done
wait_for 10 state_is "$id" succeeded
run "$MLWM" rerun crash "$t" --config "$W/mlwm.yaml"
expect_stdout "$id: scheduled again (was succeeded); runs at the daemon's next poll, even if published"
republished() { [ "$(grep -c "\"event\":\"run.succeeded\".*\"run_id\":\"$id\"" "$W/daemon.log")" -eq 2 ]; }
CHECKS=$((CHECKS + 1))
wait_for 60 republished || _fail "a published run is run again on rerun"
second=$(aws_ s3api head-object --bucket mlwm-outputs --key "$(marker_key crash "$t")" --query ETag --output text)
CHECKS=$((CHECKS + 1))
[ "$first" != "$second" ] || _fail "the rerun rewrote the marker"
stop_daemon
}

# --- late alerts fire when the deadline passes, while the run still runs;
# --- a producer without a marker is complete after its quiet period
section_late() {
t=$(date -u +%Y-%m-%dT%H:%MZ)
t_epoch=$(date -u -d "${t%Z}" +%s)
write_model crash "sleep 10" "deadlines: {arrival: 1, completion: 86400}"
write_model quiet "true" ""
sed -i 's|    internal_path: /volume/inputs/state.zarr|    internal_path: /volume/inputs/state.zarr\n    quiet_period: PT3S|' "$W/configurations/quiet/config.yaml"
# a model whose inputs never appear: its expected cycles (every 6 h) in the
# lookback (1 day) are late at their arrival deadline
write_model cycled "true" "cycle: PT6H
deadlines: {arrival: 1}"
sed -i 's|model_name: harmonie_cy46|model_name: nowhere|' "$W/configurations/cycled/config.yaml"
start_daemon
upload_time "$t" --no-marker
id=crash/$(echo "$t" | tr -d ':')/member0
qid=quiet/$(echo "$t" | tr -d ':')/member0
CHECKS=$((CHECKS + 1))
wait_for 30 grep -q "\"event\":\"late.arrival\".*\"run_id\":\"$id\"" "$W/daemon.log" ||
    _fail "late.arrival fires while the inputs are incomplete"
CHECKS=$((CHECKS + 1))
wait_for 30 marker_exists quiet "$t" || _fail "the input without a marker is complete after its quiet period"
run ledger_state "$id"
expect_stdout waiting_inputs  # the marker-based model still waits
aws_ s3 cp --only-show-errors "$W/in-$t/.zmetadata" "s3://mlwm-inputs/$(key harmonie_cy46 "$t")/.zmetadata"
CHECKS=$((CHECKS + 1))
wait_for 30 container_running || _fail "the late run starts"
# while its container runs (10 s), the completion deadline moves to 2 s from now
write_model crash "sleep 10" "deadlines: {arrival: 1, completion: $(($(date +%s) - t_epoch + 2))}"
kill -HUP "$DPID"
CHECKS=$((CHECKS + 1))
wait_for 30 grep -q "\"event\":\"late.completion\".*\"run_id\":\"$id\"" "$W/daemon.log" ||
    _fail "late.completion fires"
run ledger_state "$id"
expect_stdout running  # fired when the deadline passed, not when the run ends
run metric 'mlwm_late_runs_total\{kind="completion",model="crash"\}'
expect_stdout 1
run metric 'mlwm_late_runs_total\{kind="arrival",model="crash"\}'
expect_stdout 1
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash "$t" || _fail "the late run is still published"
run grep -c "\"event\":\"late\.[a-z]*\".*\"run_id\":\"$id\"" "$W/daemon.log"
expect_stdout 2  # once each
run grep -c "\"event\":\"late\.[a-z]*\".*\"run_id\":\"$qid\"" "$W/daemon.log"
expect_stdout 0  # no deadlines configured
cycled_late() { [ "$(metric 'mlwm_late_runs_total\{kind="arrival",model="cycled"\}')" = 4 ]; }
CHECKS=$((CHECKS + 1))
wait_for 20 cycled_late || _fail "the 4 expected cycles of the last day that never came are late ($(metric 'mlwm_late_runs_total\{kind="arrival",model="cycled"\}'))"
curl -s "http://127.0.0.1:$PORT/metrics" >"$W/metrics.txt"
run promtool check metrics <"$W/metrics.txt"
expect_status 0
run grep -E '^mlwm_docker_requests_total\{operation="container_create",status="201"\} [1-9]' "$W/metrics.txt"
expect_status 0
run grep -E '^mlwm_s3_requests_total\{operation="ListObjectsV2",status="200"\} [1-9]' "$W/metrics.txt"
expect_status 0
run grep -E '^mlwm_s3_bytes_total\{direction="upload"\} [1-9]' "$W/metrics.txt"
expect_status 0
stop_daemon
rm -rf "$W/configurations/quiet" "$W/configurations/cycled"
}

# --- S3 unreachable for a minute: not ready, still alive; the run in flight is published
section_outage() {
RGW=${MLWM_TEST_S3_RGW_PID:?}
write_model crash "sleep 3" "retry_delay: PT2S"
t=2023-11-07T00:00Z; id=crash/2023-11-07T0000Z/member0
start_daemon
upload_time "$t"
CHECKS=$((CHECKS + 1))
wait_for 60 container_running || _fail "the run starts before the outage"
kill -STOP "$RGW"
outage=$(date +%s)
not_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 503 ]; }
CHECKS=$((CHECKS + 1))
wait_for 30 not_ready || _fail "/readyz is not ready while S3 does not answer"
run curl -s "http://127.0.0.1:$PORT/readyz"
expect_stdout_contains "poll: no successful poll for"
run curl -s "http://127.0.0.1:$PORT/livez"
expect_stdout_contains "ok"
while [ $(($(date +%s) - outage)) -lt 60 ]; do
    kill -0 "$DPID" || break
    sleep 1
done
kill -CONT "$RGW"
run kill -0 "$DPID"
expect_status 0  # survived the outage
ready() { curl -sf "http://127.0.0.1:$PORT/readyz"; }
CHECKS=$((CHECKS + 1))
wait_for 120 ready || _fail "/readyz is ready again after the outage"
CHECKS=$((CHECKS + 1))
wait_for 120 marker_exists crash "$t" || _fail "the run in flight during the outage is published"
# a new analysis time after the outage: polling resumed
upload_time 2023-11-07T06:00Z
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash 2023-11-07T06:00Z || _fail "polling resumes after the outage"
# a cycle that lands after a newer one, within the lookback (1 day): found
upload_time 2023-11-07T03:00Z
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash 2023-11-07T03:00Z || _fail "a late-landing older cycle is found"
# ...and the newest published analysis time does not move back to it
wait_for 10 state_is crash/2023-11-07T0300Z/member0 succeeded
run /usr/bin/python3 -c 'import sys; print(int(float(sys.argv[1])))' "$(metric 'mlwm_newest_completed_analysis_time_seconds\{model="crash"\}')"
expect_stdout "$(date -u -d 2023-11-07T06:00Z +%s)"
stop_daemon
}

# --- the ledger held by another process (writes fail): the daemon goes on and loses nothing
section_ledger() {
write_model crash "true"
start_daemon
# within the lookback of the newest time other sections left (now)
t0=$(date -u -d '-2 hours' +%Y-%m-%dT%H:00Z) t1=$(date -u -d '-1 hour' +%Y-%m-%dT%H:00Z)
upload_time "$t0"
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash "$t0" || _fail "a first cycle is run"
# another process takes the ledger's write lock until $W/release appears
/usr/bin/python3 - "$W/state/ledger.sqlite3" "$W/release" "$W/locked" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
deadline = time.time() + 120
while not os.path.exists(sys.argv[2]) and time.time() < deadline:
    time.sleep(0.1)
db.execute("COMMIT")
PY
locker=$!
CHECKS=$((CHECKS + 1))
wait_for 30 test -e "$W/locked" || _fail "the ledger is locked by another process"
upload_time "$t1"
# the poll that lists the new cycle cannot record it: logged, and the daemon goes on
CHECKS=$((CHECKS + 1))
wait_for 60 grep -q '"event":"daemon.error".*applying a poll.*locked' "$W/daemon.log" ||
    _fail "the failed ledger write is logged as daemon.error"
run curl -s "http://127.0.0.1:$PORT/readyz"
expect_stdout_contains "ledger: not writable"
run kill -0 "$DPID"
expect_status 0
touch "$W/release"
wait "$locker"
# released: the cycle listed while the ledger was locked is recorded and run, once
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists crash "$t1" || _fail "the cycle that arrived while the ledger was locked is run"
id1="crash/$(echo "$t1" | tr -d ':')/member0"
wait_for 10 state_is "$id1" succeeded
run grep -c "\"event\":\"run.succeeded\".*\"run_id\":\"$id1\"" "$W/daemon.log"
expect_stdout 1
ready() { curl -sf "http://127.0.0.1:$PORT/readyz"; }
CHECKS=$((CHECKS + 1))
wait_for 30 ready || _fail "/readyz is ready again once the ledger is writable"
run kill -0 "$DPID"
expect_status 0
stop_daemon
}

# --- containers no attempt waits for: removed by the daemon's sweep; others kept
section_strays() {
local IMG=${MLWM_TEST_IMAGE:?}
# now: newer than any cycle the other sections listed (older ones are not listed again)
t=$(date -u +%Y-%m-%dT%H:%MZ)
id="crash/$(echo "$t" | tr -d ':')/member0"
start_daemon
upload_time "$t"
CHECKS=$((CHECKS + 1))
wait_for 60 state_is "$id" succeeded || _fail "strays: the run succeeds"
stop_daemon
# what a kill can leave: a created and an exited container of the succeeded
# run; beside them, a running one of it and one of a run this ledger does not know
label() { echo "--label org.mlwm.managed=true --label org.mlwm.run-id=$1"; }
# shellcheck disable=SC2046
created=$(docker_ create $(label "$id") "$IMG" true)
# shellcheck disable=SC2046
exited=$(docker_ run -d $(label "$id") "$IMG" true)
docker_ wait "$exited" >/dev/null
# shellcheck disable=SC2046
running=$(docker_ run -d $(label "$id") "$IMG" sleep 120)
# shellcheck disable=SC2046
foreign=$(docker_ create $(label "other/2023-11-20T0600Z/member0") "$IMG" true)
start_daemon
gone() { ! docker_ inspect "$1" >/dev/null 2>&1; }
CHECKS=$((CHECKS + 1))
wait_for 30 gone "$created" || _fail "strays: the created container of a succeeded run is removed"
CHECKS=$((CHECKS + 1))
wait_for 30 gone "$exited" || _fail "strays: the exited container of a succeeded run is removed"
run grep -c "\"event\":\"container.stray_removed\".*\"run_id\":\"$id\"" "$W/daemon.log"
expect_stdout 2
run docker_ inspect --format '{{.State.Status}}' "$running"
expect_stdout running
run docker_ inspect --format '{{.State.Status}}' "$foreign"
expect_stdout created
stop_daemon
docker_ rm -f "$created" "$exited" "$running" "$foreign" >/dev/null 2>&1 || true
}

for section in ${MLWM_TEST_SECTIONS:-crash cancel outage late ledger strays}; do
    "section_$section"
done

clean_buckets
finish
