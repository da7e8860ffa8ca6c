// A real S3 store for tests: a one-node Ceph cluster with the RADOS Gateway,
// from Debian 12's Ceph packages, which checks AWS Signature V4 and payload
// hashes (x-amz-content-sha256) as AWS does.
//
// What it starts: in a fresh directory under `scratch`, one monitor, one OSD
// on memstore (objects live in its memory, 2 GB at most, no disk) and one
// gateway serving S3 over HTTP on 127.0.0.1, each on a free port, as child
// processes of the caller; then it creates an S3 user with fresh keys.
// How long: about 15 s. What it holds: about 130 MB of memory.
// Lifetime: the daemons die (SIGKILL) with the thread that started them, so a
// crashed test leaves none behind; the destructor stops them and removes the
// directory. Nothing survives it: start one per test suite, not per test.
// Needs ceph-mon ceph-osd radosgw ceph-common (tests/install-deps.sh); tests
// skip with missing_packages() where they are absent.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "util/result.h"

namespace zktool::testsupport {

class CephGateway {
 public:
  // What to install when a Ceph program this needs is absent, else nullopt.
  static std::optional<std::string> missing_packages();

  // Runs the cluster and waits until the gateway answers and the user exists.
  // Fails naming the step and the tail of its log; nothing is left running.
  static Result<CephGateway> start(const std::filesystem::path& scratch);

  CephGateway(CephGateway&&) noexcept;
  CephGateway& operator=(CephGateway&&) noexcept;
  ~CephGateway();

  // "http://127.0.0.1:PORT", path-style: buckets are the first path segment.
  const std::string& endpoint() const { return endpoint_; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  // "default", the zonegroup's name: what a bucket's LocationConstraint must
  // say. (The gateway signs with whatever region a request's scope names.)
  const std::string& region() const { return region_; }
  const std::filesystem::path& dir() const;  // the daemons' files and logs

  // Creates a bucket owned by the S3 user.
  Status make_bucket(const std::string& name) const;

 private:
  class Cluster;  // the daemons and their directory

  CephGateway(std::unique_ptr<Cluster> cluster, std::string endpoint, std::string access_key,
              std::string secret_key);

  std::unique_ptr<Cluster> cluster_;
  std::string endpoint_;
  std::string access_key_;
  std::string secret_key_;
  std::string region_ = "default";
};

}  // namespace zktool::testsupport
