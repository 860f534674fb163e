"""advection-cnn's entry point in its inference image.

Reads the analysis zarr mounted at INPUT (t2m(time, y, x); the field at
ANALYSIS_TIME), standardises it with the inference artifact's statistics,
runs the network one hour at a time up to FORECAST_DURATION, and writes a
CF-style zarr to OUTPUT: t2m(time, lead_time, y, x) with valid_time, and
attributes naming the artifact, its checksum and the checkpoint's.
Environment (set by mlwm): ANALYSIS_TIME, FORECAST_DURATION; from the image:
INFERENCE_ARTIFACT, INFERENCE_ARTIFACT_SHA256 (mlwm build-image's build
arguments). Exit 2 on bad input, with one line saying what was expected.
"""
import time

STARTED = time.time()  # before the imports: they are part of the start-up cost

import datetime  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import xarray as xr  # noqa: E402
import yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import model  # noqa: E402

ARTIFACT = os.path.join(HERE, "artifact")
INPUT = os.environ.get("INPUT", "/volume/inputs/analysis.zarr")
OUTPUT = os.environ.get("OUTPUT", "/volume/outputs/forecast.zarr")


def fail(msg):
    print(f"advection-cnn: {msg}", file=sys.stderr)
    sys.exit(2)


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main():
    imported = time.time()
    analysis = os.environ.get("ANALYSIS_TIME", "")
    try:
        t0 = np.datetime64(analysis.rstrip("Z"), "ns")
    except ValueError:
        fail(f"ANALYSIS_TIME '{analysis}': expected an ISO 8601 time such as 2023-10-01T12:00:00Z")
    net, ckpt = model.load_checkpoint(os.path.join(ARTIFACT, "checkpoint.pkl"))
    stats_zarr = xr.open_zarr(os.path.join(ARTIFACT, "stats", "advection.datastore.stats.zarr"))
    var = ckpt["variable"]
    stats = {k: float(stats_zarr[f"state__train__{k}"].sel(state_feature=var))
             for k in ("mean", "std", "diff_mean", "diff_std")}
    try:
        steps = model.steps_for(os.environ.get("FORECAST_DURATION", "PT6H"), ckpt["step_hours"])
    except ValueError as e:
        fail(str(e))
    with open(os.path.join(ARTIFACT, "artifact.yaml")) as f:
        provenance = yaml.safe_load(f)
    loaded = time.time()

    if not os.path.exists(os.path.join(INPUT, ".zgroup")):
        fail(f"{INPUT} is not a zarr store (no .zgroup)")
    ds = xr.open_zarr(INPUT)
    if var not in ds:
        fail(f"{INPUT} has no variable {var} (it has {', '.join(map(str, ds.data_vars))})")
    if "time" in ds[var].dims:
        if t0 not in ds["time"].values:
            fail(f"{INPUT}: no {var} at ANALYSIS_TIME {analysis} (times: {ds['time'].values})")
        field = ds[var].sel(time=t0)
    else:
        field = ds[var]
    if field.dims != ("y", "x"):
        fail(f"{INPUT}: {var} has dimensions {field.dims}, expected (time,) y, x")
    x0 = field.values.astype(np.float32)

    computing = time.time()
    fields = model.forecast(net, stats, x0, steps)
    computed = time.time()

    lead = np.arange(1, steps + 1) * np.timedelta64(int(ckpt["step_hours"] * 3600), "s")
    lead = lead.astype("timedelta64[ns]")
    out = xr.Dataset(
        {var: (("time", "lead_time", "y", "x"), fields[None],
               {"units": "K", "standard_name": "air_temperature",
                "long_name": "2 m temperature forecast"})},
        coords={"time": ("time", [t0], {"standard_name": "forecast_reference_time"}),
                "lead_time": ("lead_time", lead, {"standard_name": "forecast_period"}),
                "valid_time": (("time", "lead_time"), (t0 + lead)[None], {"standard_name": "time"}),
                "y": ds["y"], "x": ds["x"]},
        attrs={"Conventions": "CF-1.8",
               "title": "advection-cnn forecast",
               "source": "advection-cnn (a convolutional network, PyTorch " + torch.__version__ + ")",
               "inference_artifact": os.environ.get("INFERENCE_ARTIFACT", ""),
               "inference_artifact_sha256": os.environ.get("INFERENCE_ARTIFACT_SHA256", ""),
               "artifact_name": str(provenance.get("artifact_name", "")),
               "checkpoint_sha256": str(provenance.get("files", {}).get("checkpoint.pkl", {}).get("sha256", "")),
               "analysis_time": analysis,
               "forecast_duration": os.environ.get("FORECAST_DURATION", "PT6H"),
               "timing_process_start": utc(STARTED),
               "timing_imports_s": round(imported - STARTED, 4),
               "timing_load_s": round(loaded - imported, 4),
               "timing_compute_s": round(computed - computing, 4),
               "timing_first_output": utc(time.time())})
    # OUTPUT is a mounted, empty folder: written into, not replaced
    out.to_zarr(OUTPUT, mode="w-", consolidated=True)
    print(f"advection-cnn: {steps} steps from {analysis} in {computed - computing:.3f} s "
          f"(start-up {computing - STARTED:.2f} s), wrote {OUTPUT}")


if __name__ == "__main__":
    main()
