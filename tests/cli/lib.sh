# Helpers for functional tests that drive the real `mlwm` binary.
# Usage: source lib.sh; run CMD...; expect_status N; expect_stdout TEXT; ...; finish
set -u
FAILED=0
CHECKS=0
OUT=""
ERR=""
STATUS=0
LAST_CMD=""
_tmp=$(mktemp -d)
trap 'rm -rf "$_tmp"' EXIT

# run CMD...: runs it, keeping stdout, stderr and the exit status
run() {
    LAST_CMD="$*"
    "$@" >"$_tmp/out" 2>"$_tmp/err"
    STATUS=$?
    OUT=$(cat "$_tmp/out")
    ERR=$(cat "$_tmp/err")
}
_fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL: %s\n  command: %s\n  status: %s\n  stdout: %s\n  stderr: %s\n' \
        "$1" "$LAST_CMD" "$STATUS" "$OUT" "$ERR" >&2
}
_check() { CHECKS=$((CHECKS + 1)); }
expect_status() { _check; [ "$STATUS" -eq "$1" ] || _fail "expected exit status $1"; }
expect_stdout() { _check; [ "$OUT" = "$1" ] || _fail "expected stdout '$1'"; }
expect_stdout_contains() { _check; [[ $OUT == *"$1"* ]] || _fail "expected stdout to contain '$1'"; }
expect_stderr_contains() { _check; [[ $ERR == *"$1"* ]] || _fail "expected stderr to contain '$1'"; }
expect_stderr_one_line() {
    _check
    [ -n "$ERR" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || _fail "expected exactly one line on stderr"
}
expect_stdout_empty() { _check; [ -z "$OUT" ] || _fail "expected empty stdout"; }
finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "$FAILED of $CHECKS checks failed" >&2
        exit 1
    fi
    echo "all $CHECKS checks passed"
}
