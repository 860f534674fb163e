#!/usr/bin/env bash
# tests/bench/s3_transfer.sh [BUILD_DIR] [ROUNDS] -- S3 transfer benchmark.
#
# Builds a zarr-like store on a private Ceph radosgw (2000 objects of 64 KiB,
# and 8 of 64 MiB), then, in one run, downloads and uploads each set with
# `mlwm cp --recursive` (its default concurrency, 64 requests in flight),
# `rclone copy --transfers 16 --checkers 16` and
# `aws s3 cp --recursive`, ROUNDS times (default 3), rotating the order of the
# tools every round. Prints per tool and case the median wall seconds and
# client CPU seconds (user+sys, from /usr/bin/time), and the ratios
# mlwm/rclone and mlwm/aws. Targets: wall <= 0.67x rclone on the small
# objects, <= 1.0x on the large ones; client CPU <= 0.5x rclone's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../../build}" && pwd)
ROUNDS=${2:-3}
MLWM=$BUILD/daemon/mlwm
WORK=$(mktemp -d /tmp/mlwm-s3bench.XXXXXX)
trap '"$here/../services/s3server.sh" stop "$WORK/s3" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
command -v rclone >/dev/null && [ -x /usr/bin/aws ] && [ -x /usr/bin/time ] || {
    echo "needs rclone, awscli and time: tests/install-deps.sh" >&2; exit 2; }

S3_BUCKETS=bench "$here/../services/s3server.sh" start "$WORK/s3" "${MLWM_BENCH_S3_PORT:-7580}" >"$WORK/s3.out" 2>&1 ||
    { cat "$WORK/s3.out" >&2; exit 1; }
set -a; . "$WORK/s3/s3.env"; set +a
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Ceph RCLONE_CONFIG_S3_ENDPOINT=$S3_ENDPOINT \
    RCLONE_CONFIG_S3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    RCLONE_CONFIG_S3_REGION=$AWS_DEFAULT_REGION
unset AWS_CA_BUNDLE

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"); server: Ceph radosgw $(radosgw --version | awk '{print $3}') on loopback"
echo "tools: mlwm $("$MLWM" --version | cut -d' ' -f2-), $(rclone version | head -1), $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1)"

# the data: a zarr-like store
mkdir -p "$WORK/small/x.zarr/data" "$WORK/large/y.zarr/data"
echo '{"zarr_consolidated_format":1}' >"$WORK/small/x.zarr/.zmetadata"
head -c $((2000 * 65536)) /dev/urandom | split -b 65536 -a 4 -d - "$WORK/small/x.zarr/data/0."
rm -f "$WORK/small/x.zarr/.zmetadata"  # exactly 2000 objects
for i in 0 1 2 3 4 5 6 7; do head -c $((64 << 20)) /dev/urandom >"$WORK/large/y.zarr/data/$i.0"; done
"$MLWM" cp --recursive --quiet "$WORK/small" s3://bench/seed/small 2>/dev/null
"$MLWM" cp --recursive --quiet "$WORK/large" s3://bench/seed/large 2>/dev/null

measure() {  # NAME CASE DIRECTION CMD...  -> appends "tool case dir wall cpu" to results
    local tool=$1 case=$2 dir=$3
    shift 3
    sync
    /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    read -r wall user sys <"$WORK/time"
    echo "$tool $case $dir $wall $(awk "BEGIN{print $user+$sys}")" >>"$WORK/results"
}
run_tool() {  # TOOL CASE ROUND
    local tool=$1 case=$2 r=$3 d=$WORK/down-$1-$2-$3 up=up/$1-$2-$3
    case $tool in
    mlwm)
        measure mlwm "$case" down "$MLWM" cp --recursive --quiet "s3://bench/seed/$case" "$d"
        measure mlwm "$case" up "$MLWM" cp --recursive --quiet "$WORK/$case" "s3://bench/$up" ;;
    rclone)
        measure rclone "$case" down rclone copy --transfers 16 --checkers 16 "s3:bench/seed/$case" "$d"
        measure rclone "$case" up rclone copy --transfers 16 --checkers 16 "$WORK/$case" "s3:bench/$up" ;;
    aws)
        measure aws "$case" down /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --only-show-errors "s3://bench/seed/$case" "$d"
        measure aws "$case" up /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --only-show-errors "$WORK/$case" "s3://bench/$up" ;;
    esac
    diff -rq "$WORK/$case" "$d" >/dev/null || { echo "$tool: downloaded $case differs" >&2; exit 1; }
    # downloads are kept until the end: deleting thousands of files makes the
    # next run's file creations slow (ext4 skips recently deleted inodes),
    # which would charge one tool for the previous one's clean-up
    "$MLWM" ls --recursive "s3://bench/$up" | awk '{print $NF}' | wc -l | grep -qx "$( find "$WORK/$case" -type f | wc -l)" ||
        { echo "$tool: uploaded $case is incomplete" >&2; exit 1; }
}
: >"$WORK/results"
tools=(mlwm rclone aws)
for r in $(seq "$ROUNDS"); do
    for k in 0 1 2; do
        tool=${tools[$(((r + k) % 3))]}
        for case in small large; do run_tool "$tool" "$case" "$r"; done
    done
    echo "round $r of $ROUNDS done" >&2
done

/usr/bin/python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for tool, case, d, wall, cpu in rows:
    med.setdefault((tool, case, d), []).append((float(wall), float(cpu)))
print(f"{'case':<22}{'tool':<8}{'wall s':>8}{'CPU s':>8}")
for case, label in (("small", "2000 x 64 KiB"), ("large", "8 x 64 MiB")):
    for d in ("down", "up"):
        for tool in ("mlwm", "rclone", "aws"):
            v = med[(tool, case, d)]
            print(f"{label + ' ' + d:<22}{tool:<8}{statistics.median(w for w, _ in v):>8.2f}{statistics.median(c for _, c in v):>8.2f}")
ok = True
print()
for case, wall_target in (("small", 0.67), ("large", 1.0)):
    for d in ("down", "up"):
        m = [statistics.median(x[i] for x in med[("mlwm", case, d)]) for i in (0, 1)]
        rc = [statistics.median(x[i] for x in med[("rclone", case, d)]) for i in (0, 1)]
        aw = [statistics.median(x[i] for x in med[("aws", case, d)]) for i in (0, 1)]
        wr, cr = m[0] / rc[0], m[1] / rc[1]
        good = wr <= wall_target and cr <= 0.5
        ok &= good
        print(f"{case} {d}: mlwm/rclone wall {wr:.2f} (target <= {wall_target}), CPU {cr:.2f} (target <= 0.5); "
              f"mlwm/aws wall {m[0] / aw[0]:.2f}, CPU {m[1] / aw[1]:.2f}  {'ok' if good else 'MISSED'}")
print("targets", "met" if ok else "NOT met")
PY
