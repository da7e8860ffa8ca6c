#include "snapshot/records.h"

#include <cstdio>

namespace zktool::snapshot {

std::string zxid_hex(Zxid zxid) {
  char buf[19];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(zxid));
  return buf;
}

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

}  // namespace zktool::snapshot
