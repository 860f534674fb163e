#!/usr/bin/env bash
# `mlwm paths create` / `mlwm paths parse` through the real binary.
source "$(dirname "$0")/lib.sh"
MLWM=$1
KEY=harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/pressure_levels.zarr
create() {
    run "$MLWM" paths create --model-name harmonie_cy46 --model-config danra "$@" --data-kind pressure_levels
}

# the README example
create --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km --analysis-time 2023-10-01T12:00Z
expect_status 0
expect_stdout "$KEY"

# other spellings of the same time give the same key
for t in 2023-10-01T1200Z 2023-10-01T12:00:00Z 2023-10-01T14:00:00+02:00 2023-10-01T07:00-05:00; do
    create --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km --analysis-time "$t"
    expect_status 0
    expect_stdout "$KEY"
done

# numbers are taken as written; member; bucket
create --bbox -10.5,35,10.5,45.0 --resolution 2500,2500,m --analysis-time 2023-10-01T00:00Z --member 3 --bucket my-bucket
expect_status 0
expect_stdout "s3://my-bucket/harmonie_cy46/danra/w-10p5_s35_e10p5_n45p0/dx2500m_dy2500m/2023-10-01T0000Z/member3/pressure_levels.zarr"

# parse: JSON, integers stay integers
run "$MLWM" paths parse "$KEY"
expect_status 0
expect_stdout '{"model_name":"harmonie_cy46","model_config":"danra","bbox":{"lon_min":12.5,"lat_min":45.65,"lon_max":24.52,"lat_max":64.4},"resolution":{"lon_resolution":2.5,"lat_resolution":2.5,"unit":"km"},"analysis_time":"2023-10-01T12:00:00Z","member":0,"data_kind":"pressure_levels"}'

run "$MLWM" paths parse "s3://forecast-data/m/c/w-10_s50p0_e10_n60p0/dx2000m_dy2500m/2024-02-29T0600Z/member7/single_levels.zarr"
expect_status 0
expect_stdout '{"bucket":"forecast-data","model_name":"m","model_config":"c","bbox":{"lon_min":-10,"lat_min":50.0,"lon_max":10,"lat_max":60.0},"resolution":{"lon_resolution":2000,"lat_resolution":2500,"unit":"m"},"analysis_time":"2024-02-29T06:00:00Z","member":7,"data_kind":"single_levels"}'

# the JSON is what Python reads, with int/float kept
if [ -x /usr/bin/python3 ]; then
    run /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(type(d["bbox"]["lon_min"]).__name__, type(d["bbox"]["lat_min"]).__name__)' "$OUT"
    expect_stdout "int float"
fi

run "$MLWM" paths parse --format text "$KEY"
expect_status 0
expect_stdout_contains "analysis time  2023-10-01T12:00:00Z"
expect_stdout_contains "resolution     dx 2.5 km, dy 2.5 km"

# non-canonical numbers parse (and the JSON has the value)
run "$MLWM" paths parse harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p40/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/pressure_levels.zarr
expect_status 0
expect_stdout_contains '"lat_max":64.4'

# bad input: exit 2, one line on stderr naming the part
bad_parse() {
    run "$MLWM" paths parse "$1"
    expect_status 2
    expect_stdout_empty
    expect_stderr_one_line
    expect_stderr_contains "$2"
}
bad_parse "a/b/c" "expected 7"
bad_parse "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5mi/2023-10-01T1200Z/member0/pressure_levels.zarr" "segment 4 (resolution)"
bad_parse "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-02-30T1200Z/member0/pressure_levels.zarr" "segment 5 (analysis time)"
bad_parse "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member-1/pressure_levels.zarr" "segment 6 (member)"
bad_parse "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/pressure_levels" "segment 7 (data kind)"
bad_parse "harmonie_cy46/danra/w1e5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/pressure_levels.zarr" "segment 3 (bbox)"

bad_create() {
    run "$MLWM" paths create --model-name m --model-config c --data-kind k "$@"
    expect_status 2
    expect_stdout_empty
    expect_stderr_one_line
}
bad_create --bbox 1,2,3 --resolution 1,1,km --analysis-time 2023-10-01T12:00Z
expect_stderr_contains "--bbox"
bad_create --bbox 1,2,3,4 --resolution 1,1,miles --analysis-time 2023-10-01T12:00Z
expect_stderr_contains "miles"
bad_create --bbox 1e-5,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00Z
expect_stderr_contains "exponent"
bad_create --bbox 1,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00:30Z
expect_stderr_contains "seconds must be zero"
bad_create --bbox 1,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00
expect_stderr_contains "no time zone"
bad_create --bbox 1,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00Z --member -1
expect_stderr_contains "--member"
bad_create --bbox 1,2,3,4 --resolution 1,1,km
expect_stderr_contains "missing required option --analysis-time"
bad_create --bbox 1,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00Z --colour red
expect_stderr_contains "unknown option '--colour'"
bad_create --bbox 1,2,3,4 --resolution 1,1,km --analysis-time 2023-10-01T12:00Z --bucket Not_A_Bucket
expect_stderr_contains "bucket 'Not_A_Bucket'"

run "$MLWM" paths parse --format yaml "$KEY"
expect_status 2
expect_stderr_contains "--format 'yaml'"

finish
