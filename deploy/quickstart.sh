#!/usr/bin/env bash
# deploy/quickstart.sh -- the README's first command: on a fresh Debian 12
# machine, installs what mlwm needs, builds it, and runs it on the bundled
# example (today: the standard key of the README's example dataset, and the
# parse of that key).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${MLWM_JOBS:-2}" --target mlwm
MLWM=build/daemon/mlwm
echo
echo "\$ mlwm --version"
$MLWM --version
echo
echo "\$ mlwm paths create --model-name harmonie_cy46 --model-config danra --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km --analysis-time 2023-10-01T12:00Z --data-kind pressure_levels"
key=$($MLWM paths create --model-name harmonie_cy46 --model-config danra \
    --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km \
    --analysis-time 2023-10-01T12:00Z --data-kind pressure_levels)
echo "$key"
echo
echo "\$ mlwm paths parse --format text $key"
$MLWM paths parse --format text "$key"
echo
echo "\$ mlwm paths parse $key"
$MLWM paths parse "$key"
