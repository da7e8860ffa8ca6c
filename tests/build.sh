#!/usr/bin/env bash
# Configures and builds zk-tool into ${BUILD_DIR:-build}. Extra arguments go to cmake's configure
# step. BUILD_TYPE (default RelWithDebInfo) is the build type; TARGETS (default: everything) the
# targets to build; ZKTOOL_WERROR=ON makes warnings errors (tests/run.sh and CI set it).
# A relative BUILD_DIR is taken from the directory this script was called from.
set -euo pipefail
build_dir=$(realpath -m "${BUILD_DIR:-build}")
cd "$(dirname "$0")/.."
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DZKTOOL_WERROR="${ZKTOOL_WERROR:-OFF}" "$@" >/dev/null
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
