#!/bin/sh
# Persistence forecast: the forecast for every lead time is the analysis. The
# input zarr store is copied unchanged, so the output is a valid zarr store
# with the same variables, coordinates and values.
set -eu
in=/volume/inputs/state.zarr
out=/volume/outputs/forecast.zarr
echo "persistence: analysis time ${ANALYSIS_TIME}, member ${MLWM_MEMBER}, forecast duration ${FORECAST_DURATION}"
if [ ! -f "$in/.zmetadata" ] && [ ! -f "$in/.zgroup" ]; then
    echo "persistence: $in is not a zarr store (no .zmetadata or .zgroup)" >&2
    exit 2
fi
cp -R "$in/." "$out/"
echo "persistence: wrote $(find "$out" -type f | wc -l) files to $out"
