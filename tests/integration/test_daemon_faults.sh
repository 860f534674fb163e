#!/usr/bin/env bash
# `mlwm daemon` when mlwm's own side fails, against the test S3 server and
# dockerd (root: mounts a tmpfs).
#
# disk: the work folder on an 8 MiB tmpfs; one model's 16 MiB input cannot
# fit, another's 1 MiB input can, same analysis time, and that model's
# container writes 10 MiB to stdout (its logs cannot be saved). The first
# fails at once naming the folder, the bytes needed and free, and leaves
# nothing staged; the second is published with one container start (a log
# that cannot be saved is noted, never a reason to run the model again). An S3
# download that fills a disk names the file and "No space left on device".
#
# publish: the output bucket does not exist when the model finishes: publishing
# fails, is tried again as publishing alone, and once the bucket exists the
# run is published; the model's container started once.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${MLWM_TEST_DAEMON_PORT:-19292}
W=$(mktemp -d /tmp/mlwm-faults.XXXXXX)
source "$(dirname "$0")/daemon_lib.sh"
TMPFS=$W/work
cleanup_faults() { mountpoint -q "$TMPFS" && umount "$TMPFS"; mountpoint -q "$W/small" && umount "$W/small"; }
trap 'stop_daemon; [ "$FAILED" -eq 0 ] || { echo "--- daemon log (tail)" >&2; tail -n 40 "$W/daemon.log" >&2; find "$TMPFS" -name "*.log" -exec tail -c 400 {} + >&2; }; cleanup_faults; rm -rf "$W" "$_tmp"' EXIT

clean_buckets
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-inputs/bigdata/" >/dev/null
mkdir -p "$W/configurations" "$TMPFS"
mount -t tmpfs -o size=8m tmpfs "$TMPFS"
write_config 1 2
starts_since() {  # SINCE RUN_ID: container starts the engine saw for a run
    docker_ events --since "$1" --until "$(date +%s.%N)" --filter type=container --filter event=start \
        --filter "label=org.mlwm.run-id=$2" --format '{{.ID}}' | wc -l
}

section_disk() {
t=2023-12-02T00:00Z
# small: the sample analysis plus 1 MiB; its container prints 10 MiB
upload_time "$t" --no-marker
head -c 1048576 /dev/urandom >"$W/pad"
aws_ s3 cp --only-show-errors "$W/pad" "s3://mlwm-inputs/$(key harmonie_cy46 "$t")/t2m/pad"
aws_ s3 cp --only-show-errors "$W/in-$t/.zmetadata" "s3://mlwm-inputs/$(key harmonie_cy46 "$t")/.zmetadata"
write_model small "head -c 10485760 /dev/zero | tr -c x x"
# big: 16 MiB of input
big_key=$(key bigdata "$t")
head -c 16777216 /dev/urandom >"$W/big"
aws_ s3 cp --only-show-errors "$W/big" "s3://mlwm-inputs/$big_key/t2m/0.0.0"
aws_ s3 cp --only-show-errors "$W/in-$t/.zmetadata" "s3://mlwm-inputs/$big_key/.zmetadata"
write_model big "true" "max_attempts: 1"
sed -i 's|model_name: harmonie_cy46|model_name: bigdata|' "$W/configurations/big/config.yaml"
since=$(date +%s)
start_daemon
big_id=big/2023-12-02T0000Z/member0 small_id=small/2023-12-02T0000Z/member0
CHECKS=$((CHECKS + 1))
wait_for 60 marker_exists small "$t" || _fail "the model whose input fits is published"
wait_for 10 state_is "$small_id" succeeded
wait_for 10 state_is "$big_id" failed
run starts_since "$since" "$small_id"
expect_stdout 1
run starts_since "$since" "$big_id"
expect_stdout 0
run ledger_row "$big_id"
expect_stdout_contains "not enough space to stage the inputs in $TMPFS/2023-12-02T0000Z/member0: they need 167"
expect_stdout_contains "bytes are free on $TMPFS"
run grep "\"event\":\"run.succeeded\".*\"run_id\":\"$small_id\"" "$W/daemon.log"
expect_stdout_contains "logs not saved: writing container logs to $TMPFS/2023-12-02T0000Z/member0/logs/small failed: No space left on device"
# nothing of the failed run staged; the disk is free again but for its logs
run find "$TMPFS" -path '*/input/*' -type f
expect_stdout_empty
stop_daemon
# an S3 download that fills a disk says so, naming the file
mkdir -p "$W/small"
mount -t tmpfs -o size=4m tmpfs "$W/small"
run "$MLWM" cp --recursive --endpoint-url "$EP" "s3://mlwm-inputs/$big_key/" "$W/small/big"
expect_status 1
expect_stderr_contains "failed: No space left on device"
expect_stderr_contains "writing $W/small/big/t2m/"
umount "$W/small"
rm -rf "$W/configurations/big" "$W/configurations/small"
}

section_publish() {
t=2023-12-03T00:00Z
id=late/2023-12-03T0000Z/member0
aws_ s3 rb --force s3://mlwm-late >/dev/null 2>&1
write_model late "true" "retry_delay: PT1S
max_attempts: 20"
sed -i 's|bucket_name: mlwm-outputs|bucket_name: mlwm-late|' "$W/configurations/late/config.yaml"
since=$(date +%s)
start_daemon
upload_time "$t"
CHECKS=$((CHECKS + 1))
wait_for 60 grep -q "\"event\":\"run.retry_scheduled\".*publishing again.*\"run_id\":\"$id\"" "$W/daemon.log" ||
    _fail "a failed publication is tried again as publishing"
run ledger_state "$id"
expect_stdout publishing
aws_ s3 mb s3://mlwm-late >/dev/null
published() { aws_ s3api head-object --bucket mlwm-late --key "$(marker_key late "$t")"; }
CHECKS=$((CHECKS + 1))
wait_for 60 published || _fail "the run is published once the bucket exists"
wait_for 10 state_is "$id" succeeded
run starts_since "$since" "$id"
expect_stdout 1
run sh -c "grep '\"event\":\"run.failed\".*\"run_id\":\"$id\"' '$W/daemon.log' | head -n 1"
expect_stdout_contains "NoSuchBucket"
stop_daemon
aws_ s3 rb --force s3://mlwm-late >/dev/null
rm -rf "$W/configurations/late"
}

for section in ${MLWM_TEST_SECTIONS:-disk publish}; do
    "section_$section"
done
clean_buckets
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-inputs/bigdata/" >/dev/null
finish
