#!/bin/bash
# neural-lam-dini's entry point (see Containerfile): the mounted analyses ->
# the model's datastore (mllam-data-prep, with the training statistics from
# the artifact) -> neural-lam's evaluation from the artifact's checkpoint,
# FORECAST_DURATION ahead in 3 h steps -> the forecast zarrs in the mounted
# outputs. Set by mlwm: ANALYSIS_TIME, FORECAST_DURATION, the mounts below.
set -euo pipefail
A=/opt/neural-lam/artifact
IN=/volume/inputs/dini
OUT=/volume/outputs
for f in "$IN/pressure_levels.zarr" "$IN/single_levels.zarr"; do
    [ -e "$f/.zmetadata" ] || { echo "neural-lam-dini: $f is not a consolidated zarr store" >&2; exit 2; }
done
duration=${FORECAST_DURATION:-PT18H}
[[ $duration =~ ^PT([0-9]+)H$ ]] || { echo "neural-lam-dini: FORECAST_DURATION '$duration': expected PT<N>H" >&2; exit 2; }
steps=$((BASH_REMATCH[1] / 3))
echo "neural-lam-dini: analysis ${ANALYSIS_TIME:?}, ${steps} steps, artifact ${INFERENCE_ARTIFACT:-?} (sha256 ${INFERENCE_ARTIFACT_SHA256:-?})"
work=$(mktemp -d)
# the datastore: the training configuration, its inputs pointed at the mounts
# and its time range at the analysis
python - "$A/configs" "$work" "$IN" "$ANALYSIS_TIME" "$steps" <<'PY'
import glob, os, sys, yaml
configs, work, inputs, t, steps = sys.argv[1:]
for path in glob.glob(os.path.join(configs, "*.datastore.yaml")):
    cfg = yaml.safe_load(open(path))
    for name, inp in cfg.get("inputs", {}).items():
        kind = "pressure_levels" if "pressure" in name or "pressure" in inp["path"] else "single_levels"
        inp["path"] = os.path.join(inputs, f"{kind}.zarr")
    cfg["output"]["coord_ranges"]["time"].update(start=t.rstrip("Z"), end=t.rstrip("Z"))
    yaml.safe_dump(cfg, open(os.path.join(work, os.path.basename(path)), "w"))
PY
cp "$A/configs/config.yaml" "$work/config.yaml"
for d in "$work"/*.datastore.yaml; do python -m mllam_data_prep "$d"; done
cp -r "$A"/stats/* "$work/" 2>/dev/null || true
python -m neural_lam.train_model --config_path "$work/config.yaml" --eval test \
    --load "$A/checkpoint.pkl" --ar_steps_eval "$steps" --save_eval_to_zarr_path "$work/forecast.zarr"
python - "$work/forecast.zarr" "$OUT" <<'PY'
import sys, xarray as xr
fc = xr.open_zarr(sys.argv[1])
for kind in ("pressure_levels", "single_levels"):
    names = [v for v in fc.data_vars if ("_" in v and v.rsplit("_", 1)[-1].isdigit()) == (kind == "pressure_levels")]
    fc[names].to_zarr(f"{sys.argv[2]}/{kind}.zarr", mode="w-", consolidated=True)
PY
echo "neural-lam-dini: wrote $OUT/pressure_levels.zarr and $OUT/single_levels.zarr"
