#!/usr/bin/env bash
# deploy/base-image.sh [NAME] -- imports a minimal base image into the Docker
# Engine (DOCKER_HOST or /var/run/docker.sock): Debian's busybox-static in an
# otherwise empty root filesystem. No registry is needed. The bundled
# persistence model builds on it (BASE_IMAGE, default mlwm/busybox-base:1).
set -euo pipefail
NAME=${1:-mlwm/busybox-base:1}
# shellcheck source=busybox-rootfs.sh
source "$(dirname "$0")/busybox-rootfs.sh"
[ -x /bin/busybox ] || { echo "base-image.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }
if docker image inspect "$NAME" >/dev/null 2>&1; then
    echo "$NAME is present"
    exit 0
fi
busybox_image_tar | docker import -c 'ENV PATH=/usr/local/bin:/bin' -c 'CMD ["/bin/sh"]' - "$NAME" >/dev/null
echo "imported $NAME"
