// ZooKeeper's own SnapshotFormatter (org.apache.zookeeper.server.SnapshotFormatter)
// as the reference reader that zk-tool's snapshot reader is compared with: it
// is run on a snapshot file (plain, .gz or .snappy) and its text output is
// parsed into records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

struct FormattedZnode {
  std::string path;  // "/" for the root
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  // Seconds since the epoch: the formatter prints times to the second only.
  int64_t ctime_s = 0;
  int64_t mtime_s = 0;
  int32_t cversion = 0;
  int32_t data_version = 0;
  int32_t acl_version = 0;
  int64_t ephemeral_owner = 0;
  int64_t data_length = 0;
  // Only when the data was dumped (-d); the formatter prints null data as empty.
  std::optional<std::string> data;
};

struct FormattedSession {
  int64_t id = 0;
  int32_t timeout_ms = 0;
  int32_t ephemeral_count = 0;
};

struct FormattedSnapshot {
  // ZooKeeper's DataTree count, in which the root appears twice ("" and "/"):
  // one more than znodes.size(), and what `srvr` reports as Node count.
  int64_t node_count = 0;
  std::vector<FormattedZnode> znodes;  // parents before children
  std::vector<FormattedSession> sessions;
  // The larger of the zxid in the file name and the highest zxid in the tree.
  int64_t last_zxid = 0;
};

// Runs the formatter (with -d when `dump_data`) and parses what it prints.
// Corrupt when ZooKeeper cannot read the file; Io when java cannot be run.
Result<FormattedSnapshot> run_snapshot_formatter(const std::filesystem::path& snapshot,
                                                 bool dump_data = false);

// The formatter's text output, one line (without newline) at a time.
class SnapshotFormatterParser {
 public:
  void feed(std::string_view line);
  // Corrupt, naming the output line, when the text is not what the formatter prints.
  Result<FormattedSnapshot> finish();

 private:
  enum class Section { kHeader, kZnodes, kSessions, kDone };
  void fail(const std::string& what);
  void field(std::string_view key, std::string_view value);
  void close_znode();

  Section section_ = Section::kHeader;
  FormattedSnapshot snapshot_;
  std::optional<FormattedZnode> znode_;
  int fields_ = 0;  // of the current znode
  size_t line_ = 0;
  std::optional<std::string> error_;
};

// The snapshot with the highest zxid in its name in <data_dir>/version-2.
Result<std::filesystem::path> newest_snapshot(const std::filesystem::path& data_dir);

}  // namespace zktool::testsupport
