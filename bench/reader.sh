#!/usr/bin/env bash
# The snapshot reader benchmark on R1-shaped data written by a real ZooKeeper:
# a standalone server takes ZNODES znodes of 1 KiB (default 100,000: a ~110 MB
# snapshot), is restarted so it writes a snapshot of the quiet tree, then
# bench-snapshot-reader compares zk-tool with ZooKeeper's SnapshotFormatter.
set -euo pipefail
build=$(realpath -m "${BUILD_DIR:-build}")
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD_DIR=$build tests/build.sh
znodes=${ZNODES:-100000}
work=$(mktemp -d /tmp/zk-tool-bench-reader.XXXXXX)
trap '"$build"/tests/env/zk-ensemble stop --dir "$work" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

"$build"/tests/env/zk-ensemble start --dir "$work" --nodes 1 --heap-mb 2048 > "$work/ensemble.txt"
connect=$(sed -n 's/^connect=//p' "$work/ensemble.txt")
"$build"/bench/zk-populate --connect "$connect" --profile r1 --znodes "$znodes" > /dev/null
# A restarted standalone server snapshots the tree it loaded.
"$build"/tests/env/zk-ensemble stop --dir "$work" > /dev/null
"$build"/tests/env/zk-ensemble start --dir "$work" --nodes 1 --heap-mb 2048 > /dev/null
"$build"/tests/env/zk-ensemble stop --dir "$work" > /dev/null

node=$(ls -d "$work"/node1)
snapshot=$(ls -t "$node"/data/version-2/snapshot.* | head -1)
"$build"/bench/bench-snapshot-reader --snapshot "$snapshot" --data-dir "$node/data" \
  --data-log-dir "$node/datalog" --zk-tool "$build/src/zk-tool" --repeat "${REPEAT:-5}"
