#!/usr/bin/env bash
# CI's short fuzzing pass: every target for ${FUZZ_SECONDS:-20} s (tests/fuzz/run.sh), when clang
# and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev) are installed; skipped otherwise.
# Exits non-zero on the first target that crashes, naming the saved input.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang++ >/dev/null || ! echo 'int main(){}' |
     clang++ -x c++ -fsanitize=fuzzer-no-link,address - -o /dev/null 2>/dev/null; then
  echo "fuzz: clang with libFuzzer is not installed; skipped" >&2
  exit 0
fi
for target in snapshot txn_log manifest exhibitor_status archive; do
  echo "fuzz: $target" >&2
  if ! tests/fuzz/run.sh "$target" "${FUZZ_SECONDS:-20}" 2>"${TMPDIR:-/tmp}/fuzz-$target.log"; then
    tail -n 40 "${TMPDIR:-/tmp}/fuzz-$target.log" >&2
    echo "fuzz: $target crashed; inputs in ${FUZZ_BUILD_DIR:-build-fuzz}/fuzz-crashes/$target" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "${TMPDIR:-/tmp}/fuzz-$target.log" >&2 || true
done
