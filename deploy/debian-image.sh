#!/usr/bin/env bash
# deploy/debian-image.sh NAME PACKAGE... [--cache DIR] -- a base image for a
# model's Containerfile: Debian 12's essential set plus PACKAGE... and what they
# depend on (no apt, no documentation but copyright files), made by mmdebstrap
# (deploy/debian-root.sh), cached as a tarball in DIR (default
# /var/cache/mlwm-image) and imported into the engine (the docker CLI with
# DOCKER_HOST, or MLWM_ENGINE_CLI) as NAME, with CMD ["/bin/sh"]. Nothing is
# pulled from a registry. Needs root for the first build of a package set.
# E.g. the advection-cnn model's base:
#   deploy/debian-image.sh mlwm/python-torch:bookworm python3-torch python3-xarray python3-zarr python3-yaml
set -euo pipefail
die() { echo "debian-image.sh: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=/var/cache/mlwm-image
NAME= PACKAGES=()
while [ $# -gt 0 ]; do
    case $1 in
    --cache) CACHE=${2:?--cache needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (expected --cache DIR)" ;;
    *) if [ -z "$NAME" ]; then NAME=$1; else PACKAGES+=("$1"); fi; shift ;;
    esac
done
[ -n "$NAME" ] && [ ${#PACKAGES[@]} -gt 0 ] || die "usage: $0 NAME PACKAGE... [--cache DIR]"
read -ra CLI <<<"${MLWM_ENGINE_CLI:-docker}"
# shellcheck source=debian-root.sh
source "$ROOT/deploy/debian-root.sh"

include=$(IFS=,; echo "${PACKAGES[*]}")
TAR=$CACHE/debian-image-$(debian_root_key "$include").tar
debian_root "$TAR" "$include" || die "could not make the root $TAR"
"${CLI[@]}" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' --change "LABEL org.opencontainers.image.base.name=debian:bookworm" \
    --change "LABEL org.mlwm.debian-packages=$include" "$TAR" "$NAME" >/dev/null
size=$("${CLI[@]}" image inspect -f '{{.Size}}' "$NAME")
echo "$NAME: $((size / 1048576)) MiB, Debian 12 + $include"
