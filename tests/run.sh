#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install, build, run.
#   tests/run.sh                 all tests, then a short fuzzing pass of every target
#   tests/run.sh -L unit         only one CTest label (unit, integration)
# The build is instrumented with AddressSanitizer and UndefinedBehaviorSanitizer (in
# build-sanitize); SANITIZE=0 uses the plain build (build) instead. FUZZ_SECONDS (default 10)
# is each libFuzzer target's time in tests/fuzz/ci.sh; 0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
if [ "${SANITIZE:-1}" = 1 ]; then
  build_dir=${BUILD_DIR:-build-sanitize}
  BUILD_DIR=$build_dir tests/build.sh -DZKTOOL_SANITIZE=ON
else
  build_dir=${BUILD_DIR:-build}
  BUILD_DIR=$build_dir tests/build.sh
fi
(cd "$build_dir" && ctest --output-on-failure --timeout 900 "$@")
if [ "${FUZZ_SECONDS:-10}" != 0 ] && [ $# -eq 0 ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} SEED_TOOL=$(realpath "$build_dir/tests/fuzz/fuzz_make_seeds") \
    tests/fuzz/ci.sh
fi
