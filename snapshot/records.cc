#include "snapshot/records.h"

#include <cstdio>

#include "snapshot/jute.h"

namespace zktool::snapshot {

NodeKind node_kind(int64_t ephemeral_owner) {
  if (ephemeral_owner == 0) return NodeKind::Persistent;
  if (ephemeral_owner == kContainerOwner) return NodeKind::Container;
  if ((static_cast<uint64_t>(ephemeral_owner) & kTtlOwnerMask) == kTtlOwnerMask) {
    return NodeKind::Ttl;
  }
  return NodeKind::Ephemeral;
}

const char* op_name(int32_t type) {
  switch (type) {
    case kOpCreate: return "create";
    case kOpDelete: return "delete";
    case kOpSetData: return "setData";
    case kOpSetAcl: return "setACL";
    case kOpCheck: return "check";
    case kOpMulti: return "multi";
    case kOpCreate2: return "create2";
    case kOpReconfig: return "reconfig";
    case kOpCreateContainer: return "createContainer";
    case kOpDeleteContainer: return "deleteContainer";
    case kOpCreateTtl: return "createTTL";
    case kOpCreateSession: return "createSession";
    case kOpCloseSession: return "closeSession";
    case kOpError: return "error";
    default: return "unknown";
  }
}

AclList read_acl_list(JuteReader& in) {
  constexpr uint32_t kAclMinSize = 4 + 4 + 4;  // perms, scheme length, id length
  AclList acls;
  int32_t n = in.read_count(kAclMinSize);
  acls.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    Acl acl;
    acl.perms = in.read_int();
    acl.scheme = in.read_string();
    acl.id = in.read_string();
    acls.push_back(acl);
  }
  return acls;
}

void write_acl_list(JuteWriter& out, const AclList& acls) {
  out.write_int(static_cast<int32_t>(acls.size()));
  for (const Acl& acl : acls) {
    out.write_int(acl.perms);
    out.write_string(acl.scheme);
    out.write_string(acl.id);
  }
}

}  // namespace zktool::snapshot
