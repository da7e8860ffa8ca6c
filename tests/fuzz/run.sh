#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET SECONDS: fuzzes one target (snapshot, txn_log, manifest,
# exhibitor_status, archive) with libFuzzer for SECONDS.
#
# Builds with clang (ZKTOOL_FUZZ=ON: libFuzzer, AddressSanitizer, UBSan) in
# ${FUZZ_BUILD_DIR:-build-fuzz}, writes the seed corpus there once (fuzz_make_seeds:
# tests/data/zk38 and archives the real writer makes; SEED_TOOL names one already built, e.g.
# the test build's, so only the fuzz targets need clang), and keeps the corpus it grows in
# <build>/fuzz-corpus/TARGET for the next run. A crash is saved in <build>/fuzz-crashes/TARGET/
# and the script exits non-zero; copy the input to tests/fuzz/regressions/TARGET/ with the fix.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 TARGET SECONDS" >&2; exit 2; }
target=$1 seconds=$2
cd "$(dirname "$0")/../.."
build=$(realpath -m "${FUZZ_BUILD_DIR:-build-fuzz}")

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DZKTOOL_FUZZ=ON -DZKTOOL_BUILD_BENCH=OFF >/dev/null
fi
# The seed writer is plain code: any build's will do (SEED_TOOL), else this one's.
seed_tool=${SEED_TOOL:-$build/tests/fuzz/fuzz_make_seeds}
targets=("fuzz_$target")
[ -n "${SEED_TOOL:-}" ] || targets+=(fuzz_make_seeds)
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}" >/dev/null

seeds=$build/fuzz-seeds
[ -d "$seeds" ] || "$seed_tool" "$seeds" tests/data/zk38 >/dev/null
corpus=$build/fuzz-corpus/$target
crashes=$build/fuzz-crashes/$target
mkdir -p "$corpus" "$crashes"
# The archive target extracts every input: keep that in memory.
TMPDIR=${TMPDIR:-/dev/shm} "$build/tests/fuzz/fuzz_$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "$corpus" "$seeds/$target"
