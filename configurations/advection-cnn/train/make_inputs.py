#!/usr/bin/env python3
"""Write advection-cnn's input, analyses, under the standard key layout.

usage: make_inputs.py OUT_DIR ANALYSIS_TIME... [--mlwm PATH]

For each analysis time (2023-10-01T12:00Z), OUT_DIR/<key>/ receives a
consolidated zarr written by xarray: t2m(time, y, x) in K on a 40 x 56 grid
(2.5 km), one time, a field of smooth blobs seeded by the analysis time. The
key is the one config.yaml's input names (`mlwm paths create` with its
uri_args), so `aws s3 cp --recursive OUT_DIR s3://BUCKET/` puts every analysis
where the daemon looks for it. Prints one key per line.
"""
import argparse
import hashlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import xarray as xr
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import model  # noqa: E402

NY, NX = 40, 56


def key(mlwm, uri_args, analysis_time):
    b, r = uri_args["bbox"], uri_args["resolution"]
    fl = lambda v: repr(float(v))  # noqa: E731  (numbers as the configuration loads them)
    return subprocess.run(
        [mlwm, "paths", "create", "--model-name", uri_args["model_name"],
         "--model-config", uri_args["model_config"],
         "--bbox", ",".join(fl(b[k]) for k in ("lon_min", "lat_min", "lon_max", "lat_max")),
         "--resolution", f"{fl(r['lon_resolution'])},{fl(r['lat_resolution'])},{r['unit']}",
         "--analysis-time", analysis_time, "--data-kind", uri_args["data_kind"]],
        check=True, capture_output=True, text=True).stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("analysis_times", nargs="+")
    p.add_argument("--mlwm", default="mlwm", help="the mlwm binary (default: mlwm on PATH)")
    args = p.parse_args()
    with open(os.path.join(HERE, "..", "config.yaml")) as f:
        uri_args = yaml.safe_load(f)["inputs"]["analysis"]["uri_args"]
    for t in args.analysis_times:
        k = key(args.mlwm, uri_args, t)
        seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little")
        field = model.synthetic_field(np.random.default_rng(seed), NY, NX, 0, (0.5, 1.0))
        ds = xr.Dataset(
            {"t2m": (("time", "y", "x"), field[None],
                     {"units": "K", "standard_name": "air_temperature", "long_name": "2 m temperature"})},
            coords={"time": pd.to_datetime([t.replace("Z", "")]),
                    "y": ("y", np.arange(NY) * 2500.0, {"units": "m"}),
                    "x": ("x", np.arange(NX) * 2500.0, {"units": "m"})},
            attrs={"title": "advection-cnn sample analysis", "analysis_time": t})
        ds.to_zarr(os.path.join(args.out_dir, k), mode="w", consolidated=True)
        print(k)


if __name__ == "__main__":
    main()
