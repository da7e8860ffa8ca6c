// ZooKeeper's four-letter words over TCP (they need 4lw.commands.whitelist),
// and the fields of a `srvr` reply that tests and health checks use.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace zktool::testsupport {

// Sends `word` (e.g. "srvr", "ruok") to host:port and returns the whole reply;
// the server closes the connection after replying. Fails with Unhealthy when
// nothing answers within `timeout`.
Result<std::string> four_letter_word(const std::string& host, int port, const std::string& word,
                                     std::chrono::milliseconds timeout);

struct SrvrInfo {
  // False when the server says it is not currently serving requests (no
  // quorum yet); the other fields are then unset.
  bool serving = false;
  std::string mode;  // leader, follower, observer, standalone
  int64_t zxid = -1;
  // ZooKeeper's DataTree count, in which the root appears twice ("" and "/"),
  // so it is one more than the number of znodes a client walk finds.
  int64_t node_count = -1;

  bool leads() const { return mode == "leader" || mode == "standalone"; }
};

// Parses a `srvr` reply; a serving reply without Mode, Zxid or Node count is
// Corrupt.
Result<SrvrInfo> parse_srvr(const std::string& reply);

}  // namespace zktool::testsupport
