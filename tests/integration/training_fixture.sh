# Sourced by the tests: the files of a neural-lam training run, as a model team
# has them when it builds an inference artifact.
# make_training_folder DIR: DIR/config.yaml (mdp datastore), DIR/data/
# danra.datastore.{yaml,zarr} (the zarr written by xarray, with statistics
# variables), DIR/training_cli_args.yaml, DIR/last.ckpt (5 MB of random bytes).
make_training_folder() {
    mkdir -p "$1/data"
    cat >"$1/config.yaml" <<'YAML'
datastore:
  kind: mdp
  config_path: data/danra.datastore.yaml
training:
  state_feature_weighting: {}
YAML
    echo "schema_version: v0.5.0" >"$1/data/danra.datastore.yaml"
    printf -- '- num_workers: 6\n- precision: bf16-mixed\n- val_steps_to_log: 1 2 4\n' >"$1/training_cli_args.yaml"
    head -c 5000000 /dev/urandom >"$1/last.ckpt"
    /usr/bin/python3 - "$1/data/danra.datastore.zarr" <<'PY'
import sys, numpy as np, xarray as xr
rng = np.random.default_rng(3)
feats = ["t2m", "u10", "v10"]
ds = xr.Dataset(
    {"state": (("time", "grid_index", "state_feature"), rng.normal(size=(4, 50, 3))),
     "state__train__mean": (("state_feature",), rng.normal(size=3)),
     "state__train__std": (("state_feature",), rng.random(3) + 0.5),
     "state__train__diff_std": (("state_feature",), rng.random(3)),
     "forcing__train__std": (("forcing_feature",), rng.random(2))},
    coords={"state_feature": feats, "forcing_feature": ["toa", "sst"],
            "time": np.arange(4), "grid_index": np.arange(50)})
ds.to_zarr(sys.argv[1], consolidated=True, mode="w")
PY
}
