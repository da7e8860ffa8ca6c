#include "snapshot/txn_log.h"

#include <algorithm>

#include "snapshot/checksum.h"
#include "snapshot/snapshot_file.h"

namespace zktool::snapshot {

namespace {

constexpr int32_t kLogMagic = 0x5A4B4C47;  // "ZKLG"
constexpr int32_t kFormatVersion = 2;
constexpr size_t kLogHeaderSize = 4 + 4 + 8;
constexpr uint8_t kEndOfRecord = 0x42;  // 'B'
constexpr size_t kTxnDigestSize = 4 + 8;

Error corrupt(const std::string& name, const std::string& what) {
  return make_error(ErrorKind::Corrupt, name + ": " + what);
}


CreateTxn read_create(JuteReader& in, int32_t type, bool v0) {
  CreateTxn t;
  t.path = in.read_string();
  t.data = in.read_buffer();
  t.acl = read_acl_list(in);
  if (type == kOpCreate || type == kOpCreate2) {
    t.ephemeral = in.read_bool();
    if (!v0) t.parent_cversion = in.read_int();
  } else {
    t.parent_cversion = in.read_int();
    if (type == kOpCreateTtl) t.ttl = in.read_long();
  }
  return t;
}

// Reads the body a record of `type` carries. Returns false for a type that
// never appears in a log.
bool read_body(JuteReader& in, int32_t type, TxnBody& body, bool create_v0) {
  switch (type) {
    case kOpCreate:
    case kOpCreate2:
    case kOpCreateContainer:
    case kOpCreateTtl:
      body = read_create(in, type, create_v0);
      return true;
    case kOpDelete:
    case kOpDeleteContainer:
      body = DeleteTxn{in.read_string()};
      return true;
    case kOpSetData:
    case kOpReconfig: {
      SetDataTxn t;
      t.path = in.read_string();
      t.data = in.read_buffer();
      t.version = in.read_int();
      body = t;
      return true;
    }
    case kOpSetAcl: {
      SetAclTxn t;
      t.path = in.read_string();
      t.acl = read_acl_list(in);
      t.version = in.read_int();
      body = std::move(t);
      return true;
    }
    case kOpCheck: {
      CheckVersionTxn t;
      t.path = in.read_string();
      t.version = in.read_int();
      body = t;
      return true;
    }
    case kOpCreateSession:
      body = CreateSessionTxn{in.read_int()};
      return true;
    case kOpCloseSession: {
      CloseSessionTxn t;
      int32_t n = in.read_count(4);
      std::vector<std::string_view> paths;
      paths.reserve(static_cast<size_t>(n));
      for (int32_t i = 0; i < n && !in.failed(); ++i) paths.push_back(in.read_string());
      t.paths_to_delete = std::move(paths);
      body = std::move(t);
      return true;
    }
    case kOpError:
      body = ErrorTxn{in.read_int()};
      return true;
    default:
      return false;
  }
}

Result<MultiTxn> read_multi(JuteReader& in, uint32_t max_length) {
  MultiTxn multi;
  int32_t n = in.read_count(8);
  multi.txns.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    SubTxn sub;
    sub.type = in.read_int();
    uint64_t at = in.offset() + 4;
    Blob data = in.read_buffer();
    if (in.failed()) break;
    if (!data) return make_error(ErrorKind::Corrupt, "multi operation without data at offset " +
                                                         std::to_string(at));
    if (sub.type == kOpMulti || sub.type == kOpCreateSession || sub.type == kOpCloseSession) {
      return make_error(ErrorKind::Corrupt, std::string("multi contains a ") + op_name(sub.type) +
                                                " operation at offset " + std::to_string(at));
    }
    JuteReader sub_in(*data, at, max_length);
    if (!read_body(sub_in, sub.type, sub.body, false)) {
      return make_error(ErrorKind::Corrupt, "unknown operation type " + std::to_string(sub.type) +
                                                " in multi at offset " + std::to_string(at));
    }
    if (sub_in.failed()) return make_error(ErrorKind::Corrupt, "multi operation: " + sub_in.error());
    // When a multi fails, ZooKeeper marks the operations before the failing
    // one as errors but keeps their original bodies; it reads only the error
    // code from them (DataTree.processTxn), and so do we.
    if (!sub_in.at_end() && sub.type != kOpError) {
      return make_error(ErrorKind::Corrupt, "multi operation at offset " + std::to_string(at) +
                                                " has " + std::to_string(sub_in.remaining()) +
                                                " unexpected trailing bytes");
    }
    multi.txns.push_back(std::move(sub));
  }
  if (in.failed()) return make_error(ErrorKind::Corrupt, "multi: " + in.error());
  return multi;
}

// Reads what follows a body: nothing, or a TxnDigest. Anything else means the
// body was read with the wrong shape.
bool read_digest_tail(JuteReader& in, std::optional<TxnDigest>& digest) {
  if (in.failed()) return false;
  if (in.at_end()) return true;
  if (in.remaining() != kTxnDigestSize) return false;
  TxnDigest d;
  d.version = in.read_int();
  d.tree_digest = in.read_long();
  digest = d;
  return true;
}

}  // namespace

const char* log_end_name(LogEnd end) {
  switch (end) {
    case LogEnd::EndOfFile: return "end of file";
    case LogEnd::Preallocated: return "preallocated zeros";
    case LogEnd::TornTail: return "torn tail";
  }
  return "unknown";
}

Result<Txn> decode_txn(std::string_view payload, uint64_t base_offset, uint32_t max_length) {
  JuteReader in(payload, base_offset, max_length);
  Txn txn;
  TxnHeader& h = txn.header;
  h.client_id = in.read_long();
  h.cxid = in.read_int();
  h.zxid = in.read_long();
  h.time = in.read_long();
  h.type = in.read_int();
  if (in.failed()) return make_error(ErrorKind::Corrupt, "txn header: " + in.error());
  JuteReader body_start = in;

  if (h.type == kOpMulti) {
    auto multi = read_multi(in, max_length);
    if (!multi) return multi.error();
    txn.body = std::move(multi.value());
    if (read_digest_tail(in, txn.digest)) return txn;
  } else {
    if (!read_body(in, h.type, txn.body, false)) {
      return make_error(ErrorKind::Corrupt, "unknown txn type " + std::to_string(h.type) +
                                                " at offset " + std::to_string(base_offset));
    }
    if (read_digest_tail(in, txn.digest)) return txn;
    // Older shapes ZooKeeper still reads: a create without parentCVersion
    // (CreateTxnV0), and a closeSession without its path list.
    if (h.type == kOpCreate) {
      in = body_start;
      read_body(in, h.type, txn.body, true);
      txn.digest.reset();
      if (read_digest_tail(in, txn.digest)) return txn;
    } else if (h.type == kOpCloseSession) {
      in = body_start;
      txn.body = CloseSessionTxn{};
      txn.digest.reset();
      if (read_digest_tail(in, txn.digest)) return txn;
    }
  }
  if (in.failed()) {
    return make_error(ErrorKind::Corrupt, std::string(op_name(h.type)) + " txn: " + in.error());
  }
  return make_error(ErrorKind::Corrupt, std::string(op_name(h.type)) + " txn at offset " +
                                            std::to_string(base_offset) + " has " +
                                            std::to_string(in.remaining()) +
                                            " unexpected trailing bytes");
}

Result<TxnLogInfo> read_txn_log(const std::filesystem::path& file, uint32_t max_length) {
  auto bytes = Bytes::map_file(file);
  if (!bytes) return bytes.error();
  return parse_txn_log(std::move(bytes.value()), file.string(), max_length);
}

Result<TxnLogInfo> parse_txn_log(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                 uint32_t max_length) {
  TxnLogInfo info;
  info.name = name;
  info.bytes = bytes;
  auto zxid = zxid_from_file_name(std::filesystem::path(name).filename().string(), "log");
  if (!zxid) return corrupt(name, "not a transaction log file name (log.<hex zxid>)");
  info.first_zxid = *zxid;

  std::string_view all = bytes->view();
  JuteReader header(all, 0, max_length);
  int32_t magic = header.read_int();
  int32_t version = header.read_int();
  info.dbid = header.read_long();
  if (header.failed()) return corrupt(name, "header: " + header.error());
  if (magic != kLogMagic) return corrupt(name, "bad magic (not a ZooKeeper transaction log)");
  if (version != kFormatVersion) {
    return corrupt(name, "unsupported log version " + std::to_string(version));
  }

  size_t pos = kLogHeaderSize;
  // Where the bytes that must be zero begin: past the end of the records, and
  // past a torn record's own bytes (the write the crash interrupted).
  size_t zeros_from = 0;
  for (;;) {
    std::string_view rest = all.substr(pos);
    if (rest.empty()) {
      info.end = LogEnd::EndOfFile;
      zeros_from = pos;
      break;
    }
    // checksum (8), length (4), payload, terminator (1)
    if (rest.size() < 12) {
      info.end = bytes->first_non_zero(pos) ? LogEnd::TornTail : LogEnd::Preallocated;
      zeros_from = all.size();
      break;
    }
    JuteReader frame(rest, pos, max_length);
    auto checksum = static_cast<uint64_t>(frame.read_long());
    int32_t length = frame.read_int();
    if (length == 0) {
      // A zero length is the preallocated region, unless the checksum was
      // already written: then a write was torn before its length landed.
      info.end = checksum == 0 ? LogEnd::Preallocated : LogEnd::TornTail;
      zeros_from = pos + 12;
      break;
    }
    if (length < 0 || static_cast<uint32_t>(length) > max_length) {
      return corrupt(name, "record at offset " + std::to_string(pos) + " has unreasonable length " +
                               std::to_string(length));
    }
    size_t record_size = 12 + static_cast<size_t>(length) + 1;
    if (rest.size() < record_size || static_cast<uint8_t>(rest[record_size - 1]) != kEndOfRecord) {
      info.end = LogEnd::TornTail;
      zeros_from = std::min(all.size(), pos + record_size);
      break;
    }
    std::string_view payload = rest.substr(12, static_cast<size_t>(length));
    uint32_t computed = adler32_update(kAdler32Initial, payload);
    if (checksum != computed) {
      return corrupt(name, "record at offset " + std::to_string(pos) +
                               ": checksum mismatch (stored " + std::to_string(checksum) +
                               ", computed " + std::to_string(computed) + ")");
    }
    auto txn = decode_txn(payload, pos + 12, max_length);
    if (!txn) return corrupt(name, txn.error().message);
    info.records.push_back(TxnRecord{pos, record_size, std::move(txn.value())});
    pos += record_size;
  }
  info.end_offset = pos;
  if (auto first = bytes->first_non_zero(zeros_from)) {
    return corrupt(name, std::string("the log ends (") + log_end_name(info.end) + ") at offset " +
                             std::to_string(pos) + " but non-zero data follows at offset " +
                             std::to_string(*first));
  }
  return info;
}

}  // namespace zktool::snapshot
