#!/usr/bin/env bash
# tests/services/s3server.sh -- a private, throw-away but real S3 server on
# 127.0.0.1 for the integration tests and benchmarks: Ceph RADOS Gateway
# (Debian "radosgw" 16.2) on a one-node cluster: one ceph-mon, one ceph-osd
# (BlueStore on a sparse file, or MemStore), radosgw; no mgr, cephx off between
# the daemons (S3 clients still sign with SigV4, and radosgw checks it).
#
#   s3server.sh start DIR [PORT]   start (idempotent), print the connection
#                                  settings (also written to DIR/s3.env)
#   s3server.sh stop DIR [--purge] stop the processes recorded in DIR/run
#
# PORT: endpoint http://127.0.0.1:PORT (default 7480); PORT+1 is the monitor;
# the OSD takes free ports from Ceph's range 6800-7300. Everything binds to
# 127.0.0.1. DIR needs a filesystem with O_DIRECT for BlueStore (else MemStore).
# Environment: S3_ACCESS_KEY / S3_SECRET_KEY (default: AWS's documentation
# keys), S3_BUCKETS (buckets to create), S3_FRESH=1 (wipe data first),
# S3_CEPH_STORE=bluestore|memstore, S3_CEPH_BLOCK_GB (default 20),
# S3_START_TIMEOUT (default 90 s).
#
# Settings without which Ceph misbehaves here (found by the recipe in the
# project's shared notes): ms_*_mode=crc with auth none; fast paxos and radosgw
# started after the OSD; tcp_nodelay on the beast frontend (else ~40 ms per
# keep-alive request); osd_client_watch_timeout=10 (after a kill -9 of radosgw).
# Fallback documented in the notes: OpenStack Swift's s3api (Debian swift).
set -euo pipefail

die() { echo "s3server: ERROR: $*" >&2; exit 1; }
log() { echo "s3server: $*" >&2; }

case ${1:-} in
stop) shift; exec "$(dirname "$0")/s3server-stop.sh" "$@" ;;
start) shift ;;
*) die "usage: $0 start DIR [PORT] | stop DIR [--purge]" ;;
esac
now() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.1f\", $2-$1}"; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 DIR [PORT]"
T0=$(now)
PORT=${2:-7480}
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65530 ] || die "bad PORT '$PORT'"
BACKEND=ceph
REGION=us-east-1
PY=/usr/bin/python3
unset CEPH_ARGS CEPH_CONF || true

case $BACKEND in
ceph)
    ACCESS_KEY=${S3_ACCESS_KEY:-AKIAIOSFODNN7EXAMPLE}
    SECRET_KEY=${S3_SECRET_KEY:-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}
    [[ $ACCESS_KEY =~ ^[A-Za-z0-9]{3,128}$ ]] || die "S3_ACCESS_KEY: 3-128 alphanumeric characters"
    MON_PORT=$((PORT + 1)); PORTS="$PORT $MON_PORT"
    SERVERS="mon osd rgw"
    ;;
*) die "unknown backend";;
esac
[[ $SECRET_KEY =~ ^[A-Za-z0-9+/=._-]{3,128}$ ]] || die "secret key: use 3-128 of [A-Za-z0-9+/=._-]"

# ---------------------------------------------------------------- packages --
need_pkgs=()
if [ "$BACKEND" = ceph ]; then
    for b in radosgw radosgw-admin; do [ -x /usr/bin/$b ] || { need_pkgs+=(radosgw); break; }; done
    for b in ceph-mon monmaptool ceph-authtool ceph; do [ -x /usr/bin/$b ] || { need_pkgs+=(ceph-mon); break; }; done
    [ -x /usr/bin/ceph-osd ] || need_pkgs+=(ceph-osd)
fi
command -v curl >/dev/null || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing ${need_pkgs[*]} (apt-get)"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    # keep the packages' own system services (swift-proxy on :8080, memcached
    # on :11211, ceph targets, ...) from being started by the installation
    prc_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod 755 /usr/sbin/policy-rc.d; prc_created=1
    fi
    aptlog=$(mktemp)
    apt_install() {
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            -o DPkg::Lock::Timeout=300 --no-install-recommends "${need_pkgs[@]}" >>"$aptlog" 2>&1
    }
    rc=0
    apt_install || { $SUDO apt-get update -q >>"$aptlog" 2>&1 || true; apt_install || rc=$?; }
    [ "$prc_created" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
    [ $rc -eq 0 ] || { tail -n 20 "$aptlog" >&2; die "apt-get install failed (log: $aptlog)"; }
    rm -f "$aptlog"
fi

# ------------------------------------------------------------- directories --
[[ $1 =~ [[:space:]] ]] && die "DIR must not contain whitespace"
mkdir -p "$1"
DIR=$(cd "$1" && pwd -P)
ETC=$DIR/etc; RUN=$DIR/run; LOGD=$DIR/log
mkdir -p "$ETC" "$RUN" "$LOGD"

write_env() {
    cat >"$DIR/s3.env" <<EOF
S3_BACKEND=$BACKEND
S3_ENDPOINT=http://127.0.0.1:$PORT
AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
AWS_DEFAULT_REGION=$REGION
S3_REGION=$REGION
S3_PID_DIR=$RUN
S3_LOG_DIR=$LOGD
EOF
    # For curl (7.88):  curl --netrc-file DIR/etc/netrc --aws-sigv4 aws:amz:us-east-1:s3 \
    #                        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' URL
    # (the server requires x-amz-content-sha256 like AWS does, curl 7.88 does not send
    # it; netrc instead of --user because --user splits at the first ':')
    printf 'machine 127.0.0.1 login %s password %s\n' "$ACCESS_KEY" "$SECRET_KEY" >"$ETC/netrc"
    chmod 600 "$ETC/netrc"
}
print_info() {
    cat "$DIR/s3.env"
    log "endpoint http://127.0.0.1:$PORT  access key '$ACCESS_KEY'  secret '$SECRET_KEY'  ($BACKEND; env file $DIR/s3.env)"
}

# a PID is "ours" only if its command line refers to DIR/ (protects against PID reuse)
is_ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/"; }
our_pid() {  # recorded PID of server $1 if alive and ours
    local pid
    [ -s "$RUN/$1.pid" ] || return 1
    pid=$(head -n1 "$RUN/$1.pid")
    [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" && echo "$pid"
}
# every live process of ours in the process group of the recorded PID (each
# server is started with setsid, so that is the server plus any workers it
# forked, even if the recorded parent has died)
our_group() {
    local pid q f st pg
    [ -s "$RUN/$1.pid" ] || return 0
    pid=$(head -n1 "$RUN/$1.pid"); [[ $pid =~ ^[0-9]+$ ]] || return 0
    for f in /proc/[0-9]*/stat; do
        { st=$(<"$f"); } 2>/dev/null || continue
        st=${st##*) }                      # -> "state ppid pgrp ..."
        read -r _ _ pg _ <<<"$st"
        [ "$pg" = "$pid" ] || continue
        q=${f#/proc/}; q=${q%/stat}
        if is_ours "$q"; then echo "$q"; fi
    done
    return 0
}
s3_probe() {  # signed ListBuckets -> HTTP status
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 --netrc-file "$ETC/netrc" \
        --aws-sigv4 "aws:amz:$REGION:s3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "http://127.0.0.1:$PORT/" 2>/dev/null || true
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------- already running? --
all_up=1
for s in $SERVERS; do our_pid "$s" >/dev/null || { all_up=0; break; }; done
if [ $all_up = 1 ] && [ "${S3_FRESH:-0}" != 1 ] && [ -s "$DIR/s3.env" ] \
        && grep -qx "S3_ENDPOINT=http://127.0.0.1:$PORT" "$DIR/s3.env" \
        && grep -qx "S3_BACKEND=$BACKEND" "$DIR/s3.env" && [ "$(s3_probe)" = 200 ]; then
    log "already running in $DIR"
    print_info; exit 0
fi
# stop leftovers of an earlier run in this DIR (only processes recorded there)
stale=()
for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    s=$(basename "$f" .pid); stale+=($(our_group "$s")); rm -f "$f"
done
if [ ${#stale[@]} -gt 0 ]; then
    log "stopping leftover processes of an earlier run: ${stale[*]}"
    kill -TERM "${stale[@]}" 2>/dev/null || true
    for _ in $(seq 50); do             # 5 s grace (a radosgw whose OSD died hangs)
        alive=0; for q in "${stale[@]}"; do kill -0 "$q" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break; sleep 0.1
    done
    kill -KILL "${stale[@]}" 2>/dev/null || true
fi
for p in $PORTS; do port_busy "$p" && die "port 127.0.0.1:$p is already in use (needed: $PORTS)"; done
rm -f "$DIR/s3.env"

launch() {  # NAME CMD...: run detached (own session), record the PID of CMD
    local name=$1; shift
    T_LAUNCH=${T_LAUNCH:-$(now)}
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" \
        >>"$LOGD/$name.out" 2>&1 </dev/null &
    for _ in $(seq 50); do [ -s "$RUN/$name.pid" ] && return 0; sleep 0.02; done
    die "could not start $name"
}

# ===================================================================== ceph ==
start_ceph() {
    local store=${S3_CEPH_STORE:-} fsid osd_uuid conf=$ETC/ceph.conf marker=$ETC/cluster.ok
    if [ -z "$store" ]; then
        if dd if=/dev/zero of="$DIR/.odirect" bs=4096 count=1 oflag=direct 2>/dev/null; then
            store=bluestore; else store=memstore; fi
        rm -f "$DIR/.odirect"
    fi
    [ "$store" = bluestore ] || [ "$store" = memstore ] || die "S3_CEPH_STORE: bluestore or memstore"
    local want="port=$PORT store=$store"
    local reuse=0
    if [ "${S3_FRESH:-0}" != 1 ] && [ "$store" = bluestore ] && [ -s "$marker" ] \
            && [ "$(sed -n 1p "$marker")" = "$want" ]; then
        reuse=1; fsid=$(sed -n 2p "$marker")
    else
        [ -s "$marker" ] && log "re-creating the cluster in $DIR (fresh/changed settings or memstore)"
        rm -rf "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/crash" "$marker" "$ETC/monmap" "$ETC/keyring"
        fsid=$(cat /proc/sys/kernel/random/uuid)
    fi
    mkdir -p "$DIR/mon/a" "$DIR/osd/0" "$DIR/rgw" "$DIR/crash"
    local osdstore
    if [ "$store" = bluestore ]; then
        osdstore="osd_objectstore = bluestore
bluestore_block_path = $DIR/osd/\$id.block
bluestore_block_size = $(( ${S3_CEPH_BLOCK_GB:-20} * 1073741824 ))
bluestore_block_create = true
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
osd_memory_target = 939524096"
    else
        osdstore="osd_objectstore = memstore
memstore_device_bytes = 4294967296"
    fi
    cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MON_PORT
mon_initial_members = a
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
# no cephx between the daemons (S3 clients still need SigV4); crc framing,
# since "secure" mode needs cephx session keys
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_client_mode = crc
ms_cluster_mode = crc
ms_service_mode = crc
ms_mon_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
auth_allow_insecure_global_id_reclaim = true
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
run_dir = $RUN
admin_socket = $RUN/\$name.asok
log_file = $LOGD/\$name.log
mon_cluster_log_file = $LOGD/cluster.log
crash_dir = $DIR/crash
keyring = $ETC/keyring
# one OSD: size-1 pools, few PGs, no autoscaler (no mgr)
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
# fast paxos: pool creation 2 s -> 0.1 s each (radosgw creates 4 pools at start)
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
mon_tick_interval = 1
# a killed radosgw's watches expire after 10 s instead of 30 s (metadata writes
# such as bucket creation wait for every watcher after an unclean restart)
osd_client_watch_timeout = 10
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[mon]
mon_data = $DIR/mon/\$id

[osd]
osd_data = $DIR/osd/\$id
$osdstore

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw_data = $DIR/rgw
rgw_thread_pool_size = 128
rgw_enable_usage_log = false
EOF
    if [ $reuse = 0 ]; then
        : >"$LOGD/mkfs.log"
        ceph-authtool --create-keyring "$ETC/keyring" --gen-key -n mon. --cap mon 'allow *' >>"$LOGD/mkfs.log" 2>&1 \
            && monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$ETC/monmap" >>"$LOGD/mkfs.log" 2>&1 \
            || { tail "$LOGD/mkfs.log" >&2; die "ceph-authtool/monmaptool failed"; }
        ceph-mon -c "$conf" --mkfs -i a --monmap "$ETC/monmap" --keyring "$ETC/keyring" >>"$LOGD/mkfs.log" 2>&1 \
            || { tail "$LOGD/mkfs.log" >&2; die "ceph-mon --mkfs failed"; }
    fi
    launch mon /usr/bin/ceph-mon -f -c "$conf" -i a
    if [ $reuse = 0 ]; then
        osd_uuid=$(cat /proc/sys/kernel/random/uuid)
        timeout 60 ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid" 0 >>"$LOGD/mkfs.log" 2>&1 \
            || { tail "$LOGD/mkfs.log" >&2; die "'ceph osd new' failed (monitor log: $LOGD/mon.a.log)"; }
        ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$LOGD/mkfs.log" 2>&1 \
            || { tail "$LOGD/mkfs.log" >&2; die "ceph-osd --mkfs failed"; }
    fi
    local osdlog=$LOGD/osd.0.log n0=0 deadline
    [ -f "$osdlog" ] && n0=$(wc -l <"$osdlog")
    launch osd /usr/bin/ceph-osd -f -c "$conf" -i 0
    # start radosgw once the OSD is up: pools it creates then get their PGs at
    # once (otherwise the start takes ~3 s longer)
    deadline=$(( $(date +%s) + 60 ))
    until grep -q 'state: booting -> active' < <(tail -n +$((n0 + 1)) "$osdlog" 2>/dev/null); do
        check_alive
        [ "$(date +%s)" -lt "$deadline" ] || { log "OSD not active after 60 s, starting radosgw anyway"; break; }
        sleep 0.1
    done
    launch rgw /usr/bin/radosgw -f -c "$conf" -n client.rgw.a
    # radosgw answers anonymous requests once it is initialised; then the user
    local code
    deadline=$(( $(date +%s) + ${S3_START_TIMEOUT:-90} ))
    while :; do
        check_alive
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/" || true)
        [ "$code" = 200 ] && break
        [ "$(date +%s)" -lt "$deadline" ] || die "radosgw did not come up (logs: $LOGD)"
        sleep 0.1
    done
    local info
    if info=$(radosgw-admin -c "$conf" user info --uid=s3test 2>/dev/null); then
        # only touch the metadata if the key is new (metadata writes notify all
        # radosgw watchers, which stalls while a killed radosgw's watch lingers)
        if ! { grep -qF "\"access_key\": \"$ACCESS_KEY\"" <<<"$info" \
                && grep -qF "\"secret_key\": \"$SECRET_KEY\"" <<<"$info"; }; then
            radosgw-admin -c "$conf" key create --uid=s3test --key-type=s3 \
                --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$LOGD/radosgw-admin.log" 2>&1
        fi
    else
        radosgw-admin -c "$conf" user create --uid=s3test --display-name="S3 test user" \
            --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$LOGD/radosgw-admin.log" 2>&1
    fi || die "radosgw-admin could not create the user (log: $LOGD/radosgw-admin.log)"
    printf '%s\n%s\n' "$want" "$fsid" >"$marker"
}

check_alive() {
    local s
    for s in $SERVERS; do
        if [ -s "$RUN/$s.pid" ] && ! kill -0 "$(head -n1 "$RUN/$s.pid")" 2>/dev/null; then
            tail -n 15 "$LOGD/$s.out" >&2 || true
            die "$s exited during start-up (logs: $LOGD)"
        fi
    done
}

# ------------------------------------------------------------------- start --
write_env
"start_$BACKEND"
deadline=$(( $(date +%s) + ${S3_START_TIMEOUT:-90} ))
while :; do
    check_alive
    code=$(s3_probe)
    [ "$code" = 200 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "no signed answer from the S3 endpoint after ${S3_START_TIMEOUT:-90}s (last HTTP status '$code'; logs: $LOGD)"
    sleep 0.1
done
T_READY=$(now)
for b in ${S3_BUCKETS:-}; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --netrc-file "$ETC/netrc" \
        --aws-sigv4 "aws:amz:$REGION:s3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        -X PUT "http://127.0.0.1:$PORT/$b" || true)
    case $code in 200|409) ;; *) die "creating bucket $b failed (HTTP $code)";; esac
done
log "$BACKEND S3 server ready: first signed request OK $(secs "$T_LAUNCH" "$T_READY") s after the servers were launched; script total $(secs "$T0" "$(now)") s; pids $(cat "$RUN"/*.pid | tr '\n' ' ')"
print_info
