#!/usr/bin/env bash
# `mlwm daemon` against the test S3 server and dockerd: detection of a new
# analysis time uploaded by the aws CLI, the run and its publication, the
# HTTP endpoints (promtool checks /metrics and the alert rules; the metrics the
# alerts and the dashboard query exist), a foreign key, a malformed
# configuration on SIGHUP, SIGTERM, a restart that repeats nothing, and the
# global concurrency limit (3 models x 2 analysis times, limit 2, checked
# through the engine), a slow-header flood against the endpoints. Needs MLWM_TEST_S3_ENDPOINT, MLWM_TEST_DOCKER_SOCKET, AWS_*.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${MLWM_TEST_DAEMON_PORT:-19287}
W=$(mktemp -d /tmp/mlwm-daemon.XXXXXX)
source "$(dirname "$0")/daemon_lib.sh"

clean_buckets
mkdir -p "$W/configurations"
ln -s "$ROOT/configurations/persistence" "$W/configurations/persistence"
write_config 2 2
"$MLWM" build-image persistence --configurations "$ROOT/configurations" --docker-socket "$SOCK" \
    --build-arg BASE_IMAGE=mlwm-test/busybox:1 --quiet >/dev/null 2>&1

start_daemon
run curl -s "http://127.0.0.1:$PORT/livez"
expect_stdout_contains "ok"
# a flood of connections that send half a header: /livez still answers, and
# the server closes them (header-read timeout, connection cap)
run /usr/bin/python3 "$ROOT/tests/integration/http_flood.py" "$PORT" 900
expect_status 0
expect_stdout_contains "900 slow connections: 900 closed by the server"
run curl -s "http://127.0.0.1:$PORT/livez"
expect_stdout_contains "ok"
# one daemon per state folder: a second one is refused, naming the first
run timeout 20 "$MLWM" daemon --config "$W/mlwm.yaml" --listen 127.0.0.1:0
expect_status 1
expect_stderr_contains "another mlwm daemon (pid $DPID) uses the state folder $W/state"

# a new analysis time: detected within one poll interval + 5 s, run, published
upload_time 2023-11-01T06:00Z
uploaded=$(date +%s.%N)
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists persistence 2023-11-01T06:00Z || _fail "the run is published"
detected=$(/usr/bin/python3 -c '
import json, sys, datetime
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "discovery.new_analysis_time" and e.get("analysis_time") == "2023-11-01T06:00:00Z":
        print(datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()); break' "$W/daemon.log")
CHECKS=$((CHECKS + 1))
[ -n "$detected" ] && /usr/bin/python3 -c "import sys; sys.exit(0 if float('$detected') - float('$uploaded') <= 2 + 5 else 1)" ||
    _fail "detected within one poll interval + 5 s (uploaded $uploaded, detected $detected)"
run grep -c '"event":"run.succeeded"' "$W/daemon.log"
expect_stdout "1"
run curl -s "http://127.0.0.1:$PORT/status"
expect_stdout_contains '"run_id": "persistence/2023-11-01T0600Z/member0"'
expect_stdout_contains '"state": "succeeded"'
run "$MLWM" status --config "$W/mlwm.yaml"
expect_stdout_contains "persistence/2023-11-01T0600Z/member0          succeeded"

# metrics: valid exposition format, the run counted
curl -s "http://127.0.0.1:$PORT/metrics" >"$W/metrics.txt"
run promtool check metrics <"$W/metrics.txt"
expect_status 0
# the alert rules: valid, and they fire as intended (promtool test rules on synthetic series)
run promtool check rules "$ROOT/deploy/prometheus/mlwm-alerts.yml"
expect_status 0
run sh -c "cd '$ROOT/tests/fixtures/prometheus' && promtool test rules mlwm-alerts.test.yml"
expect_status 0
# every mlwm_ metric the alerts and the dashboard query is one this daemon exports
for name in $(grep -ohE 'mlwm_[a-z_]+' "$ROOT/deploy/prometheus/mlwm-alerts.yml" "$ROOT/deploy/grafana/mlwm-dashboard.json" | sort -u); do
    family=$(echo "$name" | sed -E 's/_(bucket|sum|count)$//')
    CHECKS=$((CHECKS + 1))
    grep -qE "^# TYPE ($name|$family) " "$W/metrics.txt" ||
        _fail "$name (queried by deploy/prometheus or deploy/grafana) is exported by the daemon"
done
run grep -E '^mlwm_runs_total\{model="persistence",outcome="succeeded"\} 1$' "$W/metrics.txt"
expect_status 0
run grep -E '^mlwm_build_info\{' "$W/metrics.txt"
expect_status 0

# a published cycle costs no request in the polls after it (still listed
# within the lookback): a poll is one LIST per prefix, O(new analysis times)
s3_requests() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^mlwm_s3_requests_total\{/ && !/ListObjectsV2/ {s += $NF} END {print s + 0}'; }
polls_ok() { metric 'mlwm_polls_total\{outcome="ok"\}'; }
requests_before=$(s3_requests) polls_before=$(polls_ok)
three_more_polls() { [ "$(polls_ok)" -ge $((polls_before + 3)) ]; }
CHECKS=$((CHECKS + 1))
wait_for 20 three_more_polls || _fail "the daemon goes on polling"
run s3_requests
expect_stdout "$requests_before"

# a foreign key under the prefix: ignored, warned once, counted
prefix=$(dirname "$(dirname "$(dirname "$(key harmonie_cy46 2023-11-01T06:00Z)")")")
echo junk | aws_ s3 cp --only-show-errors - "s3://mlwm-inputs/$prefix/latest/readme.txt"
CHECKS=$((CHECKS + 1))
wait_for 20 grep -q '"event":"discovery.foreign_entry"' "$W/daemon.log" || _fail "a foreign key is reported"
run sh -c "curl -s http://127.0.0.1:$PORT/metrics | grep '^mlwm_discovery_foreign_entries_total'"
expect_stdout 'mlwm_discovery_foreign_entries_total{bucket="mlwm-inputs"} 1'

# a malformed configuration on SIGHUP: the old one stays
echo "colour: blue" >"$W/configurations/broken.yaml"
mkdir -p "$W/configurations/broken" && printf 'docker_image: x\n' >"$W/configurations/broken/config.yaml"
kill -HUP "$DPID"
CHECKS=$((CHECKS + 1))
wait_for 10 grep -q '"event":"config.reload_failed"' "$W/daemon.log" || _fail "the reload failure is logged"
run curl -s "http://127.0.0.1:$PORT/livez"
expect_stdout_contains "ok"
rm -rf "$W/configurations/broken" "$W/configurations/broken.yaml"

# dry run: nothing to do for the published time
run "$MLWM" daemon --config "$W/mlwm.yaml" --dry-run --listen 127.0.0.1:0
expect_status 0
expect_stdout_contains '"action": "nothing: succeeded"'

# SIGTERM: exit 0 within seconds
start=$(date +%s)
kill -TERM "$DPID"
wait "$DPID"
status=$?
DPID=
CHECKS=$((CHECKS + 2))
[ "$status" -eq 0 ] || _fail "SIGTERM exits 0 (got $status)"
[ $(($(date +%s) - start)) -le 5 ] || _fail "SIGTERM exits within 5 s"

# a restart repeats nothing: the marker is not rewritten, no container is started
before=$(aws_ s3api head-object --bucket mlwm-outputs --key "$(dirname "$(key persistence 2023-11-01T06:00Z)")/_mlwm_run.json" --query LastModified --output text)
: >"$W/daemon.log"
start_daemon
sleep_until_polled() { [ "$(metric 'mlwm_polls_total\{outcome="ok"\}')" -ge 2 ]; }
CHECKS=$((CHECKS + 1))
wait_for 20 sleep_until_polled || _fail "the restarted daemon polls"
run grep -c '"event":"run.state"' "$W/daemon.log"
expect_stdout "0"
after=$(aws_ s3api head-object --bucket mlwm-outputs --key "$(dirname "$(key persistence 2023-11-01T06:00Z)")/_mlwm_run.json" --query LastModified --output text)
CHECKS=$((CHECKS + 1))
[ "$before" = "$after" ] || _fail "the marker is not rewritten"
# the per-model gauges come back from the ledger; the counters alerts use exist at 0
run metric 'mlwm_newest_completed_analysis_time_seconds\{model="persistence"\}'
expect_stdout 1698818400
last_success=$(metric 'mlwm_last_success_timestamp_seconds\{model="persistence"\}')
CHECKS=$((CHECKS + 1))
[ -n "$last_success" ] && [ "${last_success%.*}" -ge "${uploaded%.*}" ] && [ "${last_success%.*}" -le "$(date +%s)" ] ||
    _fail "the last success time survives the restart (got '$last_success', the run was after $uploaded)"
run metric 'mlwm_runs_total\{model="persistence",outcome="failed"\}'
expect_stdout 0
run metric 'mlwm_late_runs_total\{kind="completion",model="persistence"\}'
expect_stdout 0
stop_daemon

# concurrency: 3 models x 2 analysis times with a global limit of 2
rm -f "$W/configurations/persistence"
for m in a b c; do write_model "slow_$m" "sleep 3"; done
write_config 1 2
: >"$W/daemon.log"
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-inputs/harmonie_cy46/" >/dev/null
upload_time 2023-11-02T00:00Z
upload_time 2023-11-02T06:00Z
start_daemon
max=0
done_count() { grep -c '"event":"run.succeeded"' "$W/daemon.log"; }
deadline=$(($(date +%s) + 120))
while [ "$(done_count)" -lt 6 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    n=$(docker_ ps -q --filter label=org.mlwm.managed=true | wc -l)
    [ "$n" -gt "$max" ] && max=$n
    sleep 0.2
done
run done_count
expect_stdout "6"
CHECKS=$((CHECKS + 2))
[ "$max" -le 2 ] || _fail "never more than 2 containers at once (saw $max)"
[ "$max" -ge 2 ] || _fail "the limit is used: 2 containers at once (saw $max)"
stop_daemon

clean_buckets
finish
