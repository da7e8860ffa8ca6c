#!/usr/bin/env bash
# The main job end to end on an embedded default: installs and builds zk-tool,
# starts a local 3-node ZooKeeper ensemble (Debian's zookeeper package) whose
# nodes are units of a real systemd user manager, writes sample data through
# the client API, then runs zk-tool as an operator would: status, inspect,
# backup, verify, a destructive change, restore on every master at once, and
# checks the restored tree znode by znode against the tree at backup time.
# Needs root (the systemd user manager runs in a private mount namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
tests/build.sh
build=${BUILD_DIR:-build}
exec "$build"/tests/env/zk-demo --zk-tool "$build/src/zk-tool" ${DEMO_DIR:+--dir "$DEMO_DIR"}
