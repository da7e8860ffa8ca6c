// ZooKeeper's persisted records (zookeeper.jute) as plain structs. Strings and
// data are views into the file bytes that were decoded; whoever holds a record
// keeps those bytes alive (see Bytes in bytes.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/zxid.h"

namespace zktool::snapshot {

using Zxid = int64_t;
using zktool::zxid_hex;  // common/zxid.h
// The leader epoch a zxid was proposed in: its high 32 bits.
constexpr int64_t epoch_of(Zxid zxid) { return zxid >> 32; }
constexpr int64_t counter_of(Zxid zxid) { return zxid & 0xffffffff; }
// Node data and other jute buffers; std::nullopt is jute's null.
using Blob = std::optional<std::string_view>;

struct Acl {
  int32_t perms = 0;
  std::string_view scheme;
  std::string_view id;
  auto operator<=>(const Acl&) const = default;
};
using AclList = std::vector<Acl>;

// StatPersisted, in its serialized field order.
struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int64_t pzxid = 0;
  bool operator==(const Stat&) const = default;
};

// What ephemeralOwner encodes (EphemeralType): 0 persistent, INT64_MIN a
// container, high byte 0xFF a TTL node, anything else the owning session.
enum class NodeKind { Persistent, Ephemeral, Container, Ttl };
NodeKind node_kind(int64_t ephemeral_owner);
inline constexpr int64_t kContainerOwner = INT64_MIN;
inline constexpr uint64_t kTtlOwnerMask = 0xff00000000000000ull;

// Operation codes (ZooDefs.OpCode) that appear in transaction logs.
enum OpCode : int32_t {
  kOpCreate = 1,
  kOpDelete = 2,
  kOpSetData = 5,
  kOpSetAcl = 7,
  kOpCheck = 13,
  kOpMulti = 14,
  kOpCreate2 = 15,
  kOpReconfig = 16,
  kOpCreateContainer = 19,
  kOpDeleteContainer = 20,
  kOpCreateTtl = 21,
  kOpCreateSession = -10,
  kOpCloseSession = -11,
  kOpError = -1,
};
const char* op_name(int32_t type);

class JuteReader;
class JuteWriter;
// vector<ACL> as jute encodes it; a failure is left in the reader.
AclList read_acl_list(JuteReader& in);
void write_acl_list(JuteWriter& out, const AclList& acls);

struct TxnHeader {
  int64_t client_id = 0;
  int32_t cxid = 0;
  Zxid zxid = 0;
  int64_t time = 0;
  int32_t type = 0;
};

// create, create2, createContainer and createTTL share one shape: the
// ephemeral owner is derived from the type and header when applied.
struct CreateTxn {
  std::string_view path;
  Blob data;
  AclList acl;
  bool ephemeral = false;
  int32_t parent_cversion = -1;  // -1: a V0 create, the parent's cversion + 1
  int64_t ttl = 0;
};
struct DeleteTxn {
  std::string_view path;
};
struct SetDataTxn {  // also reconfig
  std::string_view path;
  Blob data;
  int32_t version = 0;
};
struct SetAclTxn {
  std::string_view path;
  AclList acl;
  int32_t version = 0;
};
struct CheckVersionTxn {
  std::string_view path;
  int32_t version = 0;
};
struct CreateSessionTxn {
  int32_t timeout = 0;
};
struct CloseSessionTxn {
  // Paths the leader deleted with the session; absent in logs from servers
  // with zookeeper.closeSessionTxn.enabled=false.
  std::optional<std::vector<std::string_view>> paths_to_delete;
};
struct ErrorTxn {
  int32_t err = 0;
};
struct SubTxn;
// A multi's operations; ZooKeeper nests no multi inside a multi.
struct MultiTxn {
  std::vector<SubTxn> txns;
};

using TxnBody = std::variant<CreateTxn, DeleteTxn, SetDataTxn, SetAclTxn, CheckVersionTxn,
                             CreateSessionTxn, CloseSessionTxn, ErrorTxn, MultiTxn>;

struct SubTxn {
  int32_t type = 0;
  TxnBody body;
};

// The tree digest ZooKeeper recorded after applying a transaction.
struct TxnDigest {
  int32_t version = 0;
  int64_t tree_digest = 0;
};

struct Txn {
  TxnHeader header;
  TxnBody body;
  std::optional<TxnDigest> digest;
};

}  // namespace zktool::snapshot
