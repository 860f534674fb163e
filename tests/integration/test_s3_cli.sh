#!/usr/bin/env bash
# `mlwm cp` / `mlwm ls` cross-checked with the real aws CLI against the test
# S3 server (MLWM_TEST_S3_ENDPOINT, MLWM_TEST_S3_BUCKET, AWS_* set by run.sh).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
EP=${MLWM_TEST_S3_ENDPOINT:?}
BUCKET=${MLWM_TEST_S3_BUCKET:?}
export AWS_ENDPOINT_URL=$EP  # mlwm reads it; Debian's aws 2.9 ignores it, so:
aws_() { /usr/bin/aws --endpoint-url "$EP" "$@"; }
W=$(mktemp -d)
trap 'rm -rf "$W" "$_tmp"' EXIT
P=cli-$$

# a folder with awkward names, small files and one that aws uploads multipart
mkdir -p "$W/src/sub dir/ünï" "$W/src/a+b=c"
for n in 'plain.bin' 'with space.bin' 'per%cent.bin' 'til~de.bin' 'sub dir/ünï/日本.bin' 'a+b=c/x&y.bin'; do
    head -c $((RANDOM * 3 + 1)) /dev/urandom >"$W/src/$n"
done
: >"$W/src/empty"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$W/src/large.bin"

# what aws uploads, mlwm downloads byte-identical
run aws_ s3 cp --recursive --only-show-errors "$W/src" "s3://$BUCKET/$P/by-aws/"
expect_status 0
run "$MLWM" cp --recursive "s3://$BUCKET/$P/by-aws" "$W/got-mlwm"
expect_status 0
expect_stderr_one_line  # on a pipe: no progress bar, only the summary line
expect_stderr_contains "downloaded 8 objects"
run diff -r "$W/src" "$W/got-mlwm"
expect_status 0

# what mlwm uploads, aws downloads byte-identical
run "$MLWM" cp --recursive --concurrency 8 "$W/src" "s3://$BUCKET/$P/by-mlwm"
expect_status 0
expect_stderr_contains "uploaded 8 objects"
run aws_ s3 cp --recursive --only-show-errors "s3://$BUCKET/$P/by-mlwm/" "$W/got-aws"
expect_status 0
run diff -r "$W/src" "$W/got-aws"
expect_status 0

# listings agree
run "$MLWM" ls --recursive "s3://$BUCKET/$P/by-mlwm/"
expect_status 0
mlwm_keys=$(printf '%s\n' "$OUT" | sed -E 's/^.{24} +[0-9]+  //' | sort)
aws_keys=$(aws_ s3api list-objects-v2 --bucket "$BUCKET" --prefix "$P/by-mlwm/" --query 'Contents[].Key' --output text | tr '\t' '\n' | sort)
CHECKS=$((CHECKS + 1))
[ "$mlwm_keys" = "$aws_keys" ] || _fail "mlwm ls and aws list the same keys"
run "$MLWM" ls "s3://$BUCKET/$P/by-mlwm/"
expect_stdout_contains "PRE  $P/by-mlwm/sub dir/"
expect_stdout_contains "$P/by-mlwm/plain.bin"

# on a terminal: a progress bar (objects, bytes, rate, ETA), then the summary
run script -qec "'$MLWM' cp --recursive --concurrency 2 's3://$BUCKET/$P/by-mlwm' '$W/got-tty'" /dev/null
expect_status 0
expect_stdout_contains "objects"
expect_stdout_contains "/s  ETA"
expect_stdout_contains "downloaded 8 objects"

# single objects both ways; into a folder
run "$MLWM" cp "$W/src/large.bin" "s3://$BUCKET/$P/single/"
expect_status 0
run "$MLWM" cp "s3://$BUCKET/$P/single/large.bin" "$W/"
expect_status 0
run cmp "$W/src/large.bin" "$W/large.bin"
expect_status 0

# a file:// store takes the same copies
run "$MLWM" cp --recursive "s3://$BUCKET/$P/by-mlwm" "file://$W/store/copy"
expect_status 0
run diff -r "$W/src" "$W/store/copy"
expect_status 0
run "$MLWM" ls "file://$W/store"
expect_stdout_contains "PRE  copy/"

# errors: a wrong secret at once, a missing object, a bad location
start=$(date +%s%N)
AWS_SECRET_ACCESS_KEY=wrong-secret run "$MLWM" ls "s3://$BUCKET/$P/"
took_ms=$((($(date +%s%N) - start) / 1000000))
expect_status 1
expect_stderr_one_line
expect_stderr_contains "SignatureDoesNotMatch"
CHECKS=$((CHECKS + 1))
[[ $ERR != *wrong-secret* ]] || _fail "the secret never appears in an error"
CHECKS=$((CHECKS + 1))
[ "$took_ms" -lt 2000 ] || _fail "a signature error is reported at once (took $took_ms ms)"
run "$MLWM" cp "s3://$BUCKET/$P/no-such-object" "$W/x"
expect_status 1
expect_stderr_contains "no such object"
run "$MLWM" cp "s3://Not_A_Bucket/x" "$W/x"
expect_status 2
expect_stderr_one_line
run "$MLWM" cp --recursive "s3://$BUCKET/$P/by-mlwm" "$W/y" --concurrency 0
expect_status 2
expect_stderr_contains "--concurrency"

# more objects than open files allowed (systemd's default soft limit is 1024):
# a transfer holds only the files of the requests in flight
mkdir -p "$W/many/data"
for i in $(seq 1 1500); do echo "$i" >"$W/many/data/$i"; done
run bash -c "ulimit -n 200 && '$MLWM' cp --recursive --quiet '$W/many' 's3://$BUCKET/$P/many'"
expect_status 0
run bash -c "ulimit -n 200 && '$MLWM' cp --recursive --quiet 's3://$BUCKET/$P/many' '$W/many-back'"
expect_status 0
run diff -r "$W/many" "$W/many-back"
expect_status 0

aws_ s3 rm --recursive --only-show-errors "s3://$BUCKET/$P/" >/dev/null
finish
