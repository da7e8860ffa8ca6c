#include "ops/readback.h"

#include <algorithm>

#include "util/printable.h"
#include "health/four_letter.h"

namespace zktool {

namespace zs = zktool::snapshot;

namespace {

// The owner a client is shown (DataNode.getClientEphemeralOwner): 0 for a
// container, and for a TTL znode where the server runs with extended types.
bool owner_matches(int64_t served, int64_t stored) {
  if (served == stored) return true;
  const zs::NodeKind kind = zs::node_kind(stored);
  return served == 0 && (kind == zs::NodeKind::Container || kind == zs::NodeKind::Ttl);
}

// What differs between the served znode and the archive's, or empty.
std::string difference(const health::ServedZnode& served, const zs::Node& stored) {
  const health::ServedStat& s = served.stat;
  const zs::Stat& a = stored.stat;
  auto field = [](const char* name, int64_t got, int64_t want) {
    return std::string(name) + " " + std::to_string(got) + ", the archive's " + std::to_string(want);
  };
  if (s.czxid != a.czxid) return field("czxid", s.czxid, a.czxid);
  if (s.mzxid != a.mzxid) return field("mzxid", s.mzxid, a.mzxid);
  if (s.pzxid != a.pzxid) return field("pzxid", s.pzxid, a.pzxid);
  if (s.ctime != a.ctime) return field("ctime", s.ctime, a.ctime);
  if (s.mtime != a.mtime) return field("mtime", s.mtime, a.mtime);
  if (s.version != a.version) return field("version", s.version, a.version);
  if (s.aversion != a.aversion) return field("aversion", s.aversion, a.aversion);
  if (s.num_children != stored.num_children) {
    return field("children", s.num_children, stored.num_children);
  }
  // Clients see changes, not creates: 2 × creates − children (DataNode.copyStat).
  const int64_t client_cversion = int64_t{a.cversion} * 2 - stored.num_children;
  if (s.cversion != client_cversion) return field("cversion", s.cversion, client_cversion);
  if (!owner_matches(s.ephemeral_owner, a.ephemeral_owner)) {
    return field("ephemeralOwner", s.ephemeral_owner, a.ephemeral_owner);
  }
  if (served.readable) {
    const std::optional<std::string_view> got =
        served.data ? std::optional<std::string_view>(*served.data) : std::nullopt;
    // A client reads null data and empty data alike (length -1 or 0 with no bytes).
    const bool both_empty = (!got || got->empty()) && (!stored.data || stored.data->empty());
    if (!both_empty && got != stored.data) {
      return "data of " + std::to_string(got ? got->size() : 0) + " bytes, the archive's " +
             std::to_string(stored.data ? stored.data->size() : 0);
    }
  }
  return {};
}

}  // namespace

std::string ReadbackReport::summary() const {
  std::string line = std::to_string(compared) + " znodes read back equal to the archive";
  if (count_checked) line.append(", and srvr counts ").append(std::to_string(served_znodes));
  if (unreadable > 0) {
    line.append("; of them ").append(std::to_string(unreadable)).append(
        " by their stat only (their ACL denies a session without credentials their data and "
        "children)");
  }
  if (changed_since > 0) {
    line.append("; ").append(std::to_string(changed_since)).append(
        " changed by clients since the restore, not compared");
  }
  if (sampled) line.append("; a sample: the read-back stopped at its limit");
  return line;
}

Result<ReadbackReport> read_back(const health::Endpoint& endpoint, const zs::DataTree& archive,
                                 zs::Zxid restored_zxid,
                                 const health::ServedWalkOptions& options) {
  const std::string where = health::host_port(endpoint.host, endpoint.client_port);
  ReadbackReport report;
  auto count = health::srvr(endpoint.host, endpoint.client_port, std::chrono::seconds(5));
  if (!count) return count.error();
  auto differs = [&](const std::string& path, const std::string& what) {
    return make_error(ErrorKind::Unsafe, where + " serves a tree other than the archive's: " +
                                             printable(path) + ": " + what);
  };
  auto walk = health::walk_served_tree(endpoint, options, [&](const health::ServedZnode& served) {
    const health::ServedStat& s = served.stat;
    if (std::max({s.czxid, s.mzxid, s.pzxid}) > restored_zxid) {
      ++report.changed_since;
      return Status(Ok{});
    }
    const zs::Node* stored = archive.find(served.path);
    if (stored == nullptr) return Status(differs(served.path, "not in the archive"));
    if (std::string what = difference(served, *stored); !what.empty()) {
      return Status(differs(served.path, what));
    }
    ++report.compared;
    return Status(Ok{});
  });
  if (!walk) return walk.error();
  report.unreadable = walk->unreadable;
  report.sampled = walk->sampled;
  // srvr counts the root twice ("" and "/").
  report.served_znodes = count->node_count > 0 ? static_cast<uint64_t>(count->node_count - 1) : 0;
  if (report.changed_since == 0) {
    report.count_checked = true;
    if (report.served_znodes != archive.node_count()) {
      return make_error(ErrorKind::Unsafe,
                        where + " serves a tree other than the archive's: srvr counts " +
                            std::to_string(report.served_znodes) + " znodes, the archive holds " +
                            std::to_string(archive.node_count()));
    }
  }
  return report;
}

}  // namespace zktool
