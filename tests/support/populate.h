// Real data for real ZooKeeper servers: the conformance data set (every kind
// of znode, ACL and write, described so tests can check a tree against it)
// and the R1 benchmark data set (README, Performance). Both write through the client API;
// ZooKeeper itself produces the snapshots and logs under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "support/zk_client.h"

namespace zktool::testsupport {

// Just under jute.maxbuffer (1 MiB), leaving room for the request around the data.
inline constexpr size_t kLargeZnodeSize = 1024 * 1024 - 1024;

// The digest credentials the conformance data set protects znodes with; a
// session needs them (add_auth("digest", ...)) to read the whole tree.
inline constexpr const char* kVariedDigestCredentials = "zktool:backup-secret";

struct VariedOptions {
  std::string root = "/varied";
  bool ttl = true;  // TTL znodes need the server's extendedTypesEnabled
  bool containers = true;  // ZooKeeper 3.5 and later
  bool ip_ranges = true;   // an ip ACL of a network (10.1.2.0/24): 3.4 accepts only addresses
  int large_znodes = 2;
  int update_rounds = 5;
  int deep_levels = 32;
  // Small znodes written through the pipeline, then half of them updated:
  // 1000 make 1500 transactions, enough to roll a snapshot at snapCount 1000.
  int bulk_znodes = 1000;
  uint64_t seed = 1;
};

enum class ZnodeKind { kPersistent, kEphemeral, kContainer, kTtl };

struct ExpectedZnode {
  std::optional<std::string> data;  // nullopt: null data
  Acl acl;
  int32_t version = 0;
  int32_t acl_version = 0;
  ZnodeKind kind = ZnodeKind::kPersistent;
};

struct VariedDataSet {
  std::map<std::string, ExpectedZnode> present;  // must exist exactly so
  // Must not exist: deleted, ephemerals of the closed session, an aborted multi.
  std::vector<std::string> absent;
  // May be gone by the time anyone looks: the leader reaps empty containers
  // and expired TTL znodes (znode.container.checkIntervalMs).
  std::vector<std::string> reapable;
  int64_t open_session_id = 0;    // owns the ephemerals in `present`
  int64_t closed_session_id = 0;  // owned the ephemerals in `absent`
  size_t writes = 0;              // write requests ZooKeeper accepted or aborted
};

// Writes the data set under options.root (which must not exist). `client`
// gets the digest credentials, and its session must stay open for the
// ephemerals in `present` to stay; a second session is opened and closed for
// the ephemerals in `absent`. Every write is acknowledged when this returns.
Result<VariedDataSet> write_varied_data(ZkClient& client, const VariedOptions& options = {});

struct R1Options {
  size_t znodes = 100000;
  size_t data_size = 1024;   // half random bytes, half repeated text
  size_t update_every = 10;  // then every tenth znode gets new data
  size_t window = 1000;      // outstanding asynchronous requests
  uint64_t seed = 1;
};

struct R1Summary {
  size_t znodes = 0;   // data znodes
  size_t parents = 0;  // the four trees and their groups
  size_t updates = 0;
  uint64_t data_bytes = 0;  // written, counting updates
};

// R1: `znodes` data znodes spread over four top-level trees (/r1-0 .. /r1-3)
// in groups of 1000, then every `update_every`-th one rewritten.
Result<R1Summary> write_r1_data(ZkClient& client, const R1Options& options = {});

// Where write_r1_data puts data znode `index`.
std::string r1_path(size_t index);

}  // namespace zktool::testsupport
