// An in-memory ZooKeeper data tree that applies transactions exactly as
// ZooKeeper's DataTree.processTxn does, including its tolerance of the fuzzy
// snapshot: NONODE and NODEEXISTS are ignored, a create that meets an existing
// node still raises the parent's cversion/pzxid, and a delete of a missing node
// still raises the parent's pzxid. The tree digest is kept up to date on every
// change, as ZooKeeper's NodeHashMap does.
//
// Paths, data and ACL strings are views into the snapshot and log bytes the
// tree was built from; the tree retains those buffers (retain()).
//
// Not reproduced: the quota statistics ZooKeeper keeps in the data of
// /zookeeper/quota/**/zookeeper_stats nodes (outside the digest).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/result.h"
#include "snapshot/bytes.h"
#include "snapshot/digest.h"
#include "snapshot/records.h"
#include "snapshot/snapshot_file.h"

namespace zktool::snapshot {

struct Node {
  Blob data;
  int64_t acl_index = -1;
  Stat stat;
  int32_t num_children = 0;
};

// KeeperException codes processTxn can produce while replaying.
enum class ApplyResult { Ok, NoNode, NodeExists };

class DataTree {
 public:
  DataTree() = default;
  DataTree(DataTree&&) = default;
  // The tree a ZooKeeper server holds before any transaction, when it has no
  // snapshot to load (DataTree's constructor): the root, /zookeeper and
  // /zookeeper/quota, each with empty data, OPEN_ACL_UNSAFE and a zero stat.
  static DataTree empty_database();
  DataTree& operator=(DataTree&&) = default;

  // Keeps `bytes` alive for as long as the tree: call it for every buffer
  // whose views are handed to the tree.
  void retain(std::shared_ptr<const Bytes> bytes) { storage_.push_back(std::move(bytes)); }

  // Loading a snapshot: sessions and ACLs first, then nodes parents first.
  void add_session(int64_t id, int32_t timeout) { sessions_[id] = timeout; }
  void add_acl(int64_t index, AclList acls);
  Status add_snapshot_node(const SnapshotNode& node);

  // Applies one logged transaction (ZooKeeper's processTxn plus the session
  // bookkeeping FileTxnSnapLog.processTransaction does). Corrupt input that
  // ZooKeeper would also reject (an invalid path) is an error.
  Status apply(const Txn& txn);

  const Node* find(std::string_view path) const;
  size_t node_count() const { return nodes_.size(); }
  size_t ephemeral_count() const;
  const std::map<int64_t, int32_t>& sessions() const { return sessions_; }
  const AclList& acl(int64_t index) const;
  const TreeDigest& digest() const { return digest_; }
  Zxid last_processed_zxid() const { return last_processed_zxid_; }
  void set_last_processed_zxid(Zxid zxid) { last_processed_zxid_ = zxid; }

  // Every path, sorted; a sorted order puts each parent before its children.
  std::vector<std::string_view> sorted_paths() const;

  // The tree as a snapshot's contents (nodes parents first), with a digest
  // record for `zxid` hashed as `charset` hashes, or none.
  SnapshotContents to_snapshot(Zxid zxid, std::optional<DigestCharset> charset) const;

 private:
  using NodeMap = std::unordered_map<std::string_view, Node>;

  ApplyResult process(const TxnHeader& header, int32_t type, const TxnBody& body);
  ApplyResult create_node(std::string_view path, const Blob& data, const AclList& acl,
                          int64_t owner, int32_t parent_cversion, Zxid zxid, int64_t time);
  ApplyResult delete_node(std::string_view path, Zxid zxid);
  ApplyResult set_data(std::string_view path, const Blob& data, int32_t version, Zxid zxid,
                       int64_t time);
  ApplyResult set_acl(std::string_view path, const AclList& acl, int32_t version);
  void set_cversion_pzxid(std::string_view path, int32_t cversion, Zxid zxid);
  void kill_session(int64_t session, Zxid zxid, const CloseSessionTxn& txn);
  int64_t convert_acls(const AclList& acl);

  // Digest bookkeeping around a change to an existing node (preChange/postChange).
  void unhash(std::string_view path, const Node& node);
  void rehash(std::string_view path, const Node& node);
  void track_owner(std::string_view path, int64_t owner);
  void untrack_owner(std::string_view path, int64_t owner);

  NodeMap nodes_;
  std::map<int64_t, int32_t> sessions_;
  std::map<int64_t, AclList> acls_;
  std::map<AclList, int64_t, std::less<>> acl_index_;
  int64_t next_acl_index_ = 0;
  std::unordered_map<int64_t, std::set<std::string_view>> ephemerals_;
  TreeDigest digest_;
  Zxid last_processed_zxid_ = 0;
  // The parent of the last node add_snapshot_node added.
  Node* load_parent_ = nullptr;
  std::string_view load_parent_path_;
  std::vector<std::shared_ptr<const Bytes>> storage_;
};

}  // namespace zktool::snapshot
