#!/usr/bin/env bash
# Backup and restore of one ZooKeeper node, zk-tool against the dcos-zk algorithm, on R1 written
# by a real 3-node ensemble run as systemd units (bench-backup). Needs root. ZNODES (default
# 100,000) sizes R1, REPEAT (default 3) the runs per measure; BUILD_DIR as for tests/build.sh.
set -euo pipefail
build=$(realpath -m "${BUILD_DIR:-build}")
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD_DIR=$build tests/build.sh -DZKTOOL_BUILD_BENCH=ON  # incremental: builds only what changed
exec "$build"/bench/bench-backup --zk-tool "$build/src/zk-tool" --znodes "${ZNODES:-100000}" \
  --repeat "${REPEAT:-3}"
