#!/usr/bin/env bash
# tests/bench/docker_launch.sh [BUILD_DIR] [ROUNDS] -- container launch
# benchmark on a private dockerd: mlwm's client vs the Docker CLI vs the
# engine's floor (bare curl). Starts and stops its own dockerd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../../build}" && pwd)
WORK=$(mktemp -d /tmp/mlwm-bench.XXXXXX)
trap '"$here/../services/dockerd.sh" stop "$WORK/docker"; rm -rf "$WORK"' EXIT
"$here/../services/dockerd.sh" start "$WORK/docker" >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(uname -r)"
"$BUILD/tests/bench/mlwm_bench_docker_launch" "$WORK/docker/docker.sock" mlwm-test/busybox:1 "${2:-30}"
