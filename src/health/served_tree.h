// The tree a ZooKeeper server serves, read back through the client API
// (libzookeeper-mt): what restore compares with the archive it installed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "util/result.h"
#include "health/ensemble_health.h"

namespace zktool::health {

// A znode's stat as a client sees it (DataNode.copyStat): cversion counts
// changes (2 × creates − children) and containers and TTL znodes show owner 0.
struct ServedStat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
};

struct ServedZnode {
  std::string path;                 // "/" for the root
  std::optional<std::string> data;  // nullopt: null data, or not readable
  bool readable = true;             // false: the znode's ACL denies this session READ
  ServedStat stat;
};

struct ServedWalkOptions {
  size_t max_znodes = 100000;  // then the walk stops, sampled
  std::chrono::milliseconds timeout{60000};  // connecting, syncing and reading, in all
};

struct ServedWalk {
  uint64_t read = 0;        // znodes visited
  uint64_t unreadable = 0;  // of them, whose data and children this session may not read
  bool sampled = false;     // stopped at max_znodes
};

// Called for each znode, parents first, breadth first; an error stops the walk and is returned.
using ServedVisitor = std::function<Status(const ServedZnode&)>;

// Opens a session to `endpoint` without credentials, syncs it with the
// leader, and reads every znode from "/" except ZooKeeper's own /zookeeper
// subtree (its config node is rewritten by each server). A znode whose ACL
// denies READ is visited with its stat (exists needs no permission) and its
// subtree is not listed. Unhealthy, naming the endpoint, when the session
// fails or the deadline passes; a znode deleted during the walk is skipped.
Result<ServedWalk> walk_served_tree(const Endpoint& endpoint, const ServedWalkOptions& options,
                                    const ServedVisitor& visit);

}  // namespace zktool::health
