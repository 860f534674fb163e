#!/usr/bin/env bash
# `mlwm build-artifact` / `mlwm verify-artifact` / `mlwm build-image --artifact`:
# a neural-lam configuration with an mdp datastore whose zarr is written by
# xarray; the zip checked with unzip and Python's zipfile, the statistics with
# xarray, the upload with the aws CLI; the error cases; a 3 GiB sparse
# checkpoint within 100 MiB of resident memory. Needs MLWM_TEST_S3_ENDPOINT,
# AWS_* and (for the image) MLWM_TEST_DOCKER_SOCKET, MLWM_TEST_IMAGE.
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EP=${MLWM_TEST_S3_ENDPOINT:?}
PY=/usr/bin/python3
aws_() { /usr/bin/aws --endpoint-url "$EP" "$@"; }
W=$(mktemp -d /tmp/mlwm-artifact.XXXXXX)
trap 'rm -rf "$W" "$_tmp"' EXIT
export AWS_ENDPOINT_URL=$EP

# a training run's files: neural-lam config, datastore config + zarr, arguments, checkpoint
source "$(dirname "$0")/training_fixture.sh"
run make_training_folder "$W/train"
expect_status 0

# build, without upload
run "$MLWM" build-artifact dini-test --nl_config "$W/train/config.yaml" --checkpoint "$W/train/last.ckpt" \
    --cli_training_args_filepath "$W/train/training_cli_args.yaml" --skip_upload --output "$W/out"
expect_status 0
expect_stdout "$W/out/dini-test.zip"
expect_stderr_contains "upload it by hand to s3://mlwm-artifacts/inference-artifacts/dini-test.zip"
ZIP=$W/out/dini-test.zip

# the listing: exactly the layout, no top-level folder, stored; unzip and Python agree
expected="artifact.yaml
checkpoint.pkl
configs/config.yaml
configs/danra.datastore.yaml
stats/danra.datastore.stats.zarr/.zattrs
stats/danra.datastore.stats.zarr/.zgroup
stats/danra.datastore.stats.zarr/.zmetadata
training_cli_args.yaml"
run sh -c "unzip -Z1 '$ZIP' | grep -v '^stats/.*/[^.]' | sort"
expect_stdout "$expected"
run sh -c "$PY -m zipfile -l '$ZIP' | tail -n +2 | awk '{print \$1}' | grep -v '^stats/.*/[^.]' | sort"
expect_stdout "$expected"
run sh -c "unzip -Z1 '$ZIP' | sort | md5sum; $PY -m zipfile -l '$ZIP' | tail -n +2 | awk '{print \$1}' | sort | md5sum"
CHECKS=$((CHECKS + 1))
[ "$(printf '%s\n' "$OUT" | sort -u | wc -l)" = 1 ] || _fail "unzip and python zipfile list the same entries"
run sh -c "unzip -v '$ZIP' | awk 'NR>3 && \$2 != \"Stored\" && \$2 != \"--------\" && NF>7 {print}'"
expect_stdout ""
run sh -c "unzip -Z1 '$ZIP' | grep -c '^stats/danra.datastore.stats.zarr/state__train__mean/'"
CHECKS=$((CHECKS + 1))
[ "$OUT" -ge 2 ] || _fail "the statistics arrays are in the zip with their chunks"

# the statistics: exactly the statistics variables, identical values, with their coordinates
mkdir -p "$W/unz" && (cd "$W/unz" && unzip -q "$ZIP")
run "$PY" -c '
import sys, xarray as xr
src = xr.open_zarr(sys.argv[1]); st = xr.open_zarr(sys.argv[2])
stats = sorted(v for v in src.data_vars if v.count("__") == 2)
assert sorted(st.data_vars) == stats, (sorted(st.data_vars), stats)
for v in stats: xr.testing.assert_identical(src[v].load(), st[v].load())
print(" ".join(stats), list(st["state__train__mean"].state_feature.values))' \
    "$W/train/data/danra.datastore.zarr" "$W/unz/stats/danra.datastore.stats.zarr"
expect_status 0
expect_stdout "forcing__train__std state__train__diff_std state__train__mean state__train__std ['t2m', 'u10', 'v10']"
run grep -x "  config_path: danra.datastore.yaml" "$W/unz/configs/config.yaml"
expect_status 0
run "$PY" -c 'import yaml,sys; a=yaml.safe_load(open(sys.argv[1])); print(a["artifact_name"], sorted(a["files"])[0], len(a["files"]), "argv" in a and "hostname" in a and "created" in a)' "$W/unz/artifact.yaml"
expect_stdout_contains "dini-test checkpoint.pkl"
expect_stdout_contains "True"
run cmp "$W/unz/checkpoint.pkl" "$W/train/last.ckpt"
expect_status 0

# verification, and a tampered zip
run "$MLWM" verify-artifact "$ZIP"
expect_status 0
expect_stdout_contains "ok: dini-test:"
cp "$ZIP" "$W/tampered.zip"
cp "$ZIP" "$W/resized.zip"
mkdir -p "$W/tamper"
cp "$W/unz/training_cli_args.yaml" "$W/tamper/"
# same size, one byte changed: only the checksum can tell
(cd "$W/tamper" && sed -i '1s/^-/#/' training_cli_args.yaml && zip -q -0 "$W/tampered.zip" training_cli_args.yaml)
run "$MLWM" verify-artifact "$W/tampered.zip"
expect_status 1
expect_stderr_contains "problem: training_cli_args.yaml: sha256"
(cd "$W/tamper" && printf -- '- num_workers: 7\n' >>training_cli_args.yaml && zip -q -0 "$W/resized.zip" training_cli_args.yaml)
run "$MLWM" verify-artifact "$W/resized.zip"
expect_status 1
expect_stderr_contains "problem: training_cli_args.yaml: "
expect_stderr_contains " bytes, artifact.yaml says "

# an artifact built by the original mlwm: its artifact.yaml fields, no checksums,
# folder entries in the zip (Python's zipfile, as the original writes it)
cp -r "$W/unz" "$W/orig"
run "$PY" - "$W/orig" "$W/original.zip" <<'PY'
import os, sys, zipfile, yaml
src, out = sys.argv[1], sys.argv[2]
meta = {"artifact_name": "dini-original", "mlwm_version": "0.3.0", "checkpoint_path": "/train/last.ckpt",
        "config_path": "config.yaml", "argv": ["build_inference_artifact", "dini-original"],
        "hostname": "gpu01", "cwd": "/train", "python_version": "3.12.3 (main)",
        "mllam_data_prep_version": "0.6.0"}
with open(os.path.join(src, "artifact.yaml"), "w") as f:
    yaml.dump(meta, f)
with zipfile.ZipFile(out, "w") as z:
    for root, dirs, files in os.walk(src):
        for n in sorted(dirs) + sorted(files):
            z.write(os.path.join(root, n), os.path.relpath(os.path.join(root, n), src))
print(sum(1 for i in zipfile.ZipFile(out).infolist() if i.is_dir()), "folder entries")
PY
expect_status 0
expect_stdout_contains "folder entries"
run "$MLWM" verify-artifact "$W/original.zip"
expect_status 0
expect_stdout_contains "ok (no checksums): dini-original:"
expect_stderr_contains "warning: artifact.yaml lists no checksums (an artifact built by the original mlwm?)"
run "$MLWM" verify-artifact --require-checksums "$W/original.zip"
expect_status 1
expect_stderr_contains "problem: artifact.yaml lists no checksums"
# what can be checked still is: a flipped byte in the stored checkpoint fails its CRC
cp "$W/original.zip" "$W/original-bad.zip"
run "$PY" - "$W/original-bad.zip" <<'PY'
import struct, sys, zipfile
path = sys.argv[1]
info = zipfile.ZipFile(path).getinfo("checkpoint.pkl")
with open(path, "r+b") as f:
    f.seek(info.header_offset)
    head = f.read(30)
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    at = info.header_offset + 30 + name_len + extra_len + 1000
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0xFF]))
PY
run "$MLWM" verify-artifact "$W/original-bad.zip"
expect_status 1
expect_stderr_contains "problem: checkpoint.pkl: cannot be read back"
# a required file missing, and a configuration that is not YAML
run "$PY" - "$W/original.zip" "$W/original-broken.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as a, zipfile.ZipFile(sys.argv[2], "w") as b:
    for i in a.infolist():
        if i.filename == "training_cli_args.yaml": continue
        data = b"datastore: [unclosed\n" if i.filename == "configs/config.yaml" else a.read(i)
        b.writestr(i, data)
PY
run "$MLWM" verify-artifact "$W/original-broken.zip"
expect_status 1
expect_stderr_contains "problem: training_cli_args.yaml: missing from the zip"
expect_stderr_contains "problem: configs/config.yaml: not YAML"
# training arguments in another YAML shape: a warning, not a refusal
printf 'num_workers: 6\nprecision: bf16-mixed\n' >"$W/train/args-map.yaml"
run "$MLWM" build-artifact dini-map --nl_config "$W/train/config.yaml" --checkpoint "$W/train/last.ckpt" \
    --cli_training_args_filepath "$W/train/args-map.yaml" --skip_upload --output "$W/out"
expect_status 0
expect_stderr_contains "warning: training arguments file $W/train/args-map.yaml: not a list of one-key maps"
# --nl_config defaults to config.yaml, and ARTIFACT_PATH_FORMAT comes from ./.env
printf '# where artifacts go\nARTIFACT_PATH_FORMAT="s3://mlwm-test/dotenv/{artifact_name}.zip"\n' >"$W/train/.env"
run sh -c "cd '$W/train' && env -u ARTIFACT_PATH_FORMAT '$MLWM' build-artifact dini-dotenv --checkpoint last.ckpt --cli_training_args_filepath training_cli_args.yaml --output '$W/out'"
expect_status 0
expect_stderr_contains "uploaded to s3://mlwm-test/dotenv/dini-dotenv.zip"
run aws_ s3api head-object --bucket mlwm-test --key dotenv/dini-dotenv.zip
expect_status 0
rm -f "$W/train/.env"

# upload (multipart above 16 MiB: a larger checkpoint), download with aws, byte-identical
head -c 40000000 /dev/urandom >"$W/train/big.ckpt"
run "$MLWM" build-artifact dini-big --nl-config "$W/train/config.yaml" --checkpoint "$W/train/big.ckpt" \
    --cli-training-args-filepath "$W/train/training_cli_args.yaml" --output "$W/out" \
    --upload-to "s3://mlwm-test/inference-artifacts/dini-big.zip"
expect_status 0
expect_stderr_contains "uploaded to s3://mlwm-test/inference-artifacts/dini-big.zip"
run aws_ s3 cp --only-show-errors s3://mlwm-test/inference-artifacts/dini-big.zip "$W/from-s3.zip"
expect_status 0
run cmp "$W/from-s3.zip" "$W/out/dini-big.zip"
expect_status 0
run aws_ s3api head-object --bucket mlwm-test --key inference-artifacts/dini-big.zip --query ETag --output text
expect_stdout_contains "-"  # a multipart ETag
ARTIFACT_PATH_FORMAT="s3://mlwm-test/env-format/{artifact_name}.zip" run "$MLWM" build-artifact dini-env \
    --nl_config "$W/train/config.yaml" --checkpoint "$W/train/last.ckpt" \
    --cli_training_args_filepath "$W/train/training_cli_args.yaml" --output "$W/out"
expect_status 0
run "$MLWM" verify-artifact s3://mlwm-test/env-format/dini-env.zip
expect_status 0

# errors
bad() { run "$MLWM" build-artifact x "$@" --skip_upload --output "$W/out"; expect_status 2; expect_stderr_one_line; }
bad --nl_config "$W/train/config.yaml" --checkpoint "$W/missing.ckpt" --cli_training_args_filepath "$W/train/training_cli_args.yaml"
expect_stderr_contains "checkpoint $W/missing.ckpt does not exist"
bad --nl_config "$W/train/config.yaml" --checkpoint "$W/train/last.ckpt" --cli_training_args_filepath "$W/none.yaml"
expect_stderr_contains "training arguments file $W/none.yaml does not exist"
printf -- '- a: [unclosed\n' >"$W/broken.yaml"
bad --nl_config "$W/train/config.yaml" --checkpoint "$W/train/last.ckpt" --cli_training_args_filepath "$W/broken.yaml"
expect_stderr_contains "not valid YAML"
printf 'training: {}\n' >"$W/not-nl.yaml"
bad --nl_config "$W/not-nl.yaml" --checkpoint "$W/train/last.ckpt" --cli_training_args_filepath "$W/train/training_cli_args.yaml"
expect_stderr_contains "does not look like a neural-lam configuration"
printf 'datastore: {kind: npyfilesmeps, config_path: data/danra.datastore.yaml}\n' >"$W/train/meps.yaml"
bad --nl_config "$W/train/meps.yaml" --checkpoint "$W/train/last.ckpt" --cli_training_args_filepath "$W/train/training_cli_args.yaml"
expect_stderr_contains "datastore kind 'npyfilesmeps'"
run sh -c "cd '$W' && '$MLWM' build-artifact x --checkpoint '$W/train/last.ckpt' --skip_upload"
expect_status 2
expect_stderr_contains "missing required option --cli-training-args-filepath"
run sh -c "cd '$W' && '$MLWM' build-artifact x --checkpoint '$W/train/last.ckpt' --cli_training_args_filepath '$W/train/training_cli_args.yaml' --skip_upload"
expect_status 2
expect_stderr_contains "config.yaml"  # --nl_config defaults to config.yaml, as in the original

# a 3 GiB sparse checkpoint: streamed, never held in memory
truncate -s 3G "$W/train/huge.ckpt"
run /usr/bin/time -f "%M" -o "$W/rss" "$MLWM" build-artifact dini-huge --nl_config "$W/train/config.yaml" \
    --checkpoint "$W/train/huge.ckpt" --cli_training_args_filepath "$W/train/training_cli_args.yaml" \
    --skip_upload --output "$W/out"
expect_status 0
rss_kib=$(tail -n 1 "$W/rss")
echo "peak resident memory with a 3 GiB checkpoint: $((rss_kib / 1024)) MiB"
CHECKS=$((CHECKS + 1))
[ "$rss_kib" -lt $((100 * 1024)) ] || _fail "peak resident memory $((rss_kib / 1024)) MiB is under 100 MiB"
rm -f "$W/out/dini-huge.zip" "$W/train/huge.ckpt"

# build-image: the artifact verified and unpacked into the build context
if [ -n "${MLWM_TEST_DOCKER_SOCKET:-}" ]; then
    mkdir -p "$W/conf/with-artifact"
    cat >"$W/conf/with-artifact/Containerfile" <<'CF'
ARG BASE_IMAGE=mlwm-test/busybox:1
FROM ${BASE_IMAGE}
COPY artifact/ /artifact/
ARG MLWM_INFERENCE_ARTIFACT_SHA256
ENV ARTIFACT_SHA256=${MLWM_INFERENCE_ARTIFACT_SHA256}
CMD ["sh", "-c", "head -n 1 /artifact/artifact.yaml; ls /artifact/stats; echo $ARTIFACT_SHA256"]
CF
    run "$MLWM" build-image with-artifact --configurations "$W/conf" --docker-socket "$MLWM_TEST_DOCKER_SOCKET" \
        --build-arg "BASE_IMAGE=$MLWM_TEST_IMAGE" --artifact "file://$ZIP" --repository mlwm-test --tag a1 --quiet
    expect_status 0
    expect_stderr_contains "files verified, unpacked into artifact/"
    # the zip's checksum: a build argument (recorded by the Containerfile) and a label
    sum=$(sha256sum "$ZIP" | cut -d' ' -f1)
    run env DOCKER_HOST="unix://$MLWM_TEST_DOCKER_SOCKET" docker run --rm --network none mlwm-test/with-artifact:a1
    expect_stdout "artifact_name: dini-test
danra.datastore.stats.zarr
$sum"
    run env DOCKER_HOST="unix://$MLWM_TEST_DOCKER_SOCKET" docker image inspect mlwm-test/with-artifact:a1 \
        -f '{{index .Config.Labels "org.mlwm.inference-artifact.sha256"}}'
    expect_stdout "$sum"
    run "$MLWM" build-image with-artifact --configurations "$W/conf" --docker-socket "$MLWM_TEST_DOCKER_SOCKET" \
        --build-arg "BASE_IMAGE=$MLWM_TEST_IMAGE" --artifact "file://$W/tampered.zip" --repository mlwm-test --tag a2
    expect_status 1
    expect_stderr_contains "training_cli_args.yaml: sha256"
    expect_stderr_contains "not building"
    # the original's artifact: built, with the warning; refused with --require-checksums
    run "$MLWM" build-image with-artifact --configurations "$W/conf" --docker-socket "$MLWM_TEST_DOCKER_SOCKET" \
        --build-arg "BASE_IMAGE=$MLWM_TEST_IMAGE" --artifact "file://$W/original.zip" --repository mlwm-test --tag a3 --quiet
    expect_status 0
    expect_stderr_contains "warning: inference artifact file://$W/original.zip: artifact.yaml lists no checksums"
    expect_stderr_contains "files checked (no checksums), unpacked into artifact/"
    run env DOCKER_HOST="unix://$MLWM_TEST_DOCKER_SOCKET" docker run --rm --network none mlwm-test/with-artifact:a3
    expect_stdout_contains "danra.datastore.stats.zarr"
    run "$MLWM" build-image with-artifact --configurations "$W/conf" --docker-socket "$MLWM_TEST_DOCKER_SOCKET" \
        --build-arg "BASE_IMAGE=$MLWM_TEST_IMAGE" --artifact "file://$W/original.zip" --repository mlwm-test --tag a4 \
        --require-checksums
    expect_status 1
    expect_stderr_contains "artifact.yaml lists no checksums"

    # an artifact kept elsewhere (Zenodo), pinned by its sha256: served here by
    # an HTTPS server on loopback with its own certificate, behind a redirect
    mkdir -p "$W/www/files"
    cp "$W/original.zip" "$W/www/files/model.zip"
    pin=$(sha256sum "$W/original.zip" | cut -d' ' -f1)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    cat >"$W/https.py" <<'PY'
import http.server, ssl, sys
root, cert, key, port_file = sys.argv[1:5]
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def do_GET(self):
        if self.path.startswith("/records/"):  # like Zenodo: a redirect to the file
            self.send_response(302)
            self.send_header("Location", "/files/" + self.path.rsplit("/", 1)[1])
            self.end_headers()
            return
        super().do_GET()
    def log_message(self, *a): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
open(port_file + ".tmp", "w").write(str(server.server_address[1]))
__import__("os").rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
    "$PY" "$W/https.py" "$W/www" "$W/cert.pem" "$W/key.pem" "$W/https.port" &
    https_pid=$!
    trap 'kill "$https_pid" 2>/dev/null; rm -rf "$W" "$_tmp"' EXIT
    deadline=$(($(date +%s) + 30))
    until [ -s "$W/https.port" ]; do
        [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$https_pid" || { echo "https server did not start" >&2; exit 1; }
        sleep 0.1
    done
    URL=https://127.0.0.1:$(cat "$W/https.port")
    image() { run env CURL_CA_BUNDLE="$W/cert.pem" "$MLWM" build-image "$1" --configurations "$W/conf" \
        --docker-socket "$MLWM_TEST_DOCKER_SOCKET" --build-arg "BASE_IMAGE=$MLWM_TEST_IMAGE" \
        --repository mlwm-test --quiet "${@:2}"; }
    image with-artifact --artifact "$URL/records/model.zip" --artifact-sha256 "$pin" --tag h1
    expect_status 0
    expect_stderr_contains "inference artifact $URL/records/model.zip: sha256 matches the pin"
    run env DOCKER_HOST="unix://$MLWM_TEST_DOCKER_SOCKET" docker run --rm --network none mlwm-test/with-artifact:h1
    expect_stdout_contains "danra.datastore.stats.zarr"
    # the pin in config.yaml, as the original's forks would write it
    cp -r "$W/conf/with-artifact" "$W/conf/pinned"
    sed -n '/^docker_image/,$p' "$ROOT/tests/fixtures/original-layout/surface-dummy-model_DINI/config.yaml" \
        >"$W/conf/pinned/config.yaml"
    printf 'inference_artifact:\n  url: %s/records/model.zip\n  sha256: %s\n' "$URL" "${pin^^}" >>"$W/conf/pinned/config.yaml"
    image pinned --tag h2
    expect_status 0
    expect_stderr_contains "sha256 matches the pin"
    # refused: another file than pinned, no pin, no such file, a certificate not trusted
    wrong=$(printf '0%.0s' $(seq 64))
    image with-artifact --artifact "$URL/files/model.zip" --artifact-sha256 "$wrong" --tag h3
    expect_status 1
    expect_stderr_contains "inference artifact $URL/files/model.zip: sha256 $pin, pinned $wrong; not building"
    image with-artifact --artifact "$URL/files/model.zip" --tag h3
    expect_status 2
    expect_stderr_contains "a download needs a pinned checksum (--artifact-sha256 HEX"
    image with-artifact --artifact "$URL/files/nope.zip" --artifact-sha256 "$pin" --tag h3
    expect_status 1
    expect_stderr_contains "downloading $URL/files/nope.zip: HTTP 404"
    run env CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt "$MLWM" build-image with-artifact --configurations "$W/conf" \
        --docker-socket "$MLWM_TEST_DOCKER_SOCKET" --artifact "$URL/files/model.zip" --artifact-sha256 "$pin"
    expect_status 1
    expect_stderr_contains "downloading $URL/files/model.zip: "
    expect_stderr_contains "certificate"
    run env DOCKER_HOST="unix://$MLWM_TEST_DOCKER_SOCKET" docker image inspect mlwm-test/with-artifact:h3
    expect_status 1
fi
finish
