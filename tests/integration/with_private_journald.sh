#!/usr/bin/env bash
# with_private_journald.sh CMD... -- runs CMD next to a systemd-journald of its
# own: in a private mount namespace (run as root), fresh tmpfs over
# /run/systemd, /run/log and /var/log/journal, so the host's journal (if any)
# is neither read nor written. journalctl inside CMD reads the private journal.
# (The script enters its own mount namespace first: it never mounts over the
# host's /run/systemd.)
set -euo pipefail
if [ "${1:-}" != --in-namespace ]; then
    exec unshare --mount --propagation private "$0" --in-namespace "$@"
fi
shift
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; }
mkdir -p /run/log && mount -t tmpfs tmpfs /run/log
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
/lib/systemd/systemd-journald &
journald=$!
trap 'kill "$journald" 2>/dev/null; wait "$journald" 2>/dev/null' EXIT
deadline=$(($(date +%s) + 20))
until [ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "systemd-journald did not open its sockets within 20 s" >&2; exit 1; }
    kill -0 "$journald" 2>/dev/null || { echo "systemd-journald exited" >&2; exit 1; }
    sleep 0.1
done
"$@"
