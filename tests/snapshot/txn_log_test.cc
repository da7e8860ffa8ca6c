#include "snapshot/txn_log.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <set>

#include "fixtures.h"

namespace zktool::snapshot {
namespace {

using testing::read_file;
using testing::zk38_logs;

Result<TxnLogInfo> parse(const std::string& bytes, const std::string& name = "log.28") {
  return parse_txn_log(Bytes::own(bytes), name);
}

TEST(TxnLog, ReadsEveryRealLog) {
  for (const auto& entry : std::filesystem::directory_iterator(zk38_logs())) {
    auto log = read_txn_log(entry.path());
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_FALSE(log->records.empty()) << entry.path();
    EXPECT_EQ(log->records.front().txn.header.zxid, log->first_zxid) << entry.path();
    EXPECT_EQ(log->end, LogEnd::EndOfFile);
    EXPECT_EQ(log->end_offset, std::filesystem::file_size(entry.path()));
    for (size_t i = 1; i < log->records.size(); ++i) {
      EXPECT_EQ(log->records[i].txn.header.zxid, log->records[i - 1].txn.header.zxid + 1);
      EXPECT_EQ(log->records[i].offset, log->records[i - 1].offset + log->records[i - 1].size);
    }
  }
}

TEST(TxnLog, DecodesTheTypesZooKeeperWrote) {
  std::set<int32_t> types;
  size_t digests = 0;
  for (const auto& entry : std::filesystem::directory_iterator(zk38_logs())) {
    auto log = read_txn_log(entry.path());
    ASSERT_TRUE(log);
    for (const TxnRecord& r : log->records) {
      types.insert(r.txn.header.type);
      if (r.txn.digest) ++digests;
      if (r.txn.header.type == kOpSetAcl) {
        const auto& t = std::get<SetAclTxn>(r.txn.body);
        EXPECT_EQ(t.path, "/a/n1");
        ASSERT_EQ(t.acl.size(), 1u);
        EXPECT_EQ(t.acl[0].perms, 1);
        EXPECT_EQ(t.acl[0].scheme, "world");
      }
      if (r.txn.header.type == kOpCreateTtl) {
        EXPECT_EQ(std::get<CreateTxn>(r.txn.body).ttl, 100000);
      }
    }
  }
  for (int32_t t : {kOpCreateSession, kOpCloseSession, kOpCreate, kOpSetData, kOpDelete,
                    kOpSetAcl, kOpCreateContainer, kOpCreateTtl}) {
    EXPECT_TRUE(types.contains(t)) << op_name(t);
  }
  EXPECT_GT(digests, 0u);
}

TEST(TxnLog, PreallocatedZerosEndTheLog) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto clean = parse(bytes);
  ASSERT_TRUE(clean);
  auto padded = parse(bytes + std::string(1 << 20, '\0'));
  ASSERT_TRUE(padded) << padded.error().message;
  EXPECT_EQ(padded->end, LogEnd::Preallocated);
  EXPECT_EQ(padded->records.size(), clean->records.size());
  EXPECT_EQ(padded->end_offset, bytes.size());
  // Fewer zeros than a record header are still the preallocated region.
  auto short_pad = parse(bytes + std::string(5, '\0'));
  ASSERT_TRUE(short_pad);
  EXPECT_EQ(short_pad->end, LogEnd::Preallocated);
}

// A log as ZooKeeper leaves it: records, then a 64 MiB sparse preallocation
// whose last byte was written (FilePadding writes one zero byte at the end).
std::filesystem::path write_preallocated(const testing::ScratchDir& dir, const std::string& records,
                                         char last_byte) {
  auto path = dir.path() / "log.28";
  testing::write_file(path, records);
  std::filesystem::resize_file(path, 64 << 20);
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp((64 << 20) - 1);
  f.put(last_byte);
  return path;
}

TEST(TxnLog, ASparsePreallocatedTailEndsTheLog) {
  testing::ScratchDir dir;
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto log = read_txn_log(write_preallocated(dir, bytes, '\0'));
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_EQ(log->end, LogEnd::Preallocated);
  EXPECT_EQ(log->end_offset, bytes.size());
}

TEST(TxnLog, DataHiddenPastAHoleIsFound) {
  testing::ScratchDir dir;
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto log = read_txn_log(write_preallocated(dir, bytes, 'X'));
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("offset " + std::to_string((64 << 20) - 1)),
            std::string::npos)
      << log.error().message;
}

TEST(TxnLog, ARecordCutShortAtTheEndIsATornTail) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto clean = parse(bytes);
  ASSERT_TRUE(clean);
  const TxnRecord& last = clean->records.back();
  for (size_t cut = last.offset + 1; cut < bytes.size(); ++cut) {
    for (size_t pad : {size_t{0}, size_t{4096}}) {
      auto torn = parse(bytes.substr(0, cut) + std::string(pad, '\0'));
      ASSERT_TRUE(torn) << "cut at " << cut << ": " << torn.error().message;
      // A cut inside the checksum's zero high bytes leaves only zeros: that is
      // indistinguishable from (and as harmless as) preallocation.
      bool only_zeros_written = cut - last.offset <= 4;
      EXPECT_EQ(torn->end, only_zeros_written ? LogEnd::Preallocated : LogEnd::TornTail) << cut;
      EXPECT_EQ(torn->records.size(), clean->records.size() - 1);
      EXPECT_EQ(torn->end_offset, last.offset);
    }
  }
}

TEST(TxnLog, AMissingTerminatorIsATornTail) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  bytes.back() = '\0';
  auto torn = parse(bytes + std::string(100, '\0'));
  ASSERT_TRUE(torn) << torn.error().message;
  EXPECT_EQ(torn->end, LogEnd::TornTail);
}

TEST(TxnLog, AChecksumMismatchIsCorruptionNamingFileAndOffset) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto clean = parse(bytes);
  ASSERT_TRUE(clean);
  for (size_t i : {size_t{0}, clean->records.size() / 2, clean->records.size() - 1}) {
    const TxnRecord& r = clean->records[i];
    std::string mutated = bytes;
    mutated[r.offset + 12 + 20] ^= 0x04;  // inside the payload
    auto bad = parse(mutated);
    ASSERT_FALSE(bad) << "record " << i;
    EXPECT_EQ(bad.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(bad.error().message.find("log.28"), std::string::npos);
    EXPECT_NE(bad.error().message.find("offset " + std::to_string(r.offset)), std::string::npos)
        << bad.error().message;
  }
}

TEST(TxnLog, DataAfterTheEndIsCorruptionNotSilentlyDropped) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto clean = parse(bytes);
  ASSERT_TRUE(clean);
  // A length zeroed in the middle: ZooKeeper would stop there and lose the rest.
  const TxnRecord& mid = clean->records[clean->records.size() / 2];
  std::string zeroed = bytes;
  for (int i = 0; i < 12; ++i) zeroed[mid.offset + i] = '\0';
  auto bad = parse(zeroed);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("non-zero data follows"), std::string::npos);
  // A torn record followed by more records.
  std::string unterminated = bytes;
  unterminated[mid.offset + mid.size - 1] = 'X';
  EXPECT_FALSE(parse(unterminated));
}

TEST(TxnLog, HeaderAndLengthDamageIsRejected) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  std::string magic = bytes;
  magic[1] = 'X';
  EXPECT_FALSE(parse(magic));
  EXPECT_FALSE(parse(bytes.substr(0, 10)));
  std::string version = bytes;
  version[7] = 3;
  EXPECT_FALSE(parse(version));
  std::string huge = bytes;
  huge[16 + 8] = 0x7f;  // the first record's length
  auto bad = parse(huge);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unreasonable length"), std::string::npos);
}

// As ZooKeeper 3.8 logged a multi that failed on its second operation: the
// first is marked an error but keeps its create body (seen in a real log).
std::string failed_multi_payload(int32_t first_type) {
  std::string payload;
  JuteWriter w(payload);
  w.write_long(0x100000001);  // clientId
  w.write_int(7);             // cxid
  w.write_long(0x1000003b0);  // zxid
  w.write_long(1700000000000);
  w.write_int(kOpMulti);
  w.write_int(2);
  std::string create;
  JuteWriter c(create);
  c.write_string("/after/multi/never");
  c.write_buffer(std::string_view("aborted"));
  c.write_int(1);
  c.write_int(31);
  c.write_string("world");
  c.write_string("anyone");
  c.write_bool(false);
  c.write_int(5);
  w.write_int(first_type);
  w.write_buffer(create);
  std::string error;
  JuteWriter(error).write_int(-103);  // BADVERSION
  w.write_int(kOpError);
  w.write_buffer(error);
  return payload;
}

TEST(TxnLog, AFailedMultiKeepsItsOperationsBodiesAsZooKeeperWritesThem) {
  auto txn = decode_txn(failed_multi_payload(kOpError), 0);
  ASSERT_TRUE(txn) << txn.error().message;
  const auto& multi = std::get<MultiTxn>(txn->body);
  ASSERT_EQ(multi.txns.size(), 2u);
  EXPECT_EQ(multi.txns[0].type, kOpError);
  EXPECT_EQ(std::get<ErrorTxn>(multi.txns[1].body).err, -103);
  // Trailing bytes after any other kind of operation are still corruption.
  std::string bad = failed_multi_payload(kOpDelete);
  EXPECT_FALSE(decode_txn(bad, 0));
}

TEST(TxnLog, PayloadsWithTheWrongShapeAreCorrupt) {
  std::string bytes = read_file(zk38_logs() / "log.28");
  auto clean = parse(bytes);
  ASSERT_TRUE(clean);
  // Change the first record's type to setData (5) and fix up its checksum:
  // its create body then leaves bytes the setData shape cannot account for.
  std::string mutated = bytes;
  const TxnRecord& r = clean->records.front();
  int32_t length = static_cast<int32_t>(r.size - 13);
  size_t type_at = r.offset + 12 + 8 + 4 + 8 + 8;
  mutated[type_at + 3] = 99;
  uint32_t adler = static_cast<uint32_t>(adler32(
      1, reinterpret_cast<const Bytef*>(mutated.data() + r.offset + 12), static_cast<uInt>(length)));
  for (int i = 0; i < 8; ++i) mutated[r.offset + i] = static_cast<char>(uint64_t{adler} >> (56 - 8 * i));
  auto bad = parse(mutated);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown txn type 99"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace zktool::snapshot
