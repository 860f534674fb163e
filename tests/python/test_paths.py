"""`import mlwm.paths`: the original mlwm's module, as a binding of mlwm's C++
key layout. The values are the original test suite's; the rest pins its
signatures and return types (dicts, naive UTC datetimes, int vs float) and
checks the binding against the `mlwm paths` command (one implementation).

Run: PYTHONPATH=<build>/python MLWM=<build>/daemon/mlwm python3 -m unittest tests/python/test_paths.py
"""
import datetime
import json
import os
import subprocess
import unittest

import mlwm.paths as mlwm_paths

BBOX = {"lon_min": -10.5, "lat_min": 35.0, "lon_max": 10.5, "lat_max": 45.0}
RESOLUTION = {"lon_resolution": 0.1, "lat_resolution": 0.2, "unit": "deg"}
TIME = datetime.datetime(2023, 1, 1, 12, 0, 0)


class OriginalValues(unittest.TestCase):
    def test_round_trip_number(self):
        for number in [123.456, 789, 0.0, -45.67]:
            parsed = mlwm_paths.parse_number(mlwm_paths.format_number(number))
            self.assertEqual(parsed, number)
            self.assertIs(type(parsed), type(number))

    def test_round_trip_bbox(self):
        text = mlwm_paths.format_bbox(**BBOX)
        self.assertEqual(text, "w-10p5_s35p0_e10p5_n45p0")
        self.assertEqual(mlwm_paths.parse_bbox(text), BBOX)

    def test_round_trip_resolution(self):
        text = mlwm_paths.format_resolution(**RESOLUTION)
        self.assertEqual(text, "dx0p1deg_dy0p2deg")
        self.assertEqual(mlwm_paths.parse_resolution(text), RESOLUTION)

    def test_round_trip_path(self):
        path = mlwm_paths.create_path(
            "harmonie_cy46", "default", BBOX, RESOLUTION, TIME, "surface_levels"
        )
        self.assertEqual(
            path,
            "harmonie_cy46/default/w-10p5_s35p0_e10p5_n45p0/dx0p1deg_dy0p2deg/"
            "2023-01-01T1200Z/member0/surface_levels.zarr",
        )
        self.assertEqual(
            mlwm_paths.parse_path(path),
            {
                "model_name": "harmonie_cy46",
                "model_config": "default",
                "bbox": BBOX,
                "resolution": RESOLUTION,
                "analysis_time": TIME,
                "data_kind": "surface_levels",
                "member": 0,
            },
        )


class Types(unittest.TestCase):
    def test_int_and_float_are_kept_apart(self):
        self.assertEqual(mlwm_paths.format_number(-10), "-10")
        self.assertEqual(mlwm_paths.format_number(-10.0), "-10p0")
        self.assertEqual(mlwm_paths.format_number(2500.0), "2500p0")
        self.assertIs(type(mlwm_paths.parse_number("12")), int)
        self.assertIs(type(mlwm_paths.parse_number("12p0")), float)
        res = mlwm_paths.parse_resolution("dx2500m_dy2p5m")
        self.assertEqual(res, {"lon_resolution": 2500, "lat_resolution": 2.5, "unit": "m"})
        self.assertIs(type(res["lon_resolution"]), int)

    def test_parse_path_types(self):
        parsed = mlwm_paths.parse_path(
            "m/FakeDINI+FakeIFS/w-10_s50p0_e10_n60p0/dx2p5km_dy2p5km/2024-02-29T0630Z/member12/single_levels.zarr"
        )
        self.assertEqual(parsed["model_config"], "FakeDINI+FakeIFS")
        self.assertIs(type(parsed["member"]), int)
        self.assertEqual(parsed["member"], 12)
        self.assertIsNone(parsed["analysis_time"].tzinfo)  # naive, UTC, as the original's
        self.assertEqual(parsed["analysis_time"], datetime.datetime(2024, 2, 29, 6, 30))
        self.assertIs(type(parsed["bbox"]["lon_min"]), int)
        self.assertIs(type(parsed["bbox"]["lat_min"]), float)

    def test_member_and_aware_times(self):
        plus_one = datetime.timezone(datetime.timedelta(hours=1))
        path = mlwm_paths.create_path(
            "m", "c", BBOX, RESOLUTION, datetime.datetime(2023, 1, 1, 13, 0, tzinfo=plus_one), "k", member=3
        )
        self.assertIn("/2023-01-01T1200Z/member3/k.zarr", path)
        utc = datetime.datetime(2023, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
        self.assertEqual(mlwm_paths.create_path("m", "c", BBOX, RESOLUTION, utc, "k"),
                         mlwm_paths.create_path("m", "c", BBOX, RESOLUTION, TIME, "k"))

    def test_module_constants(self):
        self.assertEqual(mlwm_paths.VALID_LENGTH_UNITS, ["m", "km", "deg"])
        self.assertEqual(mlwm_paths.DATETIME_FORMAT, "%Y-%m-%dT%H%MZ")
        self.assertEqual(TIME.strftime(mlwm_paths.DATETIME_FORMAT), "2023-01-01T1200Z")


class Errors(unittest.TestCase):
    def check(self, error, needle, fn, *args, **kwargs):
        with self.assertRaises(error) as caught:
            fn(*args, **kwargs)
        self.assertIn(needle, str(caught.exception))

    def test_bad_values(self):
        self.check(ValueError, "'abc' is not a number", mlwm_paths.parse_number, "abc")
        self.check(ValueError, "unsupported type str", mlwm_paths.format_number, "1.5")
        self.check(ValueError, "unsupported type bool", mlwm_paths.format_number, True)
        self.check(ValueError, "exponent", mlwm_paths.format_number, 1e16)
        self.check(ValueError, "unit 'mi'", mlwm_paths.format_resolution, 1, 1, "mi")
        self.check(ValueError, "expected 7", mlwm_paths.parse_path, "a/b/c")
        self.check(ValueError, "member", mlwm_paths.create_path, "m", "c", BBOX, RESOLUTION, TIME, "k", member=-1)
        self.check(ValueError, "model_name", mlwm_paths.create_path, "a/b", "c", BBOX, RESOLUTION, TIME, "k")

    def test_bad_arguments(self):
        self.check(TypeError, "missing key 'lat_max'", mlwm_paths.create_path, "m", "c",
                   {"lon_min": 1.0, "lat_min": 1.0, "lon_max": 2.0}, RESOLUTION, TIME, "k")
        self.check(TypeError, "unexpected key 'zoom'", mlwm_paths.create_path, "m", "c", BBOX,
                   dict(RESOLUTION, zoom=1), TIME, "k")
        self.check(TypeError, "datetime", mlwm_paths.create_path, "m", "c", BBOX, RESOLUTION,
                   "2023-01-01T12:00Z", "k")
        with self.assertRaises(TypeError):
            mlwm_paths.format_bbox(lon_min=1.0, lat_min=2.0, lon_max=3.0)


@unittest.skipUnless(os.environ.get("MLWM"), "MLWM (the mlwm binary) not set")
class SameAsTheCommand(unittest.TestCase):
    """The module and `mlwm paths` are one implementation: same keys, same parse."""

    def test_create_and_parse(self):
        cases = [
            ((12.5, 45.65, 24.52, 64.4), (2.5, 2.5, "km"), 0),
            ((-10, 50, 10, 60), (2500, 2500, "m"), 7),
            ((-10.0, 50.0, 10.0, 60.0), (0.025, 0.025, "deg"), 0),
        ]
        for bbox, res, member in cases:
            path = mlwm_paths.create_path(
                "harmonie_cy46", "danra",
                dict(zip(["lon_min", "lat_min", "lon_max", "lat_max"], bbox)),
                dict(zip(["lon_resolution", "lat_resolution", "unit"], res)),
                datetime.datetime(2023, 10, 1, 12), "pressure_levels", member=member,
            )
            out = subprocess.run(
                [os.environ["MLWM"], "paths", "create", "--model-name", "harmonie_cy46",
                 "--model-config", "danra", "--bbox", ",".join(map(str, bbox)),
                 "--resolution", ",".join(map(str, res)), "--analysis-time", "2023-10-01T12:00Z",
                 "--member", str(member), "--data-kind", "pressure_levels"],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
            self.assertEqual(path, out)
            parsed = json.loads(subprocess.run([os.environ["MLWM"], "paths", "parse", path],
                                               check=True, capture_output=True, text=True).stdout)
            mine = mlwm_paths.parse_path(path)
            self.assertEqual(parsed["bbox"], mine["bbox"])
            self.assertEqual(parsed["resolution"], mine["resolution"])
            self.assertEqual(parsed["member"], mine["member"])


if __name__ == "__main__":
    unittest.main()
