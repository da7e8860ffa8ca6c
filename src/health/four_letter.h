// ZooKeeper's four-letter words (ruok, srvr, ...) over plain TCP, and the
// fields of a `srvr` reply that health checks use. The server must list the
// word in 4lw.commands.whitelist. Every call is bounded by its timeout except
// host name resolution, which takes the system resolver's own time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace zktool::health {

inline constexpr size_t kMaxFourLetterReply = 1 << 20;

// "host:port" for messages; IPv6 literals in brackets.
std::string host_port(const std::string& host, int port);

// Sends `word` to host:port and returns everything the server writes before it
// closes the connection. Unhealthy, naming the word and host:port, when the
// connection is refused or not made in time, when the whole reply does not
// arrive within `timeout` (connect included), when it exceeds `max_reply`
// bytes, or when the server says the word is not whitelisted.
Result<std::string> four_letter_word(const std::string& host, int port, std::string_view word,
                                     std::chrono::milliseconds timeout,
                                     size_t max_reply = kMaxFourLetterReply);

// `ruok`: Ok when the server answers "imok" (it runs, serving or not).
Status ruok(const std::string& host, int port, std::chrono::milliseconds timeout);

// ZooKeeperServer.getState() as `srvr` prints it after "Mode: ".
enum class ServerMode { kLeader, kFollower, kObserver, kStandalone, kReadOnly };
std::string_view to_string(ServerMode mode);

struct SrvrInfo {
  // False when the server says it is not currently serving requests (it runs
  // but has no quorum); mode, zxid and node_count are then meaningless.
  bool serving = false;
  ServerMode mode = ServerMode::kFollower;
  int64_t zxid = -1;
  // ZooKeeper's DataTree count, in which the root appears twice ("" and "/"),
  // so one more than the znodes a client walk finds.
  int64_t node_count = -1;

  // Leads writes: the quorum's leader, or a standalone server.
  bool leads() const {
    return serving && (mode == ServerMode::kLeader || mode == ServerMode::kStandalone);
  }
};

// Parses a `srvr` reply. Unhealthy, quoting the start of the reply, when a
// serving reply lacks Mode, Zxid or Node count or has a value it cannot read.
Result<SrvrInfo> parse_srvr(std::string_view reply);

// `srvr` on host:port, parsed; errors name host:port.
Result<SrvrInfo> srvr(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace zktool::health
