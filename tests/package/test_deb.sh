#!/usr/bin/env bash
# tests/package/test_deb.sh BUILD_DIR -- the Debian package, built by CPack
# from BUILD_DIR (configured with -DMLWM_PACKAGE=ON -DCMAKE_INSTALL_PREFIX=/usr),
# checked as an operator would meet it: its control data (Depends computed by
# dpkg-shlibdeps, the conffile), lintian, then `apt-get install ./mlwm_*.deb`
# in a fresh Debian 12 root (mmdebstrap, minbase + systemd; the tarball is
# cached in /var/cache/mlwm-tests): what apt pulls in, mlwm --version and
# validate, the mlwm user and folders, systemd-analyze verify of the installed
# unit; purge removes what the package created except the state folder.
source "$(dirname "$0")/../cli/lib.sh"
BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
CACHE=${MLWM_TEST_CACHE:-/var/cache/mlwm-tests}
R=$(mktemp -d /tmp/mlwm-deb.XXXXXX)
cleanup() {
    for m in proc dev/pts dev; do umount "$R/root/$m" 2>/dev/null || true; done
    rm -rf "$R" "$_tmp"
}
trap cleanup EXIT

rm -f "$BUILD"/mlwm_*.deb
(cd "$BUILD" && cpack -G DEB >"$R/cpack.log" 2>&1) || { cat "$R/cpack.log" >&2; exit 1; }
DEB=$(ls "$BUILD"/mlwm_*.deb)
echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes, installed size $(dpkg-deb -f "$DEB" Installed-Size) KiB"

# control data
run dpkg-deb -f "$DEB" Package Version Architecture
expect_stdout "Package: mlwm
Version: $(sed -n 's/^project(mlwm VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
Architecture: amd64"
run dpkg-deb -f "$DEB" Depends
echo "Depends: $OUT"
for lib in procps libc6 libstdc++6 libcurl4 libyaml-cpp0.7 libsqlite3-0 libsystemd0; do
    expect_stdout_contains "$lib"
done
CHECKS=$((CHECKS + 1))
[[ $OUT != *-dev* ]] || _fail "no development package in Depends: $OUT"
dpkg-deb -e "$DEB" "$R/control"
run cat "$R/control/conffiles"
expect_stdout "/etc/mlwm/mlwm.yaml"
run sh -c "dpkg-deb -c '$DEB' | awk '{print \$6}'"
for f in ./usr/bin/mlwm ./usr/lib/systemd/system/mlwm.service ./etc/mlwm/mlwm.yaml \
    ./usr/lib/sysusers.d/mlwm.conf ./usr/lib/tmpfiles.d/mlwm.conf \
    ./usr/share/mlwm/prometheus/mlwm-alerts.yml ./usr/share/mlwm/grafana/mlwm-dashboard.json \
    ./usr/share/doc/mlwm/README.md ./usr/share/doc/mlwm/copyright ./usr/share/doc/mlwm/changelog.gz \
    ./usr/lib/python3/dist-packages/mlwm/__init__.py; do
    expect_stdout_contains "$f"
done

# lintian: its findings are printed; an error fails
lintian --tag-display-limit 0 "$DEB" >"$R/lintian.txt" 2>&1 || true
echo "lintian: $(grep -c '^E:' "$R/lintian.txt") error(s), $(grep -c '^W:' "$R/lintian.txt") warning(s)"
sed 's/^/  /' "$R/lintian.txt"
CHECKS=$((CHECKS + 1))
! grep -q '^E:' "$R/lintian.txt" || _fail "lintian reports no error"

# a fresh Debian 12 root
TAR=$CACHE/bookworm-minbase-systemd.tar
if [ ! -s "$TAR" ]; then
    mkdir -p "$CACHE"
    # (mmdebstrap picks the format from the name: .tar)
    mmdebstrap --quiet --variant=minbase --include=systemd,apt bookworm "$CACHE/partial-$$.tar" \
        "deb http://deb.debian.org/debian bookworm main" \
        "deb http://deb.debian.org/debian bookworm-updates main" \
        "deb http://deb.debian.org/debian-security bookworm-security main"
    mv "$CACHE/partial-$$.tar" "$TAR"
fi
mkdir "$R/root"
tar -C "$R/root" -xf "$TAR"
cp /etc/resolv.conf "$R/root/etc/resolv.conf"
mount -t proc proc "$R/root/proc"
mount --bind /dev "$R/root/dev"
mount --bind /dev/pts "$R/root/dev/pts"
cp "$DEB" "$R/root/tmp/"
in_root() { chroot "$R/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_root dpkg-query -W -f '${Package}\n' | sort >"$R/before"
in_root apt-get -q update >"$R/apt.log" 2>&1 || { cat "$R/apt.log" >&2; exit 1; }
run in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$DEB")"
expect_status 0
in_root dpkg-query -W -f '${Package}\n' | sort >"$R/after"
pulled=$(comm -13 "$R/before" "$R/after" | tr '\n' ' ')
echo "apt-get install pulled $(comm -13 "$R/before" "$R/after" | wc -l) package(s): $pulled"
CHECKS=$((CHECKS + 1))
[[ " $pulled " == *" libcurl4 "* && " $pulled " == *" mlwm "* ]] || _fail "apt pulls the runtime libraries: $pulled"
CHECKS=$((CHECKS + 1))
! grep -qE -- '-dev$|^(gcc|g\+\+|cmake)' <(comm -13 "$R/before" "$R/after") || _fail "apt pulls no build tools: $pulled"

run in_root mlwm --version
expect_status 0
expect_stdout_contains "mlwm $(dpkg-deb -f "$DEB" Version)"
# no model yet: said so; then the example model, as the README's install steps
run in_root mlwm validate
expect_status 1
expect_stderr_contains "/etc/mlwm/configurations: no model configurations"
in_root cp -r /usr/share/mlwm/configurations/persistence /etc/mlwm/configurations/
run in_root mlwm validate
expect_status 0
expect_stdout_contains "ok: host configuration /etc/mlwm/mlwm.yaml; 1 model configuration(s) in /etc/mlwm/configurations: persistence"
run in_root mlwm validate /usr/share/mlwm/configurations
expect_status 0
expect_stdout_contains "3 model configuration(s)"
run in_root id -nG mlwm
expect_stdout_contains "docker"
run in_root stat -c '%U:%G %a' /var/lib/mlwm /var/lib/mlwm/state /var/lib/mlwm/work
expect_stdout "mlwm:mlwm 750
mlwm:mlwm 750
mlwm:mlwm 750"
run in_root systemd-analyze verify /usr/lib/systemd/system/mlwm.service
expect_status 0
echo "systemd-analyze verify: ${ERR:-no findings}"

# a changed conffile survives an upgrade-like reinstall; purge takes it
echo "# edited" >>"$R/root/etc/mlwm/mlwm.yaml"
run in_root apt-get install -y -q --reinstall "/tmp/$(basename "$DEB")"
expect_status 0
run tail -n 1 "$R/root/etc/mlwm/mlwm.yaml"
expect_stdout "# edited"
in_root touch /var/lib/mlwm/state/ledger.sqlite3
run in_root apt-get purge -y -q mlwm
expect_status 0
for gone in /usr/bin/mlwm /etc/mlwm/mlwm.yaml /usr/lib/systemd/system/mlwm.service /usr/share/mlwm \
    /usr/lib/python3/dist-packages/mlwm; do
    CHECKS=$((CHECKS + 1))
    [ ! -e "$R/root$gone" ] || _fail "purge removes $gone"
done
CHECKS=$((CHECKS + 1))
[ -e "$R/root/var/lib/mlwm/state/ledger.sqlite3" ] || _fail "purge keeps the state folder"
finish
