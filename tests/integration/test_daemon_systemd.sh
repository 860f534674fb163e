#!/usr/bin/env bash
# `mlwm daemon` under systemd's protocols, against the test S3 server and
# dockerd, with systemd's own tools where they run without systemd as PID 1:
#   - the unit file passes `systemd-analyze verify`;
#   - sd_notify (a recorder plays systemd's side of NOTIFY_SOCKET): READY=1
#     only after the ledger was reconciled and a running container adopted;
#     STATUS= lines with the summary; WATCHDOG=1 at a third of WATCHDOG_USEC
#     from the event loop; RELOADING=1/READY=1 around SIGHUP (valid and
#     broken configuration; a changed mlwm.yaml key named as needing a restart); STOPPING=1 on SIGTERM; no READY=1 and exit 2 with
#     a broken configuration at start;
#   - journald: the daemon started with its stdout on a journal stream
#     (systemd-cat, JOURNAL_STREAM as systemd sets it) next to a private
#     systemd-journald; `journalctl MLWM_RUN_ID=...` finds the run's events,
#     with MLWM_MODEL, MLWM_ANALYSIS_TIME and PRIORITY; nothing is written twice.
# Needs MLWM_TEST_S3_ENDPOINT, MLWM_TEST_DOCKER_SOCKET, AWS_*; root (journald).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/integration
PORT=${MLWM_TEST_DAEMON_PORT:-19289}
W=$(mktemp -d /tmp/mlwm-systemd.XXXXXX)
source "$HERE/daemon_lib.sh"
RECORDER=
trap 'stop_daemon; [ -n "$RECORDER" ] && kill "$RECORDER" 2>/dev/null; [ "$FAILED" -eq 0 ] || { echo "--- daemon log (tail)" >&2; tail -n 40 "$W/daemon.log" >&2; }; rm -rf "$W" "$_tmp"' EXIT

clean_buckets
mkdir -p "$W/configurations"
write_config 1 2
write_model slow "sleep 5"

# --- the unit file, with ExecStart pointing at this build
sed "s|^ExecStart=.*|ExecStart=$MLWM daemon --config $W/mlwm.yaml|" "$ROOT/systemd/mlwm.service" >"$W/mlwm.service"
run systemd-analyze verify "$W/mlwm.service"
expect_status 0
CHECKS=$((CHECKS + 1))
[ -z "$ERR" ] || _fail "systemd-analyze verify prints no complaint"
run grep -E '^(Type=notify|WatchdogSec=|RestartPreventExitStatus=2|NoNewPrivileges=yes|ProtectSystem=strict)' "$ROOT/systemd/mlwm.service"
expect_stdout_contains "Type=notify"
CHECKS=$((CHECKS + 1))
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 5 ] || _fail "the unit is Type=notify, has a watchdog, hardening, and does not restart on a bad configuration"

# --- sd_notify: a run left running by a killed daemon, then a daemon under a recorder
T1=2023-11-07T00:00Z
ID1="slow/$(echo "$T1" | tr -d ':')/member0"
start_daemon MLWM_FAILPOINTS=running
upload_time "$T1"
killed() { ! kill -0 "$DPID" 2>/dev/null; }
wait_for 60 killed || _fail "the first daemon reaches the running failpoint"
wait "$DPID" 2>/dev/null; DPID=
run ledger_state "$ID1"
expect_stdout running

NOTES=$W/notify.txt
/usr/bin/python3 "$HERE/notify_recorder.py" "$W/notify.sock" "$NOTES" "$W/daemon.log" &
RECORDER=$!
wait_for 10 test -S "$W/notify.sock" || _fail "the notify recorder listens"
start_daemon NOTIFY_SOCKET="$W/notify.sock" WATCHDOG_USEC=1500000
ready_count() { grep -cE '( |[|])READY=1([|]|$)' "$NOTES" 2>/dev/null || true; }
# evaluated at each try of wait_for (an argument "$(ready_count)" would be counted once, before the daemon answers)
ready_at_least() { [ "$(ready_count)" -ge "$1" ]; }
CHECKS=$((CHECKS + 1))
wait_for 30 ready_at_least 1 || _fail "READY=1 is sent"
# what the daemon had logged when it said READY=1
run cat "$NOTES.ready1"
expect_stdout_contains '"event":"ledger.recovered"'
expect_stdout_contains '1 container(s) adopted'
expect_stdout_contains "\"event\":\"run.adopted\""
expect_stdout_contains "\"run_id\":\"$ID1\""
expect_stdout_contains '"event":"http.listening"'
run grep -m1 'READY=1' "$NOTES"
expect_stdout_contains "STATUS=recovered; polling"
# the adopted run finishes; the status line says so
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists slow "$T1" || _fail "the adopted run is published"
CHECKS=$((CHECKS + 1))
wait_for 10 grep -q 'STATUS=0 run(s) active, 1 succeeded, 0 failed' "$NOTES" || _fail "STATUS= reports the succeeded run"
# the watchdog: every WATCHDOG_USEC/3 (0.5 s) from the event loop; at least 8 in a row, none more than 1.5 s apart
watchdog_ok() {
    /usr/bin/python3 - "$NOTES" <<'PY'
import sys
ts = [float(l.split(" ", 1)[0]) for l in open(sys.argv[1]) if "WATCHDOG=1" in l]
gaps = [b - a for a, b in zip(ts, ts[1:])]
print(f"{len(ts)} WATCHDOG=1, largest gap {max(gaps, default=0):.2f} s")
sys.exit(0 if len(ts) >= 8 and max(gaps) < 1.5 else 1)
PY
}
CHECKS=$((CHECKS + 1))
wait_for 20 watchdog_ok || _fail "WATCHDOG=1 is sent regularly ($(watchdog_ok))"

# SIGHUP: RELOADING=1, then READY=1 with the outcome; a changed host setting
# is named as needing a restart (the running daemon keeps its value)
write_config 2 2
kill -HUP "$DPID"
CHECKS=$((CHECKS + 1))
wait_for 10 ready_at_least 2 || _fail "READY=1 after a reload"
run grep -E 'RELOADING=1|READY=1' "$NOTES"
CHECKS=$((CHECKS + 1))
[ "$(printf '%s\n' "$OUT" | tail -n 2 | cut -d' ' -f2 | cut -d'|' -f1 | tr '\n' ' ')" = "RELOADING=1 READY=1 " ] ||
    _fail "RELOADING=1 comes before READY=1"
expect_stdout_contains "STATUS=reload: 1 model(s) loaded; daemon.poll_interval need a restart"
run grep '"event":"config.restart_needed"' "$W/daemon.log"
expect_stdout_contains '"keys":"daemon.poll_interval"'
expect_stdout_contains "$W/mlwm.yaml changed (daemon.poll_interval)"
echo "inputs: [" >>"$W/configurations/slow/config.yaml"
kill -HUP "$DPID"
CHECKS=$((CHECKS + 1))
wait_for 10 ready_at_least 3 || _fail "READY=1 after a failed reload"
run grep 'READY=1' "$NOTES"
expect_stdout_contains "STATUS=reload: kept the running configuration: $W/configurations/slow/config.yaml"
run curl -sf "http://127.0.0.1:$PORT/readyz"
expect_status 0

# SIGTERM: STOPPING=1, exit 0
kill -TERM "$DPID"
wait "$DPID"; status=$?; DPID=
CHECKS=$((CHECKS + 1))
[ "$status" -eq 0 ] || _fail "exit status 0 after SIGTERM (was $status)"
run grep -c 'STOPPING=1' "$NOTES"
expect_stdout 1

# a broken configuration at start: exit 2, never READY=1
before=$(ready_count)
run env NOTIFY_SOCKET="$W/notify.sock" "$MLWM" daemon --config "$W/mlwm.yaml"
expect_status 2
expect_stderr_contains "the configuration is not valid"
CHECKS=$((CHECKS + 1))
[ "$(ready_count)" -eq "$before" ] || _fail "no READY=1 with a broken configuration"
kill "$RECORDER"; RECORDER=
write_model slow "sleep 1"

# --- journald: the daemon's stdout is a journal stream
T2=2023-11-07T06:00Z
ID2="slow/$(echo "$T2" | tr -d ':')/member0"
# inside the private journald's namespace: the daemon until $W/done appears, then the queries
cat >"$W/in-journal.sh" <<SH
set -u
# as systemd does for a unit's stdout: JOURNAL_STREAM=<device>:<inode> of the stream socket
systemd-cat --identifier=mlwm-under-test bash -c 'export JOURNAL_STREAM=\$(stat -L -c %d:%i /proc/\$\$/fd/1); exec "\$0" daemon --config "\$1"' "$MLWM" "$W/mlwm.yaml" &
daemon=\$!
deadline=\$((\$(date +%s) + 120))
until [ -e "$W/done" ] || [ "\$(date +%s)" -gt "\$deadline" ]; do sleep 0.2; done
kill -TERM \$daemon; wait \$daemon
journalctl --no-pager -o json MLWM_RUN_ID=$ID2 >"$W/journal.run.json"
journalctl --no-pager -o json SYSLOG_IDENTIFIER=mlwm >"$W/journal.all.json"
journalctl --no-pager -o json SYSLOG_IDENTIFIER=mlwm-under-test >"$W/journal.stream.json"
SH
"$HERE/with_private_journald.sh" bash "$W/in-journal.sh" >"$W/journal.out" 2>&1 &
JPID=$!
CHECKS=$((CHECKS + 1))
wait_for 30 curl -sf "http://127.0.0.1:$PORT/readyz" || _fail "the daemon under journald becomes ready"
echo foreign >"$W/foreign.txt"
aws_ s3 cp --quiet "$W/foreign.txt" "s3://mlwm-inputs/$(dirname "$(dirname "$(dirname "$(key harmonie_cy46 "$T2")")")")/not-a-time/x"
upload_time "$T2"
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists slow "$T2" || _fail "the daemon under journald publishes $T2"
wait_for 10 state_is "$ID2" succeeded
touch "$W/done"
wait "$JPID"; status=$?
CHECKS=$((CHECKS + 1))
[ "$status" -eq 0 ] || _fail "the private journald and the daemon ran ($(cat "$W/journal.out"))"
journal_check() {  # FILE PYTHON-EXPRESSION-over-entries (a list of dicts)
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = eval(sys.argv[2])
print(f"{len(entries)} entries; {sys.argv[2]} -> {ok}")
sys.exit(0 if ok else 1)
PY
}
run journal_check "$W/journal.run.json" "{e['MLWM_EVENT'] for e in entries} >= {'run.state', 'run.succeeded'}"
expect_status 0
run journal_check "$W/journal.run.json" "all(e['MLWM_MODEL'] == 'slow' and e['MLWM_ANALYSIS_TIME'] == '${T2%Z}:00Z' and e['_TRANSPORT'] == 'journal' for e in entries)"
expect_status 0
run journal_check "$W/journal.run.json" "all(json.loads(e['MESSAGE'])['run_id'] == '$ID2' for e in entries)"
expect_status 0
run journal_check "$W/journal.all.json" "any(e['MLWM_EVENT'] == 'discovery.foreign_entry' and e['PRIORITY'] == '4' for e in entries)"
expect_status 0
run journal_check "$W/journal.all.json" "any(e['MLWM_EVENT'] == 'daemon.ready' and e['PRIORITY'] == '6' for e in entries)"
expect_status 0
run journal_check "$W/journal.all.json" "entries[-1]['MLWM_EVENT'] == 'daemon.stopped'"
expect_status 0
# the stdout stream carries nothing: every line went to the journal once, with its fields
run journal_check "$W/journal.stream.json" "len(entries) == 0"
expect_status 0

finish
