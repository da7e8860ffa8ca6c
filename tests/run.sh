#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install, build, run.
#   tests/run.sh                 all tests
#   tests/run.sh -L unit         only one CTest label (unit, integration)
# SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build-sanitize} tests/build.sh -DZKTOOL_SANITIZE=ON
  build_dir=${BUILD_DIR:-build-sanitize}
else
  tests/build.sh
  build_dir=${BUILD_DIR:-build}
fi
cd "$build_dir"
ctest --output-on-failure --timeout 900 "$@"
