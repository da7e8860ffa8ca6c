#!/usr/bin/env bash
# Installs every Debian package zk-tool needs to build, test and benchmark.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libarchive-dev libsystemd-dev libcurl4-openssl-dev libspdlog-dev libzookeeper-mt-dev
  nlohmann-json3-dev libcli11-dev libssl-dev libleveldb-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libsnappy-dev libzstd-dev libisal-dev
  zookeeper default-jre-headless systemd dbus-user-session
  python3 python3-plyvel python3-protobuf netcat-openbsd zstd libarchive-tools strace
  dpkg-dev file time
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
