#!/usr/bin/env bash
# Installs the Debian packages zk-tool needs:
#   tests/install-deps.sh demo   to build zk-tool and run the demo (tests/demo.sh)
#   tests/install-deps.sh        everything: also the tests, fuzzing, benchmarks and the package
#                                checks (tests/run.sh, tests/package.sh, tests/install-check.sh)
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

demo=(
  build-essential cmake pkg-config git
  libarchive-dev libsodium-dev libsystemd-dev libcurl4-openssl-dev libspdlog-dev libzookeeper-mt-dev
  nlohmann-json3-dev libcli11-dev libssl-dev libleveldb-dev libprotobuf-dev protobuf-compiler
  zlib1g-dev libsnappy-dev libzstd-dev libisal-dev
  zookeeper default-jre-headless systemd dbus-user-session
)
tests=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-plyvel python3-protobuf netcat-openbsd zstd libarchive-tools strace
  dpkg-dev file time
  clang libclang-rt-14-dev
  lintian mmdebstrap man-db
  liblog4j1.2-java libslf4j-java  # the class path of ZooKeeper 3.4.14 (tests/support/java_runtime.h)
  ceph-mon ceph-osd radosgw ceph-common curl  # a real S3 store and a SigV4 client (tests/s3/ceph_gateway.h)
)
case "${1:-all}" in
  demo) packages=("${demo[@]}") ;;
  all) packages=("${demo[@]}" "${tests[@]}") ;;
  *) echo "usage: tests/install-deps.sh [demo]" >&2; exit 2 ;;
esac

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
