#!/usr/bin/env bash
# tests/bench/daemon_idle.sh [BUILD_DIR] [MINUTES] [POLL_SECONDS] -- the daemon idle.
#
# A private Ceph radosgw holds 20 input prefixes (one per model) with 3000
# past analysis times each (hourly, the newest 3 days old: 60 000 analysis
# folders, one completion marker each). `mlwm daemon` runs with 20 models
# configured (catch_up P2D, so every past time expires without a request),
# polling every POLL_SECONDS (default 10). After its first poll has recorded
# the 60 000 runs, it is measured idle for MINUTES (default 5): resident
# memory (VmRSS, split into the daemon's own anonymous memory and the
# file-backed pages of shared libraries; PSS), CPU per poll and per hour, and
# S3 requests per poll (from its own /metrics, cross-checked with radosgw's
# operation log is not needed: the counts come from the requests mlwm sent).
# Peer, in the same run: the same polling loop in Python with botocore (what
# the aws CLI is built on), one long-lived process. Floor, in the same run: a
# program that loads the same shared libraries, initialises libcurl and does
# nothing (tests/bench/idle_floor.cpp). Targets: at most 15 MiB
# resident idle; at most 2 LIST requests per input prefix per poll.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../../build}" && pwd)
MINUTES=${2:-5}
POLL=${3:-10}
MLWM=$BUILD/daemon/mlwm
MODELS=20
TIMES=3000
PORT=${MLWM_BENCH_HTTP_PORT:-19387}
WORK=$(mktemp -d /tmp/mlwm-idlebench.XXXXXX)
DPID= PPID_= FPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    [ -n "$FPID" ] && kill "$FPID" 2>/dev/null
    [ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null
    "$here/../services/s3server.sh" stop "$WORK/s3" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
S3_BUCKETS="bench-in bench-out" "$here/../services/s3server.sh" start "$WORK/s3" "${MLWM_BENCH_S3_PORT:-7581}" >"$WORK/s3.out" 2>&1 ||
    { cat "$WORK/s3.out" >&2; exit 1; }
set -a; . "$WORK/s3/s3.env"; set +a
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r); server: Ceph radosgw $(radosgw --version | awk '{print $3}') on loopback"
echo "mlwm $("$MLWM" --version | cut -d' ' -f2-); peer: python3 $(python3 -c 'import sys; print(sys.version.split()[0])'), botocore $(python3 -c 'import botocore; print(botocore.__version__)')"

# --- the bucket: 20 prefixes x 3000 analysis times, one marker object each
sample=$("$MLWM" paths create --model-name src00 --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time 2023-01-01T00:00Z --data-kind single_levels)
python3 - "$WORK/tree" "$sample" "$MODELS" "$TIMES" <<'PY'
import datetime, os, sys
root, sample, models, times = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
parts = sample.split("/")  # model/config/bbox/resolution/time/member/kind
newest = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=3)
for m in range(models):
    for i in range(times):
        t = (newest - datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H%MZ")
        d = os.path.join(root, f"src{m:02d}", *parts[1:4], t, *parts[5:])
        os.makedirs(d)
        open(os.path.join(d, ".zmetadata"), "w").write("{}")
PY
start=$(date +%s)
"$MLWM" cp --recursive --quiet "$WORK/tree" s3://bench-in/ 2>"$WORK/cp.err" || { cat "$WORK/cp.err" >&2; exit 1; }
echo "bucket: $((MODELS * TIMES)) analysis folders under $MODELS prefixes, uploaded in $(($(date +%s) - start)) s"
rm -rf "$WORK/tree"

# --- 20 model configurations reading them
for m in $(seq -w 0 $((MODELS - 1))); do
    mkdir -p "$WORK/configurations/m$m"
    cat >"$WORK/configurations/m$m/config.yaml" <<CONF
docker_image: mlwm-test/busybox:1
inputs:
  state:
    uri_args:
      bbox: {lon_min: 12.5, lat_min: 45.65, lon_max: 24.52, lat_max: 64.40}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: single_levels
      model_name: src$m
      model_config: danra
      bucket_name: bench-in
    internal_path: /in/state.zarr
outputs:
  forecast:
    uri: s3://bench-out/m$m/{analysis_time}/forecast.zarr
    internal_path: /out/forecast.zarr
catch_up: P2D
CONF
done
cat >"$WORK/mlwm.yaml" <<CONF
storage: {type: s3, endpoint: $S3_ENDPOINT}
docker: {socket: ${MLWM_BENCH_DOCKER_SOCKET:-/var/run/docker.sock}}
work_dir: $WORK/work
configurations_dir: $WORK/configurations
state_dir: $WORK/state
http: {listen: 127.0.0.1:$PORT}
daemon: {poll_interval: $POLL}
CONF
"$MLWM" validate --config "$WORK/mlwm.yaml" >/dev/null

metric_sum() {  # REGEX: the sum of the daemon's samples matching it
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v re="$1" '$0 ~ re && !/^#/ {s += $NF} END {printf "%d\n", s}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
HZ=$(getconf CLK_TCK)

# --- the daemon: start, first poll (catch-up), then idle
t0=$(date +%s.%N)
"$MLWM" daemon --config "$WORK/mlwm.yaml" >"$WORK/daemon.log" 2>&1 &
DPID=$!
expired() { curl -s "http://127.0.0.1:$PORT/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs_by_state"]["expired"])' 2>/dev/null || echo 0; }
until [ "$(expired)" -ge $((MODELS * TIMES)) ]; do
    kill -0 "$DPID" || { tail "$WORK/daemon.log" >&2; exit 1; }
    sleep 0.5
done
t1=$(date +%s.%N)
first_list=$(metric_sum 'mlwm_s3_requests_total\{operation="ListObjectsV2"')
first_head=$(metric_sum 'mlwm_s3_requests_total\{operation="HeadObject"')
echo "first poll: $((MODELS * TIMES)) runs recorded as expired in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s after the start; $first_list LIST, $first_head HEAD requests; peak RSS $(($(kib "$DPID" VmHWM) / 1024)) MiB"

# the peer: the same polling loop in Python/botocore
prefixes=()
for m in $(seq -w 0 $((MODELS - 1))); do prefixes+=("$(dirname "$(dirname "$(echo "$sample" | sed "s/^src00/src$m/")")")/"); done
python3 "$here/idle_peer.py" "$S3_ENDPOINT" bench-in "$POLL" "${prefixes[@]}" >"$WORK/peer.out" 2>&1 &
PPID_=$!
until [ "$(cat "$WORK/peer.out" 2>/dev/null | grep -c poll)" -ge 1 ]; do sleep 0.2; done

# the floor: the same shared libraries loaded and libcurl initialised, nothing done
FLOOR=$BUILD/tests/bench/mlwm_bench_idle_floor
# every library loaded, its dependencies' dependencies too (libspdlog brings
# libfmt whether or not a binary names it)
loaded() { ldd "$1" | awk '{print $1}' | sort; }
[ "$(loaded "$FLOOR")" = "$(loaded "$MLWM")" ] || { echo "the floor program does not load mlwm's libraries" >&2; exit 1; }
"$FLOOR" &
FPID=$!

sleep $((2 * POLL))  # settle
polls_a=$(metric_sum '^mlwm_polls_total'); list_a=$(metric_sum 'mlwm_s3_requests_total\{operation="ListObjectsV2"')
head_a=$(metric_sum 'mlwm_s3_requests_total\{operation="HeadObject"'); cpu_a=$(cpu_ticks "$DPID")
peer_polls_a=$(grep -c poll "$WORK/peer.out"); peer_cpu_a=$(cpu_ticks "$PPID_")
rss_max=0 peer_rss_max=0 floor_rss_max=0
end=$(($(date +%s) + MINUTES * 60))
while [ "$(date +%s)" -lt "$end" ]; do
    r=$(kib "$DPID" VmRSS); [ "$r" -gt "$rss_max" ] && rss_max=$r
    r=$(kib "$PPID_" VmRSS); [ "$r" -gt "$peer_rss_max" ] && peer_rss_max=$r
    r=$(kib "$FPID" VmRSS); [ "$r" -gt "$floor_rss_max" ] && floor_rss_max=$r
    sleep 2
done
polls_b=$(metric_sum '^mlwm_polls_total'); list_b=$(metric_sum 'mlwm_s3_requests_total\{operation="ListObjectsV2"')
head_b=$(metric_sum 'mlwm_s3_requests_total\{operation="HeadObject"'); cpu_b=$(cpu_ticks "$DPID")
peer_polls_b=$(grep -c poll "$WORK/peer.out"); peer_cpu_b=$(cpu_ticks "$PPID_")

polls=$((polls_b - polls_a)); peer_polls=$((peer_polls_b - peer_polls_a))
# resident KiB by mapping (a file's name, or [heap], [stack], [anon]) of a process
rss_by_mapping() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "") ? "[anon]" : $6; sub(/.*\//, "", name)}
         /^Rss:/ {kb[name] += $2} END {for (n in kb) print n, kb[n]}' "/proc/$1/smaps"
}
rss_by_mapping "$DPID" >"$WORK/rss.mlwm"; rss_by_mapping "$FPID" >"$WORK/rss.floor"
python3 - <<PY
hz, poll, models = $HZ, $POLL, $MODELS
polls, lists, heads, cpu = $polls, $list_b - $list_a, $head_b - $head_a, ($cpu_b - $cpu_a) / hz
peer_polls, peer_cpu = $peer_polls, ($peer_cpu_b - $peer_cpu_a) / hz
rss, anon, pss, hwm = $rss_max / 1024, $(kib "$DPID" RssAnon) / 1024, $(pss "$DPID") / 1024, $(kib "$DPID" VmHWM) / 1024
peer_rss, floor_rss, libs = $peer_rss_max / 1024, $floor_rss_max / 1024, $(loaded "$MLWM" | wc -l)
per_poll = cpu / polls if polls else float("nan")
peer_per_poll = peer_cpu / peer_polls if peer_polls else float("nan")
print(f"idle for $MINUTES min, polling every {poll} s: {polls} polls")
print(f"  mlwm daemon:    {lists / polls / models:.2f} LIST per prefix per poll ({lists} LIST, {heads} HEAD), "
      f"CPU {per_poll * 1000:.1f} ms per poll = {per_poll * 3600 / poll:.1f} s/hour at this interval, "
      f"{per_poll * 120:.1f} s/hour at the default 30 s")
print(f"  python/botocore: CPU {peer_per_poll * 1000:.1f} ms per poll = {peer_per_poll * 3600 / poll:.1f} s/hour at this interval")
print(f"  CPU per poll mlwm/peer: {per_poll / peer_per_poll:.3f}")
print(f"  resident: mlwm VmRSS {rss:.1f} MiB (max over the window; own anonymous memory {anon:.1f} MiB, "
      f"file-backed shared-library pages {rss - anon:.1f} MiB; PSS {pss:.1f} MiB; peak since start {hwm:.1f} MiB); "
      f"python/botocore {peer_rss:.1f} MiB; ratio {rss / peer_rss:.2f}")
print(f"  floor: a program that loads the same {libs} libraries (and what they load), initialises libcurl and "
      f"does nothing: VmRSS {floor_rss:.1f} MiB; mlwm's own share of its VmRSS: {rss - floor_rss:.1f} MiB")
def mappings(path):
    return {n: int(k) for n, k in (line.split() for line in open(path))}
mine, floor = mappings("$WORK/rss.mlwm"), mappings("$WORK/rss.floor")
diff = sorted(((mine.get(n, 0) - floor.get(n, 0), n) for n in set(mine) | set(floor)), reverse=True)
print("  where mlwm's share is (resident KiB, mlwm - floor, now): " +
      ", ".join(f"{n} {d:+d}" for d, n in diff[:8]))
ok_list = lists / polls / models <= 2
ok_rss = rss <= 15
ok_share = rss - floor_rss <= 8
print(f"targets: LIST per prefix per poll <= 2: {'met' if ok_list else 'MISSED'}; "
      f"own share (VmRSS - floor) <= 8 MiB: {'met' if ok_share else 'MISSED'} ({rss - floor_rss:.1f} MiB); "
      f"resident <= 15 MiB: {'met' if ok_rss else 'MISSED'} (VmRSS {rss:.1f} MiB, of which {floor_rss:.1f} MiB "
      f"is the floor of the libraries)")
PY
