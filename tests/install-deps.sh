#!/usr/bin/env bash
# install-deps.sh -- install every build and test dependency of mlwm from
# Debian 12 packages. Idempotent: when everything is present it only checks
# (dpkg-query, well under a second) and installs nothing.
#
# Usage: tests/install-deps.sh [build|run|test|all]   (default: all)
#   build  compilers and libraries needed to build mlwm
#   run    plus what the quick start needs (Docker Engine, busybox-static)
#   test   plus the services and clients the tests start (dockerd, radosgw,
#          aws CLI, rclone, xarray/zarr, promtool, podman, busybox-static,
#          systemd's journald and systemd-analyze, mmdebstrap and lintian
#          for the Debian package's test, python3-torch to train and check
#          the advection-cnn model)
set -euo pipefail

what=${1:-all}
build_pkgs=(
    build-essential cmake pkg-config git clang clang-format libclang-rt-14-dev
    libboost1.81-dev libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev
    libspdlog-dev prometheus-cpp-dev doctest-dev libsqlite3-dev libzip-dev
    libsystemd-dev libssl-dev python3-dev pybind11-dev
)
# what the quick start needs to run a forecast (a container engine, the base image)
run_pkgs=(docker.io busybox-static python3 curl)
test_pkgs=(
    curl ca-certificates unzip zip time
    docker.io busybox-static podman runc catatonit docker-registry
    radosgw ceph-mon ceph-osd ceph-common
    awscli rclone socat
    python3 python3-xarray python3-zarr python3-yaml python3-numpy python3-torch
    prometheus systemd util-linux
    mmdebstrap lintian dpkg-dev
)
case $what in
build) pkgs=("${build_pkgs[@]}") ;;
run) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
test | all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*)
    echo "install-deps: unknown set '$what' (expected build, run, test or all)" >&2
    exit 2
    ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#pkgs[@]} packages present" >&2
    exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
# Keep the packages' own system services (dockerd, ceph, prometheus, ...)
# from being started by the installation: the tests start private ones.
prc_created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    prc_created=1
fi
cleanup() { [ "$prc_created" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d || true; }
trap cleanup EXIT
apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
}
if ! apt_install; then
    $SUDO apt-get update -q
    apt_install
fi
echo "install-deps: done" >&2
