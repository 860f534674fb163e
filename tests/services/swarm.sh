#!/usr/bin/env bash
# tests/services/swarm.sh -- a Docker Swarm cluster on this machine for the
# tests: N dockerd (Debian docker.io), each in a network namespace of its own
# joined to the others by a bridge in a further namespace, each with its own
# data root, exec root and mount namespace, each advertising fake GPUs as
# generic resources (NVIDIA-GPU=GPU-n<i>-<a..>), formed into a swarm (node 1
# the manager). Nothing listens outside the namespaces it makes.
#
#   swarm.sh start DIR [NODES [GPUS]]  (defaults 3 and 2) -> DIR/env:
#        MLWM_TEST_SWARM_MANAGER  the manager's socket (a path on this host)
#        MLWM_TEST_SWARM_NODES    every node's socket, space-separated
#        MLWM_TEST_SWARM_NODE_SOCKET=/run/mlwm-node/docker.sock: where each
#        node's own engine is, seen from that node's containers (the same path
#        on every node: a job mounts it to start containers beside itself)
#        MLWM_TEST_SWARM_NODE_WORK=/run/mlwm-node/work: each node's own work folder
#   swarm.sh expose DIR PORT            a service on this host's 127.0.0.1:PORT (the S3
#                                       server) reachable from the nodes at
#                                       http://10.213.0.1:PORT (socat in the bridge's
#                                       namespace; each connection is made from this
#                                       host's namespace)
#   swarm.sh cut DIR I | heal DIR I     take node I's link down / up
#   swarm.sh stop-node DIR I | start-node DIR I   its dockerd (the swarm state stays)
#   swarm.sh stop DIR                   stop every node, delete the namespaces
# Node I's socket on this host: DIR/n<I>/run/docker.sock; its address 10.213.0.<10+I>.
set -euo pipefail
die() { echo "swarm.sh: $*" >&2; exit 1; }
# shellcheck source=stop_pid.sh
source "$(dirname "$0")/stop_pid.sh"
[ $# -ge 2 ] || die "usage: $0 start|stop|expose|cut|heal|stop-node|start-node DIR [ARGS]"
cmd=$1
mkdir -p "$2"
D=$(cd "$2" && pwd -P)
P=mlwmsw$(printf '%s' "$D" | md5sum | cut -c1-6)  # names of this cluster's namespaces and links
BR=${P}br
NODE_RUN=/run/mlwm-node                           # the node's own socket folder, in its mount namespace
[ -s "$D/nodes" ] && read -r NODES GPUS <"$D/nodes"
NODES=${NODES:-${3:-3}} GPUS=${GPUS:-${4:-2}}

sock() { echo "$D/n$1/run/docker.sock"; }
dk() { local i=$1; shift; DOCKER_HOST=unix://$(sock "$i") docker "$@"; }
ping() { curl -s --max-time 2 --unix-socket "$(sock "$1")" http://d/_ping 2>/dev/null | grep -qx OK; }
addr() { echo "10.213.0.$((10 + $1))"; }
wait_until() {  # SECONDS WHAT CMD...
    local deadline=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die "$what: not within the deadline"
        sleep 0.2
    done
}

start_node() {  # I: its dockerd in its namespaces; waits for /_ping
    local i=$1 res=() g tries=${2:-2}
    mkdir -p "$D/n$i/data" "$D/n$i/exec" "$D/n$i/run/work" "$NODE_RUN"
    for g in $(seq 1 "$GPUS"); do res+=(--node-generic-resource "NVIDIA-GPU=GPU-n$i-$(printf "\\x$(printf %x $((96 + g)))")"); done
    # (nsenter, not `ip netns exec`: that mounts a sysfs of its own, which hides the cgroups)
    # shellcheck disable=SC2016
    setsid nsenter --net="/run/netns/${P}n$i" unshare --mount --propagation private sh -c \
        'mount --bind "$0" "$1" && shift && exec dockerd "$@"' "$D/n$i/run" "$NODE_RUN" \
        --host "unix://$NODE_RUN/docker.sock" --data-root "$D/n$i/data" --exec-root "$D/n$i/exec" \
        --pidfile "$D/n$i/docker.pid" --bridge none --iptables=false --ip-masq=false \
        --userland-proxy=false --log-level warn "${res[@]}" >>"$D/n$i/dockerd.log" 2>&1 </dev/null &
    local pid=$! deadline=$(($(date +%s) + 60))
    until ping "$i"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 5 "$D/n$i/dockerd.log" >&2
            [ "$tries" -gt 1 ] || die "node $i's dockerd exited"
            echo "swarm.sh: node $i's dockerd exited while starting; stopping what it left and trying once more" >&2
            stop_node "$i"
            start_node "$i" $((tries - 1))
            return
        fi
        [ "$(date +%s)" -lt "$deadline" ] || die "node $i's dockerd did not answer /_ping within 60 s"
        sleep 0.1
    done
}

stop_node() {
    # dockerd stops its containers (their grace period) and then its
    # containerd; a containerd it leaves behind (dockerd killed, or still
    # shutting down) would make the next dockerd of this node wait on it and
    # give up ("timeout waiting for containerd to start"): stop that one too
    stop_pid "$D/n$1/docker.pid" 30 "$D/"
    stop_pid "$D/n$1/exec/containerd/containerd.pid" 15 "$D/"
}

case $cmd in
start)
    command -v dockerd >/dev/null || die "dockerd not found: run tests/install-deps.sh"
    echo "$NODES $GPUS" >"$D/nodes"
    ip netns add "$BR"
    ip -n "$BR" link set lo up
    ip -n "$BR" link add br0 type bridge
    ip -n "$BR" link set br0 up
    ip -n "$BR" addr add 10.213.0.1/24 dev br0
    # this host's network namespace, kept for `expose`
    touch "$D/hostns"
    mount --bind /proc/self/ns/net "$D/hostns"
    for i in $(seq 1 "$NODES"); do
        ip netns add "${P}n$i"
        ip -n "${P}n$i" link set lo up
        ip link add "${P}n$i" netns "${P}n$i" type veth peer name "${P}b$i" netns "$BR"
        ip -n "${P}n$i" link set "${P}n$i" name eth0
        ip -n "${P}n$i" addr add "$(addr "$i")/24" dev eth0
        ip -n "${P}n$i" link set eth0 up
        ip -n "$BR" link set "${P}b$i" master br0 up
    done
    for i in $(seq 1 "$NODES"); do start_node "$i" & done
    wait
    t0=$(date +%s)
    dk 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
    token=$(dk 1 swarm join-token -q worker)
    for i in $(seq 2 "$NODES"); do
        dk "$i" swarm join --token "$token" --advertise-addr "$(addr "$i")" --listen-addr "$(addr "$i"):2377" \
            "$(addr 1):2377" >/dev/null &
    done
    wait
    ready() { [ "$(dk 1 node ls --format '{{.Status}}' | grep -c Ready)" -eq "$NODES" ]; }
    wait_until 60 "all $NODES nodes Ready" ready
    # shellcheck source=../../deploy/busybox-rootfs.sh
    source "$(dirname "$0")/../../deploy/busybox-rootfs.sh"
    busybox_image_tar >"$D/busybox.tar"
    for i in $(seq 1 "$NODES"); do
        dk "$i" import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' "$D/busybox.tar" mlwm-test/busybox:1 >/dev/null
    done
    nodes=$(for i in $(seq 1 "$NODES"); do printf '%s ' "$(sock "$i")"; done)
    printf 'MLWM_TEST_SWARM_DIR=%s\nMLWM_TEST_SWARM_MANAGER=%s\nMLWM_TEST_SWARM_NODES="%s"\nMLWM_TEST_SWARM_NODE_SOCKET=%s\nMLWM_TEST_SWARM_NODE_WORK=%s\n' \
        "$D" "$(sock 1)" "${nodes% }" "$NODE_RUN/docker.sock" "$NODE_RUN/work" | tee "$D/env"
    echo "swarm of $NODES nodes x $GPUS fake GPUs formed in $(($(date +%s) - t0)) s" >&2
    ;;
expose)
    port=${3:?port}
    setsid nsenter --net="/run/netns/$BR" socat "TCP-LISTEN:$port,bind=10.213.0.1,fork,reuseaddr" \
        "SYSTEM:nsenter --net=$D/hostns socat STDIO TCP\:127.0.0.1\:$port" >"$D/expose-$port.log" 2>&1 </dev/null &
    echo $! >>"$D/expose.pids"
    probe() { nsenter --net="/run/netns/${P}n1" bash -c "exec 3<>/dev/tcp/10.213.0.1/$port" 2>/dev/null; }
    wait_until 10 "10.213.0.1:$port answering in the cluster" probe
    echo "http://10.213.0.1:$port"
    ;;
cut) ip -n "$BR" link set "${P}b${3:?node}" down ;;
heal) ip -n "$BR" link set "${P}b${3:?node}" up ;;
stop-node) stop_node "${3:?node}" ;;
start-node) start_node "${3:?node}" ;;
stop)
    for i in $(seq 1 "$NODES"); do stop_node "$i" & done
    wait
    [ ! -s "$D/expose.pids" ] || xargs -r kill <"$D/expose.pids" 2>/dev/null || true
    rm -f "$D/expose.pids"
    for i in $(seq 1 "$NODES"); do ip netns del "${P}n$i" 2>/dev/null || true; done
    ip netns del "$BR" 2>/dev/null || true
    umount "$D/hostns" 2>/dev/null || true
    ;;
*) die "unknown command '$cmd' (expected start, stop, expose, cut, heal, stop-node, start-node)" ;;
esac
