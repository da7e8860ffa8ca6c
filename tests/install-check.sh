#!/usr/bin/env bash
# Installs the Debian package into a fresh Debian 12 root and runs it from the installed files:
#   tests/install-check.sh DEB ARCHIVE
# mmdebstrap makes the root from this machine's own apt sources (minimal: apt and man-db); apt
# inside it installs DEB, so the package's Depends must be right. Then, in that root:
# `zk-tool --version` (must equal the build's, naming its commit), `zk-tool verify ARCHIVE`, and
# `man zk-tool`. The root is removed afterwards. Needs root.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DEB ARCHIVE" >&2; exit 2; }
deb=$(realpath "$1") archive=$(realpath "$2")
expected_version=${EXPECTED_VERSION:-}
cd "$(dirname "$0")/.."
tests/install-deps.sh

root=$(mktemp -d /tmp/zk-tool-install-check.XXXXXX)
trap 'rm -rf "$root"' EXIT
# This machine's own apt sources, one-line or deb822 files alike: no mirror is named here.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && sources+=("$f")
done
mmdebstrap --quiet --variant=apt --mode=root --include=man-db \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --customize-hook="copy-in $deb /tmp" \
  --customize-hook="chroot \"\$1\" apt-get install --yes --no-install-recommends -qq /tmp/$(basename "$deb") >/dev/null" \
  bookworm "$root" "${sources[@]}"
cp "$archive" "$root/tmp/archive"

in_root() { unshare --mount --pid --fork --mount-proc="$root/proc" chroot "$root" "$@"; }
fail() { echo "install check: $*" >&2; exit 1; }

version=$(in_root zk-tool --version) || fail "zk-tool --version failed"
echo "installed: $version"
[[ $version =~ ^zk-tool\ [0-9.]+\ \(commit\ [0-9a-f]{40}(-dirty)?\)$ ]] ||
  fail "--version does not name a version and a commit: $version"
[ -z "$expected_version" ] || [ "$version" = "$expected_version" ] ||
  fail "installed '$version', built '$expected_version'"
in_root zk-tool verify /tmp/archive || fail "zk-tool verify failed in the installed root"
man_page=$(in_root env MANPAGER=cat MANWIDTH=80 man zk-tool 2>&1) || fail "man zk-tool: $man_page"
grep -q "^NAME" <<<"$man_page" && grep -q "zk-tool" <<<"$man_page" ||
  fail "man zk-tool shows no NAME section"
echo "man zk-tool: $(grep -c '' <<<"$man_page") lines"
echo "install check: passed"
