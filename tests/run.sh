#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install, build, run.
#   tests/run.sh                 all tests, then a short fuzzing pass of every target
#   tests/run.sh -L unit         only one CTest label (unit, integration)
# The build is instrumented with AddressSanitizer and UndefinedBehaviorSanitizer (in
# build-sanitize); SANITIZE=0 uses the plain build (build) instead. Warnings are errors here.
# FUZZ_SECONDS (default 10) is each libFuzzer target's time in tests/fuzz/ci.sh; 0 skips it.
# A relative BUILD_DIR is taken from the directory this script was called from.
set -euo pipefail
if [ "${SANITIZE:-1}" = 1 ]; then
  build_dir=$(realpath -m "${BUILD_DIR:-build-sanitize}")
  sanitize=ON
else
  build_dir=$(realpath -m "${BUILD_DIR:-build}")
  sanitize=OFF
fi
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD_DIR=$build_dir ZKTOOL_WERROR=ON tests/build.sh -DZKTOOL_SANITIZE=$sanitize
(cd "$build_dir" && ctest --output-on-failure --timeout 900 "$@")
if [ "${FUZZ_SECONDS:-10}" != 0 ] && [ $# -eq 0 ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} SEED_TOOL=$build_dir/tests/fuzz/fuzz_make_seeds \
    tests/fuzz/ci.sh
fi
