#!/usr/bin/env bash
# deploy/install.sh -- installs mlwm as a systemd service on a forecast host:
# the binary, /etc/mlwm/mlwm.yaml (if absent), the configurations, the unit,
# and the mlwm user (member of the docker group). Run as root after building.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -x build/daemon/mlwm ] || { echo "install.sh: build first (deploy/quickstart.sh or cmake)" >&2; exit 1; }
install -m 0755 build/daemon/mlwm /usr/local/bin/mlwm
getent group docker >/dev/null || groupadd --system docker
id mlwm >/dev/null 2>&1 || useradd --system --home /var/lib/mlwm --shell /usr/sbin/nologin --groups docker mlwm
install -d -m 0755 /etc/mlwm /etc/mlwm/configurations /usr/local/share/doc/mlwm
[ -e /etc/mlwm/mlwm.yaml ] || install -m 0644 deploy/mlwm.yaml /etc/mlwm/mlwm.yaml
cp -rn configurations/. /etc/mlwm/configurations/
install -m 0644 README.md /usr/local/share/doc/mlwm/README.md
install -d -o mlwm -g mlwm -m 0750 /var/lib/mlwm /var/lib/mlwm/work /var/lib/mlwm/state
install -m 0644 systemd/mlwm.service /etc/systemd/system/mlwm.service
/usr/local/bin/mlwm validate --config /etc/mlwm/mlwm.yaml
systemctl daemon-reload
echo "installed; start with: systemctl enable --now mlwm"
