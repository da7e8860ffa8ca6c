#include "snapshot/zookeeper_state.h"

#include <fstream>

namespace zktool::snapshot {

namespace fs = std::filesystem;

namespace {

std::optional<int64_t> read_epoch_file(const fs::path& file) {
  std::ifstream in(file);
  int64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// Loads one snapshot into a fresh tree; any failure leaves `state` untouched.
Status load_snapshot(const ZkFile& file, const SnapshotReadOptions& options, ZkState& state) {
  DataTree tree;
  Status node_status = Ok{};
  auto info = read_snapshot(file.path, [&](const SnapshotNode& node) {
    if (!node_status) return;
    node_status = tree.add_snapshot_node(node);
  }, options);
  if (!info) return info.error();
  if (!node_status) {
    return make_error(ErrorKind::Corrupt, file.path.string() + ": " + node_status.error().message);
  }
  if (!tree.find("")) return make_error(ErrorKind::Corrupt, file.path.string() + ": no root node");
  for (const auto& [id, timeout] : info->sessions) tree.add_session(id, timeout);
  for (const auto& [index, acls] : info->acls) tree.add_acl(index, acls);
  tree.retain(info->bytes);
  // ZooKeeper 3.9 records the zxid the snapshot is exact from; older ones use the name.
  tree.set_last_processed_zxid(info->last_processed_zxid.value_or(file.zxid));
  state.snapshot = file.path;
  state.snapshot_zxid = tree.last_processed_zxid();
  state.snapshot_info = std::move(info.value());
  state.tree = std::move(tree);
  return Ok{};
}

class DigestChecker {
 public:
  DigestChecker(DigestReport& report, const std::optional<ZxidDigest>& snapshot_digest,
                Zxid snapshot_zxid)
      : report_(report) {
    // ZooKeeper ignores a snapshot digest older than the snapshot itself and
    // one of another digest version.
    if (snapshot_digest && snapshot_digest->zxid >= snapshot_zxid &&
        snapshot_digest->version == kDigestVersion) {
      pending_ = *snapshot_digest;
      fuzzy_ = true;
    }
  }

  // The tree has just reached `zxid` (the snapshot's own zxid at load).
  void at(Zxid zxid, const TreeDigest& tree, const std::optional<TxnDigest>& recorded) {
    if (fuzzy_) {
      // Until the tree reaches the snapshot digest's zxid it is fuzzy, and
      // ZooKeeper compares nothing.
      if (zxid == pending_.zxid) {
        report_.utf8.snapshot_matched = tree.value(DigestCharset::Utf8) == pending_.digest;
        report_.ascii.snapshot_matched = tree.value(DigestCharset::Ascii) == pending_.digest;
        bool matched = report_.utf8.snapshot_matched || report_.ascii.snapshot_matched;
        report_.snapshot = matched ? DigestReport::SnapshotDigest::Matched
                                   : DigestReport::SnapshotDigest::Mismatched;
        report_.snapshot_digest_zxid = zxid;
        fuzzy_ = false;
      }
      return;
    }
    if (!recorded || recorded->version != kDigestVersion) return;
    ++report_.txn_digests;
    count(report_.utf8, zxid, tree.value(DigestCharset::Utf8) == recorded->tree_digest);
    count(report_.ascii, zxid, tree.value(DigestCharset::Ascii) == recorded->tree_digest);
  }

  void finish() {
    if (!fuzzy_) return;
    report_.snapshot = DigestReport::SnapshotDigest::Unreached;
    report_.snapshot_digest_zxid = pending_.zxid;
  }

 private:
  static void count(DigestReport::Charset& c, Zxid zxid, bool matched) {
    if (matched) return;
    ++c.txn_mismatches;
    if (!c.first_txn_mismatch) c.first_txn_mismatch = zxid;
  }

  DigestReport& report_;
  // The snapshot's digest, still ahead of the replayed tree while fuzzy_.
  ZxidDigest pending_;
  bool fuzzy_ = false;
};

}  // namespace

const DigestReport::Charset& DigestReport::best() const {
  if (proves(utf8)) return utf8;
  if (proves(ascii)) return ascii;
  return utf8.txn_mismatches <= ascii.txn_mismatches ? utf8 : ascii;
}

std::optional<bool> DigestReport::verified() const {
  if (snapshot == SnapshotDigest::Unreached) return false;
  if (snapshot == SnapshotDigest::None && txn_digests == 0) return std::nullopt;
  return proves(utf8) || proves(ascii);
}

const char* DigestReport::charset() const {
  if (proves(utf8) && proves(ascii) && utf8.snapshot_matched == ascii.snapshot_matched) {
    return "either";
  }
  return &best() == &utf8 ? "utf-8" : "us-ascii";
}

DigestCharset DigestReport::server_charset() const {
  return &best() == &utf8 ? DigestCharset::Utf8 : DigestCharset::Ascii;
}

uint64_t DigestReport::mismatches() const { return best().txn_mismatches; }

std::optional<Zxid> DigestReport::first_mismatch() const { return best().first_txn_mismatch; }

Result<ZkState> load_state(const DataDirs& dirs, const LoadOptions& options) {
  auto listing = list_data_dirs(dirs);
  if (!listing) return listing.error();

  ZkState state;
  state.dirs = dirs;
  state.current_epoch = read_epoch_file(dirs.snap_dir / kCurrentEpochFile);
  state.accepted_epoch = read_epoch_file(dirs.snap_dir / kAcceptedEpochFile);

  if (listing->snapshots.empty()) {
    // With no snapshot at all, ZooKeeper 3.4 replays every log over its empty
    // tree (FileTxnSnapLog.restore), and a 3.4 member writes its first
    // snapshot only after about snapCount transactions: a young or quiet
    // member holds logs alone. (A snapshot that is there but does not load is
    // another matter: below.)
    state.tree = DataTree::empty_database();
  } else {
    // ZooKeeper tries snapshots newest first and loads the first that is intact.
    bool loaded = false;
    for (const ZkFile& candidate : listing->snapshots) {
      Status s = load_snapshot(candidate, options.snapshot, state);
      if (s) {
        loaded = true;
        break;
      }
      state.skipped.push_back(SkippedSnapshot{candidate.path, s.error().message});
    }
    if (!loaded) {
      return make_error(ErrorKind::Corrupt, dirs.snap_dir.string() +
                                                ": no intact snapshot; newest failed with: " +
                                                state.skipped.front().reason);
    }
  }
  for (const SkippedSnapshot& skipped : state.skipped) {
    state.warnings.push_back("skipped snapshot " + skipped.file.filename().string() + ": " +
                             skipped.reason);
  }

  DigestChecker checker(state.digest, state.snapshot_info.digest, state.snapshot_zxid);
  checker.at(state.snapshot_zxid, state.tree.digest(), std::nullopt);

  Zxid last = state.snapshot_zxid;
  const auto beyond_cut = [&](Zxid zxid) { return options.up_to_zxid && zxid > *options.up_to_zxid; };
  for (const ZkFile& file : logs_for_snapshot(listing->logs, state.snapshot_zxid)) {
    if (beyond_cut(file.zxid)) break;  // named for its first transaction: all of it is cut
    auto log = read_txn_log(file.path, options.snapshot.max_length);
    if (!log) return log.error();
    LogUsed used{file.path, file.zxid, log->records.size(), 0, std::nullopt, log->end,
                 log->end_offset};
    if (!log->records.empty()) used.last_zxid = log->records.back().txn.header.zxid;
    bool retained = false;
    for (const TxnRecord& record : log->records) {
      const Zxid zxid = record.txn.header.zxid;
      if (zxid <= state.snapshot_zxid) continue;  // already in the snapshot
      if (beyond_cut(zxid)) {
        // The file as used ends before this record, as if it had never been written.
        used.cut = true;
        used.end_offset = record.offset;
        used.records = static_cast<uint64_t>(&record - log->records.data());
        used.last_zxid = used.records > 0
                             ? std::optional<Zxid>(log->records[used.records - 1].txn.header.zxid)
                             : std::nullopt;
        break;
      }
      if (zxid <= last) {
        // ZooKeeper applies it anyway, and so do we, but it is worth a look.
        state.warnings.push_back(file.path.filename().string() + ": txn " + zxid_hex(zxid) +
                                 " at offset " + std::to_string(record.offset) +
                                 " is not above the previous " + zxid_hex(last));
      } else if (state.from_empty_tree() && last == 0 && counter_of(zxid) != 1) {
        // Every epoch's first transaction is its counter 1: a tree built from
        // nothing must start there, or the logs before this one are gone.
        return make_error(ErrorKind::Corrupt,
                          file.path.string() + ": there is no snapshot and the first transaction is " +
                              zxid_hex(zxid) + ": the ones before it are missing");
      } else if (epoch_of(zxid) == epoch_of(last) && zxid != last + 1) {
        return make_error(ErrorKind::Corrupt,
                          file.path.string() + ": transactions " + zxid_hex(last + 1) + " to " +
                              zxid_hex(zxid - 1) + " are missing (offset " +
                              std::to_string(record.offset) + ")");
      }
      if (!retained) {
        state.tree.retain(log->bytes);
        retained = true;
      }
      if (Status s = state.tree.apply(record.txn); !s) {
        return make_error(ErrorKind::Corrupt, file.path.string() + ": " + s.error().message);
      }
      checker.at(zxid, state.tree.digest(), record.txn.digest);
      last = std::max(last, zxid);
      ++used.applied;
      ++state.txns_applied;
    }
    state.logs.push_back(std::move(used));
  }
  checker.finish();
  state.last_zxid = last;
  const DigestReport& digest = state.digest;
  if (digest.snapshot == DigestReport::SnapshotDigest::Unreached) {
    state.warnings.push_back("the snapshot's digest is for " + zxid_hex(digest.snapshot_digest_zxid) +
                             " but the logs end at " + zxid_hex(last) +
                             ": transactions the snapshot depends on are missing");
  } else if (digest.snapshot == DigestReport::SnapshotDigest::Mismatched) {
    state.warnings.push_back(
        "the snapshot's digest at " + zxid_hex(digest.snapshot_digest_zxid) +
        " differs from the replayed tree (a transaction raced ZooKeeper's fuzzy snapshot); " +
        std::to_string(digest.txn_digests) + " later transaction digests decide");
  }
  return state;
}

}  // namespace zktool::snapshot
