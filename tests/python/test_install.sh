#!/usr/bin/env bash
# `cmake --install` puts a working mlwm.paths into <prefix>/MLWM_PYTHON_DIR.
# usage: test_install.sh BUILD_DIR PYTHON PYTHON_DIR
set -euo pipefail
build=$1 python=$2 pydir=$3
prefix=$(mktemp -d /tmp/mlwm-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
[ -x "$prefix/bin/mlwm" ] || { echo "FAIL: $prefix/bin/mlwm not installed" >&2; exit 1; }
ls "$prefix/$pydir/mlwm/"paths*.so "$prefix/$pydir/mlwm/__init__.py" >/dev/null
got=$(cd / && PYTHONPATH="$prefix/$pydir" "$python" -c '
import datetime, mlwm.paths as p
print(p.__file__.startswith("'"$prefix"'"), p.create_path("harmonie_cy46", "danra",
      {"lon_min": -10.0, "lat_min": 50.0, "lon_max": 10.0, "lat_max": 60.0},
      {"lon_resolution": 2500.0, "lat_resolution": 2500.0, "unit": "m"},
      datetime.datetime(2023, 10, 1, 12), "pressure_levels"))')
want="True harmonie_cy46/danra/w-10p0_s50p0_e10p0_n60p0/dx2500p0m_dy2500p0m/2023-10-01T1200Z/member0/pressure_levels.zarr"
[ "$got" = "$want" ] || { echo "FAIL: installed module printed '$got', expected '$want'" >&2; exit 1; }
echo "installed mlwm.paths imports from $prefix/$pydir and creates the original's keys"
