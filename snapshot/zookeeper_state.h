// The state a ZooKeeper server would load from its data directories, rebuilt
// and proven: the restore set (FileTxnSnapLog.restore), the replayed tree, and
// every digest ZooKeeper recorded compared with the replayed tree.
//
// This is the library's main entry point: inspect, verify and backup use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "snapshot/data_dir.h"
#include "snapshot/data_tree.h"
#include "snapshot/txn_log.h"

namespace zktool::snapshot {

struct SkippedSnapshot {
  std::filesystem::path file;
  std::string reason;
};

// How the replayed tree compared with the digests ZooKeeper recorded, under
// each charset a server may hash paths with (digest.h).
//
// The snapshot's digest is weaker evidence than the transactions': ZooKeeper
// reads it after serializing the tree while transactions keep applying, so a
// transaction in flight at that moment may already be in the snapshot and the
// digest then disagrees with the exact tree at its zxid (ZooKeeper itself logs
// a mismatch when it loads such a snapshot). Once the next transactions'
// digests match, the replayed tree is proven all the same.
struct DigestReport {
  enum class SnapshotDigest { None, Matched, Mismatched, Unreached };
  struct Charset {
    uint64_t txn_mismatches = 0;
    std::optional<Zxid> first_txn_mismatch;
    bool snapshot_matched = false;
  };
  Charset utf8, ascii;
  uint64_t txn_digests = 0;  // transaction digests compared
  SnapshotDigest snapshot = SnapshotDigest::None;
  Zxid snapshot_digest_zxid = 0;  // when snapshot != None

  // true: proven (see above); false: a transaction digest differs, or the
  // snapshot's cannot be reached or confirmed; nullopt: none was recorded.
  std::optional<bool> verified() const;
  // "utf-8", "us-ascii", or "either" when no path tells them apart.
  const char* charset() const;
  // The charset to hash with when writing a digest this server would accept.
  DigestCharset server_charset() const;
  // Transaction digest mismatches under the server's charset, and the first.
  uint64_t mismatches() const;
  std::optional<Zxid> first_mismatch() const;

 private:
  bool proves(const Charset& c) const {
    return c.txn_mismatches == 0 && (c.snapshot_matched || txn_digests > 0);
  }
  const Charset& best() const;
};

struct LogUsed {
  std::filesystem::path file;
  Zxid first_zxid = 0;              // from the name
  uint64_t records = 0;
  uint64_t applied = 0;             // records above the snapshot zxid
  std::optional<Zxid> last_zxid;    // of the last record
  LogEnd end = LogEnd::EndOfFile;
  uint64_t end_offset = 0;          // bytes that hold the records used (header included)
  bool cut = false;                 // records after LoadOptions::up_to_zxid left out
};

struct ZkState {
  DataDirs dirs;
  // The snapshot the restore set starts from; empty when there is none and
  // the logs replay over ZooKeeper's empty tree (DataTree::empty_database()).
  std::filesystem::path snapshot;
  Zxid snapshot_zxid = 0;
  SnapshotInfo snapshot_info;
  std::vector<SkippedSnapshot> skipped;  // newer snapshots ZooKeeper would skip too
  std::vector<LogUsed> logs;
  Zxid last_zxid = 0;              // the zxid the replayed tree is at
  uint64_t txns_applied = 0;
  DataTree tree;
  DigestReport digest;
  std::optional<int64_t> current_epoch;
  std::optional<int64_t> accepted_epoch;
  std::vector<std::string> warnings;

  bool from_empty_tree() const { return snapshot.empty(); }
  // The replayed tree's digest as the server that wrote the files computes it
  // (its charset for paths): what the manifest records and verify compares.
  int64_t tree_digest() const { return tree.digest().value(digest.server_charset()); }
};

struct LoadOptions {
  SnapshotReadOptions snapshot;
  // Stop replaying after this zxid (hot backup cuts the logs at the zxid the
  // server reported as committed): later records and logs are left out of
  // the state as if never written, and LogUsed::end_offset ends before them.
  std::optional<Zxid> up_to_zxid;
};

// Loads and proves the state in `dirs`. With no snapshot file at all, the logs
// replay over ZooKeeper's empty tree, as ZooKeeper 3.4 does (3.5 and later
// refuse that unless zookeeper.snapshot.trust.empty is set). Fails with
// ErrorKind::Corrupt when snapshots are there but none loads, a needed log is
// corrupt, or transactions are missing.
Result<ZkState> load_state(const DataDirs& dirs, const LoadOptions& options = {});

}  // namespace zktool::snapshot
