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
# Where the tests look for ZooKeeper 3.4.14 (tests/support/java_runtime.h), said up front.
jar=${ZKTOOL_ZOOKEEPER_3_4_14_JAR:-$(realpath -m ../shared/zookeeper/3.4.14/zookeeper-3.4.14.jar)}
if [ -f "$jar" ]; then
  echo "ZooKeeper 3.4.14: $jar (the zk3.4.14.* tests run on it)" >&2
else
  echo "ZooKeeper 3.4.14: no jar at $jar (ZKTOOL_ZOOKEEPER_3_4_14_JAR names one): the zk3.4.14.* tests skip" >&2
fi
(cd "$build_dir" && ctest --output-on-failure --timeout 900 "$@")
if [ "${FUZZ_SECONDS:-10}" != 0 ] && [ $# -eq 0 ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} SEED_TOOL=$build_dir/tests/fuzz/fuzz_make_seeds \
    tests/fuzz/ci.sh
fi
