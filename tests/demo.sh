#!/usr/bin/env bash
# The main job end to end on an embedded default: installs and builds zk-tool,
# starts a local 3-node ZooKeeper ensemble (Debian's zookeeper package) on
# 127.0.0.1, writes sample data through the client API, and shows zk-tool on
# every node's live data directory. The ensemble is stopped at the end; set
# KEEP=1 to leave it running (stop it with: build/tests/env/zk-ensemble stop --dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
tests/build.sh
build=${BUILD_DIR:-build}

work=${DEMO_DIR:-$(mktemp -d /tmp/zk-tool-demo.XXXXXX)}
echo "== starting a 3-node ZooKeeper ensemble in $work"
"$build"/tests/env/zk-ensemble start --dir "$work" --nodes 3 --snap-count 1000 --extended-types \
  | tee "$work/ensemble.txt"
[ "${KEEP:-0}" = 1 ] || trap '"$build"/tests/env/zk-ensemble stop --dir "$work" >/dev/null' EXIT
connect=$(sed -n 's/^connect=//p' "$work/ensemble.txt")

echo "== writing sample data (every kind of znode, ACLs, multi, 1 MB znodes, deletes and updates)"
"$build"/bench/zk-populate --connect "$connect" --profile varied --bulk 3000

for cfg in "$work"/node*/zoo.cfg; do
  echo
  echo "== zk-tool inspect --zoo-cfg $cfg"
  "$build"/src/zk-tool inspect --zoo-cfg "$cfg"
done
