#!/usr/bin/env bash
# tests/run.sh -- the whole test suite, from a fresh Debian 12 machine:
# installs the dependencies, builds, and runs every test:
#   1. formatting check (clang-format)
#   2. release build with -Werror: unit tests and functional CLI tests, then the
#      integration tests against real services it starts (dockerd, podman)
#   3. the Debian package: built with CPack, installed, verified and purged in a
#      fresh Debian 12 root (tests/package/test_deb.sh); the mlwm image made
#      from it is tested with the integration tests (tests/package/test_image.sh)
#   4. the unit and functional tests (ctest) again in an AddressSanitizer +
#      UndefinedBehaviorSanitizer build (the integration programs are not built there)
#   5. the libFuzzer run of the key parsers (clang; MLWM_FUZZ_SECONDS, default 60)
# Environment: MLWM_JOBS (default 2), MLWM_FUZZ_SECONDS, MLWM_SKIP="package integration asan fuzz"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${MLWM_JOBS:-2}
SKIP=" ${MLWM_SKIP:-} "
T0=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - T0)); }
skipped() { [[ $SKIP == *" $1 "* ]] && { echo "skipped ($1 in MLWM_SKIP)"; }; }

step "dependencies"
tests/install-deps.sh all

step "formatting"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find core daemon tests -name '*.[ch]pp')
clang-format --dry-run -Werror "${sources[@]}"
echo "${#sources[@]} files formatted"
# no stray empty files (a shell redirect swept in by a commit)
empty=$(git ls-files -z 2>/dev/null | while IFS= read -r -d '' f; do
    [ -f "$f" ] && [ ! -s "$f" ] && [[ $f != */__init__.py ]] && echo "$f"; done || true)
[ -z "$empty" ] || { echo "empty files in the repository (strays?): $empty" >&2; exit 1; }

build_and_test() {  # NAME CMAKE_ARGS...
    local dir=$ROOT/$1
    shift
    cmake -S "$ROOT" -B "$dir" -DMLWM_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$JOBS"
    (cd "$dir" && ctest --output-on-failure -j"$JOBS")
}

step "release build + tests"
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo

step "Debian package (CPack), installed in a fresh Debian 12 root"
if ! skipped package; then
    cmake -S "$ROOT" -B "$ROOT/build-deb" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
        -DMLWM_PACKAGE=ON -DMLWM_TESTS=OFF >/dev/null  # -Werror is the build above's (-O3 adds
    # GCC 12 false positives: -Wrestrict in std::string's operator+, PR105329)
    cmake --build "$ROOT/build-deb" -j"$JOBS"
    tests/package/test_deb.sh "$ROOT/build-deb"
    # the mlwm image is built from it and tested with the services (tests/package/test_image.sh)
    MLWM_TEST_DEB=$(ls "$ROOT"/build-deb/mlwm_*.deb)
    export MLWM_TEST_DEB
fi

step "integration tests (private dockerd and podman)"
if ! skipped integration; then
    tests/integration/run.sh build
fi

step "ASan + UBSan build + tests"
if ! skipped asan; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DMLWM_SANITIZE=ON -DMLWM_INTEGRATION=OFF
fi

step "fuzzing the key parsers"
if ! skipped fuzz; then
    CXX=clang++ cmake -S "$ROOT" -B build-fuzz -DMLWM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-fuzz -j"$JOBS"
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    cp tests/fuzz/corpus/* "$corpus/"
    build-fuzz/tests/fuzz/fuzz_paths -max_total_time="${MLWM_FUZZ_SECONDS:-60}" \
        -dict=tests/fuzz/paths.dict -print_final_stats=1 "$corpus" 2>&1 | tail -n 8
fi

step "all tests passed"
