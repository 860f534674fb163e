#!/usr/bin/env python3
"""Write a tiny, valid zarr v2 store (consolidated) with the standard library only.

usage: make_sample_zarr.py DIR ANALYSIS_TIME

A 2 m temperature field t2m(time, y, x) on a 4 x 5 grid with its coordinates,
uncompressed, as an upstream producer would write an analysis: the sample
input of the quick start. xarray.open_zarr(DIR) reads it.
"""
import json
import math
import os
import struct
import sys


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else json.dumps(data, indent=2).encode())


def main():
    out, analysis_time = sys.argv[1], sys.argv[2]
    ny, nx = 4, 5
    meta = {
        ".zgroup": {"zarr_format": 2},
        ".zattrs": {"title": "mlwm quick start sample analysis", "analysis_time": analysis_time},
    }

    def array(name, dims, shape, dtype, values, attrs, fill):
        zarray = {"chunks": shape, "compressor": None, "dtype": dtype, "fill_value": fill, "filters": None,
                  "order": "C", "shape": shape, "zarr_format": 2}
        zattrs = dict(attrs, _ARRAY_DIMENSIONS=dims)
        meta[f"{name}/.zarray"], meta[f"{name}/.zattrs"] = zarray, zattrs
        fmt = {"<f4": "f", "<i8": "q"}[dtype]
        write(os.path.join(out, name, ".".join("0" for _ in shape)), struct.pack(f"<{len(values)}{fmt}", *values))

    array("time", ["time"], [1], "<i8", [0],
          {"units": f"hours since {analysis_time.replace('T', ' ').rstrip('Z')}", "calendar": "proleptic_gregorian"},
          None)
    array("y", ["y"], [ny], "<f4", [6000000.0 + 2500.0 * j for j in range(ny)], {"units": "m"}, "NaN")
    array("x", ["x"], [nx], "<f4", [-500000.0 + 2500.0 * i for i in range(nx)], {"units": "m"}, "NaN")
    t2m = [283.15 + 5.0 * math.sin(i / 3.0) - 0.5 * j for j in range(ny) for i in range(nx)]
    array("t2m", ["time", "y", "x"], [1, ny, nx], "<f4", t2m,
          {"units": "K", "long_name": "2 metre temperature"}, "NaN")
    for key, value in meta.items():
        write(os.path.join(out, key), value)
    # consolidated metadata last: it is what marks the store complete
    write(os.path.join(out, ".zmetadata"), {"metadata": meta, "zarr_consolidated_format": 1})


if __name__ == "__main__":
    main()
