// Reads ZooKeeper transaction logs (`log.<hex zxid of first txn>`) as
// FileTxnLog does; the byte layout is in FORMAT.md beside this file.
//
// Where a log ends (the torn-tail policy, FORMAT.md): ZooKeeper preallocates
// logs with zeros and appends records, so the log ends at the end of the file,
// at a record whose length is zero (the preallocated region), or at a record
// that is cut short or lacks its 0x42 terminator (a write torn by a crash).
// Past that point every remaining byte must be zero; anything else, like a
// checksum mismatch on a complete record, is corruption named by file and
// offset, never silently dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"
#include "snapshot/bytes.h"
#include "snapshot/jute.h"
#include "snapshot/records.h"

namespace zktool::snapshot {

struct TxnRecord {
  uint64_t offset = 0;  // of the record's checksum in the file
  uint64_t size = 0;    // bytes from the checksum through the 0x42 terminator
  Txn txn;
};

enum class LogEnd {
  EndOfFile,     // the last record ends exactly at the end of the file
  Preallocated,  // a zero-length record: the preallocated, unwritten region
  TornTail,      // a record cut short or unterminated, followed only by zeros
};
const char* log_end_name(LogEnd end);

struct TxnLogInfo {
  std::string name;  // the path, for messages
  Zxid first_zxid = 0;  // from the file name
  int64_t dbid = 0;
  std::vector<TxnRecord> records;
  LogEnd end = LogEnd::EndOfFile;
  uint64_t end_offset = 0;  // where the valid records stop
  // The bytes every view in `records` points into.
  std::shared_ptr<const Bytes> bytes;
};

// Reads and checks the whole log at `file`.
Result<TxnLogInfo> read_txn_log(const std::filesystem::path& file,
                                uint32_t max_length = kDefaultJuteMaxLength);

// The same on bytes in memory; `name` must have the `log.<hex zxid>` form.
Result<TxnLogInfo> parse_txn_log(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                 uint32_t max_length = kDefaultJuteMaxLength);

// Decodes one record's payload: TxnHeader, the body its type implies, and the
// optional TxnDigest. `base_offset` places the payload in its file for errors.
Result<Txn> decode_txn(std::string_view payload, uint64_t base_offset,
                       uint32_t max_length = kDefaultJuteMaxLength);

}  // namespace zktool::snapshot
