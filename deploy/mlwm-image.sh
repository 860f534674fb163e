#!/usr/bin/env bash
# deploy/mlwm-image.sh -- the mlwm image, mlwm/mlwm:<version>: Debian 12's
# essential set plus the mlwm package and what it depends on (no apt, no
# compilers, no documentation but the copyright files), imported into the
# container engine with `import --change` for its entry point and labels.
#
#   deploy/mlwm-image.sh [--deb FILE] [--tag REF] [--cache DIR] [--rootfs FILE]
#
#   --deb FILE     the package (default: build-deb/mlwm_*.deb, made by
#                  `cpack -G DEB` in a build configured with -DMLWM_PACKAGE=ON)
#   --tag REF      the image's name (default mlwm/mlwm:<the package's version>)
#   --cache DIR    where the base root (Debian + the package's dependencies) is
#                  kept between builds, keyed by the package's Depends: a new
#                  mlwm of the same Depends is built from it offline
#                  (default /var/cache/mlwm-image)
#   --rootfs FILE  also write the image's root filesystem as a tar
#
# The engine: the docker CLI (DOCKER_HOST, or /var/run/docker.sock), or the
# command in MLWM_ENGINE_CLI (e.g. "podman"). Needs root (chroot) and, for the
# first build of a base root, mmdebstrap and a Debian mirror (deploy/debian-root.sh).
#
# The image runs every subcommand: `docker run --rm mlwm/mlwm:0.1.0 paths ...`.
# To another machine (a training cluster with Podman or Apptainer):
#   docker save mlwm/mlwm:0.1.0 | gzip >mlwm-image.tar.gz
#   podman load -i mlwm-image.tar.gz
#   apptainer build mlwm.sif docker-archive://mlwm-image.tar   (uncompressed)
set -euo pipefail
die() { echo "mlwm-image.sh: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB= TAG= CACHE=/var/cache/mlwm-image ROOTFS=
while [ $# -gt 0 ]; do
    case $1 in
    --deb) DEB=${2:?--deb needs a file}; shift 2 ;;
    --tag) TAG=${2:?--tag needs an image name}; shift 2 ;;
    --cache) CACHE=${2:?--cache needs a folder}; shift 2 ;;
    --rootfs) ROOTFS=${2:?--rootfs needs a file}; shift 2 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (expected --deb, --tag, --cache, --rootfs; see --help)" ;;
    esac
done
if [ -z "$DEB" ]; then
    DEB=$(ls "$ROOT"/build-deb/mlwm_*.deb 2>/dev/null | tail -n 1) ||
        die "no --deb given and no build-deb/mlwm_*.deb: build the package first (README: Install on a forecast host)"
fi
[ -f "$DEB" ] || die "--deb $DEB: no such file"
DEB=$(realpath "$DEB")
[ "$(dpkg-deb -f "$DEB" Package 2>/dev/null)" = mlwm ] || die "--deb $DEB: not the mlwm package"
VERSION=$(dpkg-deb -f "$DEB" Version)
TAG=${TAG:-mlwm/mlwm:$VERSION}
read -ra CLI <<<"${MLWM_ENGINE_CLI:-docker}"
[ "$(id -u)" -eq 0 ] || die "needs root (the package is installed into the root with chroot)"

# shellcheck source=debian-root.sh
source "$ROOT/deploy/debian-root.sh"
# CA certificates for https endpoints; the standalone sysusers/tmpfiles the
# package's postinst runs (no systemd in a container)
INCLUDE=ca-certificates,systemd-standalone-sysusers,systemd-standalone-tmpfiles

# --- the base root: Debian + the package's dependencies, cached by what decides them
BASE=$CACHE/mlwm-image-base-$(debian_root_key "$INCLUDE" "$(dpkg-deb -f "$DEB" Depends Pre-Depends)").tar
# the package is installed so that apt resolves its Depends, then purged: the
# base holds its dependencies only
debian_root "$BASE" "$INCLUDE" --include="$DEB" --customize-hook='chroot "$1" dpkg --purge mlwm' ||
    die "could not make the base root $BASE"

# --- the image's root: the base + the package, installed by dpkg (no network)
W=$(mktemp -d /tmp/mlwm-image.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/root"
tar -C "$W/root" -xf "$BASE"
cp "$DEB" "$W/root/tmp/mlwm.deb"
in_root() {  # with a /proc of its own (systemd-tmpfiles needs one), gone when it ends
    unshare --mount --pid --fork --propagation private sh -c 'mount -t proc proc "$0/proc" &&
        exec chroot "$0" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' "$W/root" "$@"
}
in_root dpkg --install /tmp/mlwm.deb >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log" >&2; die "dpkg --install failed"; }
rm -f "$W/root/tmp/mlwm.deb"
debian_root_tidy "$W/root"
revision=$(in_root mlwm --version | sed -n 's/.*(git \([^)]*\)).*/\1/p')
tar --numeric-owner -C "$W/root" -cf "$W/rootfs.tar" .
[ -z "$ROOTFS" ] || cp "$W/rootfs.tar" "$ROOTFS"

"${CLI[@]}" import \
    --change 'ENTRYPOINT ["/usr/bin/mlwm"]' --change 'CMD ["--help"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.opencontainers.image.title=mlwm org.opencontainers.image.version=$VERSION" \
    --change "LABEL org.opencontainers.image.revision=${revision:-unknown} org.opencontainers.image.base.name=debian:bookworm" \
    --change 'LABEL org.opencontainers.image.description="runs machine-learning weather models in operations"' \
    "$W/rootfs.tar" "$TAG" >/dev/null
size=$("${CLI[@]}" image inspect -f '{{.Size}}' "$TAG")
echo "$TAG: $((size / 1048576)) MiB ($size bytes), $(in_root dpkg-query -W | wc -l) Debian packages, mlwm $VERSION (git ${revision:-unknown})"
