#!/usr/bin/env bash
# `mlwm build-image` through the real binary against the engine under test
# (MLWM_TEST_DOCKER_SOCKET, MLWM_TEST_IMAGE set by tests/integration/run.sh).
source "$(dirname "$0")/../cli/lib.sh"
MLWM=$1
SOCK=${MLWM_TEST_DOCKER_SOCKET:?}
BASE=${MLWM_TEST_IMAGE:?}
FIXTURES=$(cd "$(dirname "$0")/../fixtures/configurations" && pwd)
SERVICES=$(cd "$(dirname "$0")/../services" && pwd)
docker_() { DOCKER_HOST=unix://$SOCK docker "$@"; }
build() { run "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" --build-arg "BASE_IMAGE=$BASE" "$@"; }

rev=$(git -C "$FIXTURES/hello" rev-parse --short=12 HEAD)
[ -z "$(git -C "$FIXTURES/hello" status --porcelain -- .)" ] || rev="$rev-dirty"

build hello --build-arg MESSAGE=bonjour --repository mlwm-test
expect_status 0
expect_stdout_contains "sha256:"
expect_stdout_contains "mlwm-test/hello:$rev"
expect_stdout_contains "mlwm-test/hello:latest"
expect_stderr_contains "building mlwm-test/hello:$rev"

# OCI labels, as the docker CLI sees them; both tags name one image
run docker_ image inspect --format '{{index .Config.Labels "org.opencontainers.image.revision"}}|{{index .Config.Labels "org.opencontainers.image.title"}}|{{.Id}}' "mlwm-test/hello:latest"
expect_status 0
id_latest=${OUT##*|}
expect_stdout_contains "$rev|hello|sha256:"
run docker_ image inspect --format '{{.Id}}' "mlwm-test/hello:$rev"
expect_stdout "$id_latest"
run docker_ image inspect --format '{{index .Config.Labels "org.opencontainers.image.created"}}' "mlwm-test/hello:latest"
[[ $OUT =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || _fail "created label is RFC 3339 UTC"
CHECKS=$((CHECKS + 1))

# the image runs, with the build argument applied
run docker_ run --rm --network none "mlwm-test/hello:latest"
expect_status 0
expect_stdout "bonjour"

# explicit tags
build hello --repository mlwm-test --tag t1 --tag t2 --quiet
expect_status 0
expect_stdout_contains "mlwm-test/hello:t1"
expect_stdout_contains "mlwm-test/hello:t2"

# a failing build: exit 1 and the engine's message
build broken --repository mlwm-test
expect_status 1
expect_stderr_contains "about to fail"
last=$(printf '%s\n' "$ERR" | tail -n 1)
CHECKS=$((CHECKS + 1))
[[ $last == "mlwm build-image: build "*"broken: "* && ( $last == *"non-zero code: 7"* || $last == *"exit status 7"* ) ]] ||
    _fail "last stderr line names the build and the engine's error (got: $last)"

# bad input: exit 2, one line
build nope
expect_status 2
expect_stderr_one_line
expect_stderr_contains "no model 'nope'"
expect_stderr_contains "broken, hello"

# --build-arg NAME takes its value from the environment, as docker build does
run env MESSAGE=from-env "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" \
    --build-arg "BASE_IMAGE=$BASE" hello --build-arg MESSAGE --repository mlwm-test --tag envarg --quiet
expect_status 0
run docker_ run --rm --network none "mlwm-test/hello:envarg"
expect_stdout "from-env"
# ... and a NAME not in the environment is not passed (the Containerfile's default applies), said on stderr
run env -u MLWM_UNSET_ARG "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" \
    --build-arg "BASE_IMAGE=$BASE" hello --build-arg MLWM_UNSET_ARG --repository mlwm-test --tag unset --quiet
expect_status 0
expect_stderr_contains "--build-arg MLWM_UNSET_ARG: not set in the environment; not passed"
run docker_ run --rm --network none "mlwm-test/hello:unset"
expect_stdout "hello"

run "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" hello --build-arg =x
expect_status 2
expect_stderr_contains "--build-arg '=x': expected NAME=VALUE or NAME"

# --push: to a registry on loopback that wants credentials, found as docker
# push finds them ($DOCKER_CONFIG/config.json); the digest printed is the one the
# registry serves, and the docker CLI pulls and runs the image by it
manifest_digest() {  # USER:PASS REGISTRY REPO TAG
    curl -s -I -u "$1" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$2/v2/$3/manifests/$4" |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
if [ "${MLWM_TEST_ENGINE:-docker}" = docker ]; then
    PW=$(mktemp -d /tmp/mlwm-push.XXXXXX)
    trap '"$SERVICES/registry.sh" stop "$PW/registry" >/dev/null 2>&1; rm -rf "$PW" "$_tmp"' EXIT
    AUTH_PORT=${MLWM_TEST_AUTH_REGISTRY_PORT:-5056}
    REG=127.0.0.1:$AUTH_PORT
    python3 -W ignore -c 'import crypt; print("pusher:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' >"$PW/htpasswd"
    REGISTRY_HTPASSWD=$PW/htpasswd "$SERVICES/registry.sh" start "$PW/registry" "$AUTH_PORT" >/dev/null
    mkdir -p "$PW/good" "$PW/bad" "$PW/none"
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf pusher:s3cret | base64)" >"$PW/good/config.json"
    printf '{"auths": {"https://%s/v1/": {"auth": "%s"}}}\n' "$REG" "$(printf pusher:wrong | base64)" >"$PW/bad/config.json"
    push() { run env DOCKER_CONFIG="$1" "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" \
        --build-arg "BASE_IMAGE=$BASE" hello --repository "$REG/mlwm-test" --push --quiet "${@:2}"; }
    push "$PW/none" --tag p0
    expect_status 1
    expect_stderr_contains "pushing $REG/mlwm-test/hello:p0 to $REG (no credentials in $PW/none/config.json)"
    expect_stderr_contains "mlwm build-image: push $REG/mlwm-test/hello:p0: "
    push "$PW/bad" --tag p0
    expect_status 1
    expect_stderr_contains "(credentials from $PW/bad/config.json)"
    expect_stderr_contains "unauthorized"
    push "$PW/good" --tag p1 --tag p2
    expect_status 0
    expect_stderr_contains "pushing $REG/mlwm-test/hello:p2 to $REG (credentials from $PW/good/config.json)"
    pushed=$(printf '%s\n' "$OUT" | sed -n "s|^$REG/mlwm-test/hello:p1@||p")
    CHECKS=$((CHECKS + 1))
    [[ $pushed == sha256:* ]] || _fail "--push prints REPO:TAG@DIGEST (got: $OUT)"
    expect_stdout_contains "$REG/mlwm-test/hello:p2@$pushed"
    run manifest_digest pusher:s3cret "$REG" mlwm-test/hello p1
    expect_stdout "$pushed"
    run env DOCKER_CONFIG="$PW/good" DOCKER_HOST="unix://$SOCK" docker pull -q "$REG/mlwm-test/hello@$pushed"
    expect_status 0
    run docker_ run --rm --network none "$REG/mlwm-test/hello@$pushed"
    expect_stdout "hello"
else
    # Podman's Docker-compatible push, to the tests' registry (no credentials)
    run "$MLWM" build-image --configurations "$FIXTURES" --docker-socket "$SOCK" \
        --build-arg "BASE_IMAGE=$BASE" hello --repository "${MLWM_TEST_REGISTRY:?}/mlwm-test" --tag pp --push --quiet
    expect_status 0
    pushed=$(printf '%s\n' "$OUT" | sed -n "s|^$MLWM_TEST_REGISTRY/mlwm-test/hello:pp@||p")
    run manifest_digest x:x "$MLWM_TEST_REGISTRY" mlwm-test/hello pp
    expect_stdout "$pushed"
fi

run "$MLWM" build-image --configurations "$FIXTURES" --docker-socket /nonexistent/docker.sock hello
expect_status 1
expect_stderr_one_line
expect_stderr_contains "does not exist"

finish
