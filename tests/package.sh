#!/usr/bin/env bash
# Builds the Debian package from a Release build and checks it with lintian:
#   tests/package.sh             writes ${BUILD_DIR:-build-release}/package/zk-tool_<version>_<arch>.deb
# The Release build is the one tests/demo.sh makes (same BUILD_DIR): only zk-tool and the
# compressed docs are built here. lintian must report no errors; its warnings are printed.
# A relative BUILD_DIR is taken from the directory this script was called from.
set -euo pipefail
build_dir=$(realpath -m "${BUILD_DIR:-build-release}")
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD_DIR=$build_dir BUILD_TYPE=Release TARGETS="zk-tool zktool_docs" tests/build.sh
rm -rf "$build_dir/package"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$build_dir/package" >/dev/null
deb=$(ls "$build_dir"/package/zk-tool_*.deb)
# --fail-on error: warnings are reported, errors fail. Run as root (CI is): lintian says so.
lintian --fail-on error --allow-root --tag-display-limit 0 "$deb"
echo "$deb"
