#include "snapshot/data_tree.h"

#include <algorithm>

namespace zktool::snapshot {

namespace {

std::string_view parent_of(std::string_view path) { return path.substr(0, path.rfind('/')); }

std::string display_path(std::string_view path) { return path.empty() ? "/" : std::string(path); }

bool is_valid_txn_path(std::string_view path) { return path.size() > 1 && path[0] == '/'; }

const AclList kOpenAclUnsafe = {Acl{31, "world", "anyone"}};

Stat new_stat(Zxid zxid, int64_t time, int64_t owner) {
  Stat st;
  st.ctime = st.mtime = time;
  st.czxid = st.mzxid = st.pzxid = zxid;
  st.ephemeral_owner = owner;
  return st;
}

}  // namespace

DataTree DataTree::empty_database() {
  DataTree tree;
  for (std::string_view path : {"", "/zookeeper", "/zookeeper/quota"}) {
    // Parents come first, so none of these can fail.
    (void)tree.add_snapshot_node(SnapshotNode{path, Blob(std::string_view{}), -1, Stat{}});
  }
  return tree;
}

void DataTree::add_acl(int64_t index, AclList acls) {
  acl_index_[acls] = index;
  acls_[index] = std::move(acls);
  next_acl_index_ = std::max(next_acl_index_, index);
}

const AclList& DataTree::acl(int64_t index) const {
  auto it = acls_.find(index);
  return it == acls_.end() ? kOpenAclUnsafe : it->second;
}

int64_t DataTree::convert_acls(const AclList& acl) {
  auto it = acl_index_.find(acl);
  if (it != acl_index_.end()) return it->second;
  int64_t index = ++next_acl_index_;
  acl_index_[acl] = index;
  acls_[index] = acl;
  return index;
}

void DataTree::unhash(std::string_view path, const Node& node) {
  digest_.remove(node_digest(path, node.data, node.stat));
}

void DataTree::rehash(std::string_view path, const Node& node) {
  digest_.add(node_digest(path, node.data, node.stat));
}

void DataTree::track_owner(std::string_view path, int64_t owner) {
  if (node_kind(owner) == NodeKind::Ephemeral) ephemerals_[owner].insert(path);
}

void DataTree::untrack_owner(std::string_view path, int64_t owner) {
  if (node_kind(owner) != NodeKind::Ephemeral) return;
  auto it = ephemerals_.find(owner);
  if (it == ephemerals_.end()) return;
  it->second.erase(path);
  if (it->second.empty()) ephemerals_.erase(it);
}

Status DataTree::add_snapshot_node(const SnapshotNode& sn) {
  Node* parent = nullptr;
  if (!sn.path.empty()) {
    // Snapshots list nodes depth first, so consecutive nodes mostly share a
    // parent; element addresses survive rehashing, so the last one is cached.
    std::string_view parent_path = parent_of(sn.path);
    if (load_parent_ != nullptr && parent_path == load_parent_path_) {
      parent = load_parent_;
    } else if (auto it = nodes_.find(parent_path); it != nodes_.end() && sn.path[0] == '/') {
      parent = &it->second;
    } else {
      return make_error(ErrorKind::Corrupt,
                        "node " + std::string(sn.path) + " comes before its parent");
    }
    load_parent_ = parent;
    load_parent_path_ = parent_path;
  }
  auto [it, inserted] = nodes_.try_emplace(sn.path, Node{sn.data, sn.acl_index, sn.stat, 0});
  if (!inserted) {
    return make_error(ErrorKind::Corrupt, "node " + display_path(sn.path) + " appears twice");
  }
  if (parent != nullptr) ++parent->num_children;
  rehash(it->first, it->second);
  track_owner(it->first, sn.stat.ephemeral_owner);
  return Ok{};
}

const Node* DataTree::find(std::string_view path) const {
  if (path == "/") path = "";
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

size_t DataTree::ephemeral_count() const {
  size_t n = 0;
  for (const auto& [owner, paths] : ephemerals_) n += paths.size();
  return n;
}

std::vector<std::string_view> DataTree::sorted_paths() const {
  std::vector<std::string_view> paths;
  paths.reserve(nodes_.size());
  for (const auto& [path, node] : nodes_) paths.push_back(path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

SnapshotContents DataTree::to_snapshot(Zxid zxid, std::optional<DigestCharset> charset) const {
  SnapshotContents contents;
  contents.sessions.assign(sessions_.begin(), sessions_.end());
  contents.acls = acls_;
  contents.nodes.reserve(nodes_.size());
  for (std::string_view path : sorted_paths()) {
    const Node& node = nodes_.at(path);
    contents.nodes.push_back(SnapshotNode{path, node.data, node.acl_index, node.stat});
  }
  if (charset) contents.digest = ZxidDigest{zxid, kDigestVersion, digest_.value(*charset)};
  return contents;
}

ApplyResult DataTree::create_node(std::string_view path, const Blob& data, const AclList& acl,
                                  int64_t owner, int32_t parent_cversion, Zxid zxid,
                                  int64_t time) {
  auto parent_it = nodes_.find(parent_of(path));
  if (parent_it == nodes_.end()) return ApplyResult::NoNode;
  Node& parent = parent_it->second;
  // ZooKeeper converts the ACL first and gives it to an existing node too.
  int64_t acl_index = convert_acls(acl);
  auto existing = nodes_.find(path);
  if (existing != nodes_.end()) {
    existing->second.acl_index = acl_index;
    return ApplyResult::NodeExists;
  }
  unhash(parent_it->first, parent);
  if (parent_cversion == -1) parent_cversion = parent.stat.cversion + 1;
  // A create replayed over a fuzzy snapshot must never lower cversion/pzxid.
  if (parent_cversion > parent.stat.cversion) {
    parent.stat.cversion = parent_cversion;
    parent.stat.pzxid = zxid;
  }
  ++parent.num_children;
  rehash(parent_it->first, parent);
  Node& child = nodes_[path];
  child = Node{data, acl_index, new_stat(zxid, time, owner), 0};
  rehash(path, child);
  track_owner(path, owner);
  return ApplyResult::Ok;
}

ApplyResult DataTree::delete_node(std::string_view path, Zxid zxid) {
  auto parent_it = nodes_.find(parent_of(path));
  if (parent_it == nodes_.end()) return ApplyResult::NoNode;
  Node& parent = parent_it->second;
  auto it = nodes_.find(path);
  // The parent's pzxid moves even when the child is already gone.
  unhash(parent_it->first, parent);
  if (it != nodes_.end()) --parent.num_children;
  if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
  rehash(parent_it->first, parent);
  if (it == nodes_.end()) return ApplyResult::NoNode;
  unhash(it->first, it->second);
  untrack_owner(it->first, it->second.stat.ephemeral_owner);
  nodes_.erase(it);
  return ApplyResult::Ok;
}

ApplyResult DataTree::set_data(std::string_view path, const Blob& data, int32_t version, Zxid zxid,
                               int64_t time) {
  auto it = nodes_.find(path == "/" ? std::string_view() : path);
  if (it == nodes_.end()) return ApplyResult::NoNode;
  unhash(path, it->second);
  it->second.data = data;
  it->second.stat.mtime = time;
  it->second.stat.mzxid = zxid;
  it->second.stat.version = version;
  rehash(path, it->second);
  return ApplyResult::Ok;
}

ApplyResult DataTree::set_acl(std::string_view path, const AclList& acl, int32_t version) {
  auto it = nodes_.find(path == "/" ? std::string_view() : path);
  if (it == nodes_.end()) return ApplyResult::NoNode;
  unhash(path, it->second);
  it->second.stat.aversion = version;
  it->second.acl_index = convert_acls(acl);
  rehash(path, it->second);
  return ApplyResult::Ok;
}

void DataTree::set_cversion_pzxid(std::string_view path, int32_t cversion, Zxid zxid) {
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return;
  Node& node = it->second;
  if (cversion == -1) cversion = node.stat.cversion + 1;
  if (cversion <= node.stat.cversion) return;
  unhash(it->first, node);
  node.stat.cversion = cversion;
  node.stat.pzxid = zxid;
  rehash(it->first, node);
}

void DataTree::kill_session(int64_t session, Zxid zxid, const CloseSessionTxn& txn) {
  std::set<std::string_view> local;
  if (auto it = ephemerals_.find(session); it != ephemerals_.end()) local = it->second;
  // The paths the leader logged go first; any the log missed follow, as
  // ZooKeeper deletes them too.
  if (txn.paths_to_delete) {
    for (std::string_view path : *txn.paths_to_delete) {
      delete_node(path, zxid);
      local.erase(path);
    }
  }
  for (std::string_view path : local) delete_node(path, zxid);
  ephemerals_.erase(session);
}

ApplyResult DataTree::process(const TxnHeader& header, int32_t type, const TxnBody& body) {
  const Zxid zxid = header.zxid;
  switch (type) {
    case kOpCreate:
    case kOpCreate2:
    case kOpCreateContainer:
    case kOpCreateTtl: {
      const auto& t = std::get<CreateTxn>(body);
      int64_t owner = 0;
      if (type == kOpCreateContainer) {
        owner = kContainerOwner;
      } else if (type == kOpCreateTtl) {
        owner = static_cast<int64_t>(kTtlOwnerMask | static_cast<uint64_t>(t.ttl));
      } else if (t.ephemeral) {
        owner = header.client_id;
      }
      ApplyResult r = create_node(t.path, t.data, t.acl, owner, t.parent_cversion, zxid,
                                  header.time);
      // A node deleted by a closed session and re-created by another after the
      // fuzzy snapshot saw it: the create fails but its parent must still move.
      if (type == kOpCreate && r == ApplyResult::NodeExists) {
        set_cversion_pzxid(parent_of(t.path), t.parent_cversion, zxid);
      }
      return r;
    }
    case kOpDelete:
    case kOpDeleteContainer:
      return delete_node(std::get<DeleteTxn>(body).path, zxid);
    case kOpSetData:
    case kOpReconfig: {
      const auto& t = std::get<SetDataTxn>(body);
      return set_data(t.path, t.data, t.version, zxid, header.time);
    }
    case kOpSetAcl: {
      const auto& t = std::get<SetAclTxn>(body);
      return set_acl(t.path, t.acl, t.version);
    }
    case kOpCloseSession:
      sessions_.erase(header.client_id);
      kill_session(header.client_id, zxid, std::get<CloseSessionTxn>(body));
      return ApplyResult::Ok;
    case kOpCreateSession:
      sessions_[header.client_id] = std::get<CreateSessionTxn>(body).timeout;
      return ApplyResult::Ok;
    case kOpMulti: {
      const auto& multi = std::get<MultiTxn>(body);
      // A multi that failed on the leader was logged with error entries: it
      // changes nothing.
      bool failed = std::any_of(multi.txns.begin(), multi.txns.end(),
                                [](const SubTxn& s) { return s.type == kOpError; });
      if (failed) return ApplyResult::Ok;
      for (const SubTxn& sub : multi.txns) process(header, sub.type, sub.body);
      return ApplyResult::Ok;
    }
    default:  // check, error: nothing to apply
      return ApplyResult::Ok;
  }
}

namespace {

// Paths a transaction names, for the validity check before applying.
void collect_paths(int32_t type, const TxnBody& body, std::vector<std::string_view>& out) {
  if (type == kOpMulti) {
    for (const SubTxn& sub : std::get<MultiTxn>(body).txns) collect_paths(sub.type, sub.body, out);
    return;
  }
  std::visit(
      [&](const auto& t) {
        using T = std::decay_t<decltype(t)>;
        if constexpr (std::is_same_v<T, CreateTxn> || std::is_same_v<T, DeleteTxn>) {
          out.push_back(t.path);
        } else if constexpr (std::is_same_v<T, CloseSessionTxn>) {
          if (t.paths_to_delete) out.insert(out.end(), t.paths_to_delete->begin(),
                                            t.paths_to_delete->end());
        }
      },
      body);
}

}  // namespace

Status DataTree::apply(const Txn& txn) {
  std::vector<std::string_view> paths;
  collect_paths(txn.header.type, txn.body, paths);
  for (std::string_view path : paths) {
    if (!is_valid_txn_path(path)) {
      return make_error(ErrorKind::Corrupt, std::string(op_name(txn.header.type)) + " txn " +
                                                zxid_hex(txn.header.zxid) +
                                                " names an invalid path \"" + std::string(path) +
                                                "\"");
    }
  }
  process(txn.header, txn.header.type, txn.body);
  if (txn.header.zxid > last_processed_zxid_) last_processed_zxid_ = txn.header.zxid;
  return Ok{};
}

}  // namespace zktool::snapshot
