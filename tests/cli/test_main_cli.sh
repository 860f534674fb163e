#!/usr/bin/env bash
# The top-level command line: help, version, unknown commands and options.
source "$(dirname "$0")/lib.sh"
MLWM=$1

run "$MLWM" --help
expect_status 0
expect_stdout_contains "usage: mlwm"
expect_stdout_contains "paths create"
expect_stdout_contains "paths parse"

run "$MLWM" --version
expect_status 0
[[ $OUT =~ ^mlwm\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ [0-9a-f]{7,}(-dirty)?\)$|^mlwm\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ unknown\)$ ]] ||
    _fail "version line has the form 'mlwm X.Y.Z (git REV)'"
CHECKS=$((CHECKS + 1))

run "$MLWM"
expect_status 2
expect_stderr_contains "usage: mlwm"

run "$MLWM" frobnicate
expect_status 2
expect_stderr_one_line
expect_stderr_contains "unknown command 'frobnicate'"

run "$MLWM" --frobnicate
expect_status 2
expect_stderr_one_line
expect_stderr_contains "unknown option '--frobnicate'"

run "$MLWM" paths
expect_status 2
expect_stderr_contains "paths create"

run "$MLWM" paths --help
expect_status 0
expect_stdout_contains "paths parse"

run "$MLWM" paths frobnicate
expect_status 2
expect_stderr_one_line
expect_stderr_contains "unknown command 'frobnicate'"

# every subcommand has its own help, on stdout, exit 0
ncmds=0
while IFS= read -r words; do
    ncmds=$((ncmds + 1))
    # shellcheck disable=SC2086
    run "$MLWM" $words --help
    expect_status 0
    expect_stdout_contains "usage: mlwm $words"
done < <("$MLWM" --help | awk -F'  +' '/^commands:/{f=1;next} f && /^  [a-z]/{print $2}')
CHECKS=$((CHECKS + 1))
[ "$ncmds" -ge 2 ] || _fail "expected the command list in --help (found $ncmds)"

finish
