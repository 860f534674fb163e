# Sourced by deploy/mlwm-image.sh and deploy/debian-image.sh: minimal Debian 12
# root filesystems made offline-once by mmdebstrap, cached as tarballs.
#
# debian_root TAR INCLUDES [MMDEBSTRAP_ARGS...]
#   makes TAR unless it exists: Debian 12's essential set (what maintainer
#   scripts may use) with merged /usr, plus INCLUDES (comma-separated packages;
#   an absolute path to a .deb file in an argument of its own: --include=PATH
#   in MMDEBSTRAP_ARGS); what they depend on, not what they recommend; no apt;
#   no documentation but each package's copyright file, no manuals, no
#   translations. Mirrors: MLWM_DEBIAN_MIRROR (default http://deb.debian.org/debian)
#   and MLWM_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
# debian_root_key STRING...
#   a short digest of the strings and of this recipe: name TAR by it.
# debian_root_tidy ROOT
#   removes what dpkg leaves that an image does not need (logs, -old files,
#   documentation beyond the copyright files); also run at the end of debian_root.

DEBIAN_ROOT_DPKG_OPTS=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*')
# (dpkg's path-include also keeps files named copyright deeper down, and the
# folders of the files it excluded)
DEBIAN_ROOT_TIDY='find "$1/usr/share/doc" -mindepth 2 -maxdepth 2 ! -name copyright -exec rm -rf {} +
rm -f "$1/usr/share/info/dir" "$1"/var/log/*.log "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old'

debian_root_key() {
    printf '%s\n' bookworm essential "${DEBIAN_ROOT_DPKG_OPTS[*]}" "$DEBIAN_ROOT_TIDY" "$@" | sha256sum | cut -c1-16
}

debian_root_tidy() { sh -c "$DEBIAN_ROOT_TIDY" sh "$1"; }

debian_root() {
    local tar=$1 include=$2
    shift 2
    [ -s "$tar" ] && return 0
    command -v mmdebstrap >/dev/null || { echo "mmdebstrap not found: apt-get install mmdebstrap" >&2; return 1; }
    local mirror=${MLWM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local security=${MLWM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    local partial
    partial=$(dirname "$tar")/partial-$$.tar  # (mmdebstrap picks the format from the name)
    mkdir -p "$(dirname "$tar")"
    echo "making $tar (mmdebstrap, from $mirror)" >&2
    if ! mmdebstrap --quiet --variant=custom --include='?essential' --include="usr-is-merged,$include" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
        "${DEBIAN_ROOT_DPKG_OPTS[@]}" "$@" --customize-hook="$DEBIAN_ROOT_TIDY" \
        bookworm "$partial" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
        "deb $security bookworm-security main"; then
        rm -f "$partial"
        echo "mmdebstrap failed (above)" >&2
        return 1
    fi
    mv "$partial" "$tar"
}
