#!/usr/bin/env bash
# tests/package/test_image.sh DEB MLWM -- the mlwm image made by
# deploy/mlwm-image.sh from the package DEB (its base root cached in
# /var/cache/mlwm-tests), against the test radosgw and dockerd:
#   - its size, entry point and labels; no compiler, apt or documentation;
#   - every subcommand answers; paths, validate, ls, build-image (through the
#     mounted engine socket), status;
#   - `mlwm run` of the persistence model in the image publishes the same
#     output as the host's binary MLWM;
#   - the training machine: the image moved as a file (`docker save`) to a
#     user without root and without /etc/subuid entries, loaded by rootless
#     Podman, runs `mlwm build-artifact` on the user's training folder (the
#     README's command): the artifact equals the host binary's, owned by the
#     user, and uploads to S3.
# Needs MLWM_TEST_S3_ENDPOINT, MLWM_TEST_DOCKER_SOCKET, MLWM_TEST_IMAGE, AWS_*;
# root (chroot, the rootless user's switch); podman for the training machine.
source "$(dirname "$0")/../cli/lib.sh"
DEB=$(realpath "${1:?usage: $0 DEB MLWM}")
MLWM=$(realpath "${2:?usage: $0 DEB MLWM}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EP=${MLWM_TEST_S3_ENDPOINT:?}
SOCK=${MLWM_TEST_DOCKER_SOCKET:?}
CACHE=${MLWM_TEST_CACHE:-/var/cache/mlwm-tests}
TRAIN_UID=${MLWM_TEST_TRAIN_UID:-4242}
PY=/usr/bin/python3
export DOCKER_HOST=unix://$SOCK
aws_() { /usr/bin/aws --endpoint-url "$EP" "$@"; }
VERSION=$(dpkg-deb -f "$DEB" Version)
IMAGE=mlwm/mlwm:$VERSION
# the work folder is mounted at the same path in the image: the engine
# resolves the model container's bind mounts on the host
W=$(mktemp -d /tmp/mlwm-image.XXXXXX)
trap 'rm -rf "$W" "$_tmp"' EXIT
source "$ROOT/tests/integration/training_fixture.sh"

# --- the image
t0=$(date +%s)
run "$ROOT/deploy/mlwm-image.sh" --deb "$DEB" --cache "$CACHE" --rootfs "$W/rootfs.tar"
expect_status 0
echo "$OUT (built in $(($(date +%s) - t0)) s)"
expect_stdout_contains "$IMAGE: "
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
CHECKS=$((CHECKS + 1))
[ "$size" -lt $((120 * 1048576)) ] || _fail "the image is under 120 MiB ($size bytes)"
run docker image inspect -f '{{json .Config.Entrypoint}} {{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE"
expect_stdout "[\"/usr/bin/mlwm\"] $VERSION"
tar -tf "$W/rootfs.tar" | sed 's|^\./||' >"$W/files"
run grep -E '^usr/bin/(gcc|g\+\+|cc|c\+\+|clang|ld|make|apt|apt-get)$|^usr/share/(man|info|locale)/.' "$W/files"
expect_stdout ""
run sh -c "grep -E '^usr/share/doc/[^/]+/.' '$W/files' | grep -vE '^usr/share/doc/[^/]+/copyright\$'"
expect_stdout ""
run grep -cE '^usr/bin/mlwm$|^etc/ssl/certs/ca-certificates.crt$|^etc/mlwm/mlwm.yaml$' "$W/files"
expect_stdout "3"

img() {  # ARGS...: mlwm in the image, with the engine socket and the work folder
    docker run --rm --network host -v "$SOCK:$SOCK" -v "$W:$W" \
        -e AWS_ENDPOINT_URL -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_REGION -e AWS_DEFAULT_REGION \
        "$IMAGE" "$@"
}
run img --version
expect_status 0
expect_stdout_contains "mlwm $VERSION (git "
run img
expect_status 0
expect_stdout_contains "usage: mlwm"
# every subcommand the binary lists answers its --help
mapfile -t commands < <("$MLWM" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\( [a-z]\+\)\?\)  .*/\1/p')
CHECKS=$((CHECKS + 1))
[ "${#commands[@]}" -ge 12 ] || _fail "the subcommands are listed (${commands[*]})"
for c in "${commands[@]}"; do
    # shellcheck disable=SC2086
    run img $c --help
    expect_status 0
    expect_stdout_contains "usage: mlwm $c"
done
run img paths create --model-name persistence --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time 2023-10-01T12:00Z --data-kind single_levels
expect_status 0
expect_stdout "$("$MLWM" paths create --model-name persistence --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time 2023-10-01T12:00Z --data-kind single_levels)"

# --- mlwm run: the persistence model, by the host's binary and by the image
T=2023-10-01T12:00Z
IN_KEY=$("$MLWM" paths create --model-name harmonie_cy46 --model-config danra --bbox 12.5,45.65,24.52,64.40 \
    --resolution 2.5,2.5,km --analysis-time "$T" --data-kind single_levels)
OUT_PREFIX=persistence/danra/
"$PY" "$ROOT/deploy/example/make_sample_zarr.py" "$W/input.zarr" "$T" >/dev/null
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-outputs/$OUT_PREFIX"
aws_ s3 cp --recursive --only-show-errors "$W/input.zarr" "s3://mlwm-inputs/$IN_KEY/"
mkdir -p "$W/configurations"
cp -r "$ROOT/configurations/persistence" "$W/configurations/"
for who in host image; do
    cat >"$W/mlwm-$who.yaml" <<CONF
storage: {type: s3, endpoint: $EP}
docker: {socket: $SOCK}
work_dir: $W/work-$who
configurations_dir: $W/configurations
state_dir: $W/state-$who
CONF
done
run img validate --config "$W/mlwm-image.yaml"
expect_status 0
expect_stdout_contains "1 model configuration(s)"
run img ls "s3://mlwm-inputs/$IN_KEY/"
expect_status 0
expect_stdout_contains ".zmetadata"
# the model's image, built by mlwm in the image through the mounted socket
run img build-image persistence --configurations "$W/configurations" --docker-socket "$SOCK" \
    --build-arg BASE_IMAGE="${MLWM_TEST_IMAGE:?}" --quiet
expect_status 0

run "$MLWM" run --config "$W/mlwm-host.yaml" --analysis-time "$T" --model persistence
expect_status 0
aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$OUT_PREFIX" "$W/out-host"
aws_ s3 rm --recursive --only-show-errors "s3://mlwm-outputs/$OUT_PREFIX"
run img run --config "$W/mlwm-image.yaml" --analysis-time "$T" --model persistence
expect_status 0
expect_stdout_contains "persistence          0      succeeded"
aws_ s3 cp --recursive --only-show-errors "s3://mlwm-outputs/$OUT_PREFIX" "$W/out-image"
run diff -r -x _mlwm_run.json "$W/out-host" "$W/out-image"
expect_status 0
run sh -c "cd '$W/out-image' && find . -type f | wc -l"
CHECKS=$((CHECKS + 1))
[ "$OUT" -gt 5 ] || _fail "the image's run published the forecast ($OUT files)"
# the markers agree on everything but the run's start and end
run "$PY" - "$W/out-host" "$W/out-image" <<'PY'
import glob, json, sys
def marker(d):
    m = json.load(open(glob.glob(d + "/**/_mlwm_run.json", recursive=True)[0]))
    return {k: v for k, v in m.items() if k not in ("started", "finished")}
a, b = marker(sys.argv[1]), marker(sys.argv[2])
print("same" if a == b else f"differ: {a} {b}", a["exit_code"], a["outputs"]["forecast"]["objects"])
PY
expect_stdout "same 0 15"
run img status --config "$W/mlwm-image.yaml"
expect_status 0
expect_stdout_contains "RUN "
expect_stderr_contains "from the ledger $W/state-image/ledger.sqlite3"

# --- the training machine: rootless Podman, no /etc/subuid entry, the image as a file
if ! command -v podman >/dev/null; then
    echo "podman not installed: the training-machine check is skipped" >&2
    finish
    exit
fi
docker save -o "$W/mlwm-image.tar" "$IMAGE"
H=$W/trainer
mkdir -p "$H/.config/containers"
# this machine: processes cannot raise their hard limits and crun fails on
# hybrid cgroups (tests/services/podman.sh); without subuid ranges, Podman
# keeps one uid in the container (what clusters without /etc/subuid do)
cat >"$H/.config/containers/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat >"$H/.config/containers/storage.conf" <<'CONF'
[storage]
driver = "vfs"
[storage.options.vfs]
ignore_chown_errors = "true"
CONF
make_training_folder "$H/train" >/dev/null
chown -R "$TRAIN_UID:$TRAIN_UID" "$H"
chmod 755 "$W"
chmod 644 "$W/mlwm-image.tar"
as_trainer() {  # ARGS...: as the unprivileged user, in its training folder
    (cd "$H/train" && setpriv --reuid="$TRAIN_UID" --regid="$TRAIN_UID" --clear-groups \
        env -i PATH=/usr/bin:/bin HOME="$H" XDG_RUNTIME_DIR="$H/run" AWS_ENDPOINT_URL="$EP" \
        AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" "$@")
}
mkdir -p "$H/run" && chown "$TRAIN_UID" "$H/run" && chmod 700 "$H/run"
run as_trainer podman load -i "$W/mlwm-image.tar"
expect_status 0
expect_stdout_contains "localhost/$IMAGE"
run as_trainer podman info --format '{{.Host.Security.Rootless}}'
expect_stdout "true"
# where the team's artifacts go, as with the original tool: a .env in the training folder
echo 'ARTIFACT_PATH_FORMAT=s3://mlwm-test/trainer/{artifact_name}.zip' >"$H/train/.env"
# the README's command
run as_trainer sh -c 'podman run --rm --network host -v "$PWD:/train" -w /train --env "AWS_*" \
    localhost/'"$IMAGE"' build-artifact my-model --nl_config config.yaml --checkpoint last.ckpt \
    --cli_training_args_filepath training_cli_args.yaml'
expect_status 0
expect_stdout "./my-model.zip"
expect_stderr_contains "s3://mlwm-test/trainer/my-model.zip"
run stat -c %u "$H/train/my-model.zip"
expect_stdout "$TRAIN_UID"
run "$MLWM" verify-artifact "$H/train/my-model.zip"
expect_status 0
run aws_ s3 cp --only-show-errors s3://mlwm-test/trainer/my-model.zip "$W/uploaded.zip"
expect_status 0
run cmp "$W/uploaded.zip" "$H/train/my-model.zip"
expect_status 0
# the same artifact as the host's binary makes (artifact.yaml differs in host and time)
(cd "$H/train" && "$MLWM" build-artifact my-model --nl_config config.yaml --checkpoint last.ckpt \
    --cli_training_args_filepath training_cli_args.yaml --skip_upload --output "$W/host-artifact" >/dev/null 2>&1)
mkdir "$W/a" "$W/b"
(cd "$W/a" && unzip -q "$H/train/my-model.zip") && (cd "$W/b" && unzip -q "$W/host-artifact/my-model.zip")
run diff -r -x artifact.yaml "$W/a" "$W/b"
expect_status 0
run diff <(grep -A1000 '^files:' "$W/a/artifact.yaml") <(grep -A1000 '^files:' "$W/b/artifact.yaml")
expect_status 0
as_trainer podman rmi -a -f >/dev/null 2>&1 || true
finish
