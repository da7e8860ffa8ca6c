#!/usr/bin/env bash
# The main job end to end on an embedded default: installs what the demo needs, builds zk-tool
# and the demo harness (Release, in ${BUILD_DIR:-build-release}; not the tests), starts a local
# 3-node ZooKeeper ensemble (Debian's zookeeper package) whose nodes are units of a real systemd
# user manager, writes sample data through the client API, then runs zk-tool as an operator
# would: status, inspect, backup, verify, a destructive change, restore on every master at once,
# and checks the restored tree znode by znode against the tree at backup time.
# Works from any directory; a relative BUILD_DIR or DEMO_DIR is taken from the directory it was
# called from. DEMO_DIR (default: a new directory under /tmp, removed when the demo passes) is
# the demo's work directory, kept afterwards with the archive in it.
# Needs root (the systemd user manager runs in a private mount namespace).
set -euo pipefail
build_dir=$(realpath -m "${BUILD_DIR:-build-release}")
demo_dir=${DEMO_DIR:+$(realpath -m "$DEMO_DIR")}
cd "$(dirname "$0")/.."
tests/install-deps.sh demo
BUILD_DIR=$build_dir BUILD_TYPE=Release TARGETS="zk-tool zk-demo" \
  tests/build.sh -DZKTOOL_BUILD_TESTS=OFF -DZKTOOL_BUILD_DEMO=ON -DZKTOOL_BUILD_BENCH=OFF
exec "$build_dir"/tests/env/zk-demo --zk-tool "$build_dir/src/zk-tool" ${demo_dir:+--dir "$demo_dir"}
