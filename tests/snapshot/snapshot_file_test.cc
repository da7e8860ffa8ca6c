#include "snapshot/snapshot_file.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "fixtures.h"

namespace zktool::snapshot {
namespace {

using testing::read_file;
using testing::zk38_data;

struct Parsed {
  SnapshotInfo info;
  std::vector<SnapshotNode> nodes;
};

Result<Parsed> parse(const std::string& bytes, const std::string& name = "snapshot.4c") {
  Parsed p;
  auto info = parse_snapshot(Bytes::own(bytes), name,
                             [&](const SnapshotNode& n) { p.nodes.push_back(n); });
  if (!info) return info.error();
  p.info = std::move(info.value());
  return p;
}

Result<Parsed> read(const std::filesystem::path& file) {
  Parsed p;
  auto info = read_snapshot(file, [&](const SnapshotNode& n) { p.nodes.push_back(n); });
  if (!info) return info.error();
  p.info = std::move(info.value());
  return p;
}

TEST(SnapshotFile, ParsesNameZxid) {
  EXPECT_EQ(zxid_from_file_name("snapshot.4c", "snapshot"), 0x4c);
  EXPECT_EQ(zxid_from_file_name("snapshot.100000002.snappy", "snapshot"), 0x100000002);
  EXPECT_EQ(zxid_from_file_name("log.1", "log"), 1);
  EXPECT_FALSE(zxid_from_file_name("snapshot.", "snapshot"));
  EXPECT_FALSE(zxid_from_file_name("snapshot.xyz", "snapshot"));
  EXPECT_FALSE(zxid_from_file_name("snapshotx.4c", "snapshot"));
  EXPECT_FALSE(zxid_from_file_name("log.4c", "snapshot"));
}

TEST(SnapshotFile, ReadsARealSnapshotWithDigest) {
  auto p = read(zk38_data() / "snapshot.4c");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->info.zxid, 0x4c);
  EXPECT_EQ(p->info.seals, 2);
  ASSERT_TRUE(p->info.digest);
  EXPECT_GE(p->info.digest->zxid, 0x4c);
  EXPECT_EQ(p->info.digest->version, 2);
  ASSERT_FALSE(p->nodes.empty());
  EXPECT_EQ(p->nodes.front().path, "");
  EXPECT_EQ(p->info.node_count, p->nodes.size());
  bool saw_a = false;
  for (const SnapshotNode& n : p->nodes) {
    if (n.path == "/a") {
      saw_a = true;
      EXPECT_EQ(n.data, std::optional<std::string_view>("hello"));
      EXPECT_EQ(n.stat.ephemeral_owner, 0);
    }
  }
  EXPECT_TRUE(saw_a);
}

TEST(SnapshotFile, ReadsGzipAndSnappySnapshotsZooKeeperWrote) {
  for (const char* name : {"snapshot.88.gz", "snapshot.d1.snappy"}) {
    auto p = read(zk38_data() / name);
    ASSERT_TRUE(p) << name << ": " << p.error().message;
    EXPECT_EQ(p->info.seals, 2) << name;
    EXPECT_GT(p->nodes.size(), 30u) << name;
  }
}

TEST(SnapshotFile, ReadsASnapshotWithoutDigest) {
  auto p = read(zk38_data() / "snapshot.103");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->info.seals, 1);
  EXPECT_FALSE(p->info.digest);
}

TEST(SnapshotFile, SerializeRoundTripsEveryField) {
  auto original = read(zk38_data() / "snapshot.4c");
  ASSERT_TRUE(original);
  SnapshotContents contents{original->info.sessions, original->info.acls, original->nodes,
                            original->info.digest};
  for (auto compression :
       {SnapshotCompression::None, SnapshotCompression::Gzip, SnapshotCompression::Snappy}) {
    auto bytes = serialize_snapshot(contents, compression);
    ASSERT_TRUE(bytes);
    auto plain = decompress(compression, *bytes, "test", 1 << 30);
    ASSERT_TRUE(plain) << plain.error().message;
    auto again = parse(std::string((*plain)->view()));
    ASSERT_TRUE(again) << again.error().message;
    ASSERT_EQ(again->nodes.size(), original->nodes.size());
    for (size_t i = 0; i < again->nodes.size(); ++i) {
      EXPECT_EQ(again->nodes[i].path, original->nodes[i].path);
      EXPECT_EQ(again->nodes[i].data, original->nodes[i].data);
      EXPECT_EQ(again->nodes[i].stat, original->nodes[i].stat);
      EXPECT_EQ(again->nodes[i].acl_index, original->nodes[i].acl_index);
    }
    EXPECT_EQ(again->info.acls, original->info.acls);
    EXPECT_EQ(again->info.sessions, original->info.sessions);
    ASSERT_TRUE(again->info.digest);
    EXPECT_EQ(again->info.digest->digest, original->info.digest->digest);
  }
}

TEST(SnapshotFile, PlainSerializationIsByteIdenticalToZooKeepers) {
  // A snapshot taken with no concurrent changes has nothing fuzzy about it:
  // re-serializing what was read must give back ZooKeeper's exact bytes.
  std::string zk = read_file(zk38_data() / "snapshot.4c");
  auto p = parse(zk);
  ASSERT_TRUE(p);
  auto ours = serialize_snapshot(
      SnapshotContents{p->info.sessions, p->info.acls, p->nodes, p->info.digest},
      SnapshotCompression::None);
  ASSERT_TRUE(ours);
  EXPECT_EQ(*ours, zk);
}

TEST(SnapshotFile, AcceptsTheZooKeeper39Trailer) {
  std::string bytes = read_file(zk38_data() / "snapshot.4c");
  // Append lastProcessedZxid and a third seal the way 3.9 does.
  std::string trailer;
  JuteWriter(trailer).write_long(0x4d);
  bytes += trailer;
  std::string seal;
  JuteWriter w(seal);
  uint32_t adler_all = 1;
  {
    // Adler32 by definition, to stay independent of the code under test.
    uint32_t a = 1, b = 0;
    for (unsigned char c : bytes) {
      a = (a + c) % 65521;
      b = (b + a) % 65521;
    }
    adler_all = (b << 16) | a;
  }
  w.write_long(adler_all);
  w.write_string("/");
  auto p = parse(bytes + seal);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->info.seals, 3);
  EXPECT_EQ(p->info.last_processed_zxid, 0x4d);

  seal[3] ^= 1;
  auto bad = parse(bytes + seal);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("third seal"), std::string::npos) << bad.error().message;
}

// Region boundaries of snapshot.4c, found by parsing it.
struct Regions {
  size_t sessions_end, acls_end, nodes_end, seal1_end, digest_end;
};

Regions regions_of(const std::string& bytes) {
  auto p = parse(bytes);
  EXPECT_TRUE(p);
  size_t size = bytes.size();
  size_t digest_end = size - 13;
  size_t seal1_end = digest_end - 20;
  size_t nodes_end = seal1_end - 13;
  size_t sessions_end = 16 + 4 + 12 * p->info.sessions.size();
  size_t acls_end = sessions_end + 4;
  for (const auto& [index, acls] : p->info.acls) {
    acls_end += 8 + 4;
    for (const Acl& a : acls) acls_end += 4 + 4 + a.scheme.size() + 4 + a.id.size();
  }
  return {sessions_end, acls_end, nodes_end, seal1_end, digest_end};
}

TEST(SnapshotFile, EveryTruncationIsRejected) {
  std::string bytes = read_file(zk38_data() / "snapshot.4c");
  // Cutting anywhere before the end fails; cutting exactly after seal 1 is a
  // valid pre-3.6 snapshot and is the one exception.
  Regions r = regions_of(bytes);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto p = parse(bytes.substr(0, len));
    if (len == r.seal1_end) {
      EXPECT_TRUE(p) << "cut after seal 1";
      continue;
    }
    EXPECT_FALSE(p) << "truncated to " << len << " bytes was accepted";
  }
}

TEST(SnapshotFile, AFlippedByteInAnyRegionIsRejected) {
  std::string bytes = read_file(zk38_data() / "snapshot.4c");
  Regions r = regions_of(bytes);
  std::vector<std::pair<const char*, size_t>> spots = {
      {"magic", 1},          {"version", 7},
      {"sessions", r.sessions_end - 1}, {"acls", r.acls_end - 2},
      {"node data", (r.acls_end + r.nodes_end) / 2}, {"nodes end", r.nodes_end - 1},
      {"seal 1", r.nodes_end + 3}, {"digest", r.seal1_end + 10},
      {"seal 2", r.digest_end + 2}, {"last byte", bytes.size() - 1}};
  for (const auto& [region, at] : spots) {
    for (int bit : {0x01, 0x80}) {
      std::string mutated = bytes;
      mutated[at] = static_cast<char>(mutated[at] ^ bit);
      EXPECT_FALSE(parse(mutated)) << region << " byte " << at << " bit " << int(bit);
    }
  }
}

TEST(SnapshotFile, GarbageLengthsAreErrorsNotAllocations) {
  std::string bytes = read_file(zk38_data() / "snapshot.4c");
  Regions r = regions_of(bytes);
  for (size_t at : {size_t{16}, r.sessions_end, r.acls_end}) {
    for (uint32_t v : {0x7fffffffu, 0x80000000u, 0xfffffffeu, 0x00100000u}) {
      std::string mutated = bytes;
      for (int i = 0; i < 4; ++i) mutated[at + i] = static_cast<char>(v >> (24 - 8 * i));
      auto p = parse(mutated);
      ASSERT_FALSE(p) << "length " << v << " at " << at;
      EXPECT_EQ(p.error().kind, ErrorKind::Corrupt);
      EXPECT_NE(p.error().message.find("snapshot.4c"), std::string::npos);
    }
  }
}

TEST(SnapshotFile, WrongMagicAndForeignFilesAreRejected) {
  std::string bytes = read_file(zk38_data() / "snapshot.4c");
  bytes[0] = 'X';
  auto p = parse(bytes);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("magic"), std::string::npos);
  auto log = read(testing::zk38_logs() / "log.1");
  EXPECT_FALSE(log);
  auto gz_garbage = parse_snapshot(Bytes::own("not gzip"), "snapshot.1.gz", [](auto&) {});
  EXPECT_FALSE(gz_garbage);
}

TEST(SnapshotFile, CorruptCompressedStreamsAreRejected) {
  for (const char* name : {"snapshot.88.gz", "snapshot.d1.snappy"}) {
    std::string bytes = read_file(zk38_data() / name);
    auto method = compression_for_name(name);
    for (size_t len : {bytes.size() / 2, bytes.size() - 1}) {
      EXPECT_FALSE(decompress(method, bytes.substr(0, len), name, 1 << 30) &&
                   parse(std::string((*decompress(method, bytes.substr(0, len), name, 1 << 30))
                                         ->view()),
                         "snapshot.88"))
          << name << " cut to " << len;
    }
    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x20;
    auto plain = decompress(method, flipped, name, 1 << 30);
    EXPECT_FALSE(plain && parse(std::string((*plain)->view()), "snapshot.88")) << name;
  }
}

TEST(SnapshotFile, LooksCompleteAsZooKeepersCheapTestSays) {
  for (const char* name : {"snapshot.103", "snapshot.88.gz", "snapshot.d1.snappy"}) {
    EXPECT_TRUE(looks_complete(zk38_data() / name)) << name;
  }
  testing::TempDir dir;
  const std::string plain = read_file(zk38_data() / "snapshot.103");
  const std::vector<std::pair<std::string, std::string>> incomplete = {
      {"snapshot.1", plain.substr(0, plain.size() - 1)},  // cut before its closing "/"
      {"snapshot.2", ""},
      {"snapshot.3.gz", plain},                        // no gzip magic
      {"snapshot.4.snappy", "\x82SNAPP"},             // magic cut short
  };
  for (const auto& [name, bytes] : incomplete) {
    testing::write_file(dir.path() / name, bytes);
    EXPECT_FALSE(looks_complete(dir.path() / name)) << name;
  }
  EXPECT_FALSE(looks_complete(dir.path() / "snapshot.absent"));
}

TEST(SnapshotFile, TheDecompressionLimitFollowsTheCompressedSize) {
  SnapshotReadOptions options;
  EXPECT_EQ(decompression_limit(0, options), kMinDecompressionLimit);
  EXPECT_EQ(decompression_limit(1 << 20, options), kMinDecompressionLimit);
  EXPECT_EQ(decompression_limit(uint64_t{10} << 20, options), uint64_t{640} << 20);
  options.max_expansion = 1000;
  EXPECT_EQ(decompression_limit(uint64_t{10} << 20, options), uint64_t{10000} << 20);
  EXPECT_EQ(decompression_limit(UINT64_MAX / 10, options), UINT64_MAX);
}

// 29 bytes whose one block claims 4 GiB: refused before any of it is
// allocated, however high the caller's limit.
TEST(SnapshotFile, ASnappyBlockClaimingMoreThanItHoldsIsRefusedUnallocated) {
  std::string stream("\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
  stream += std::string("\0\0\0\x09", 4);  // one block of 9 bytes:
  stream += std::string("\xff\xff\xff\xff\x0f\x00\x61\x62\x63", 9);  // varint 4 GiB - 1, junk
  ASSERT_EQ(stream.size(), 29u);
  rusage before{}, after{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &before), 0);
  auto plain = decompress(SnapshotCompression::Snappy, stream, "snapshot.1.snappy", UINT64_MAX);
  ASSERT_EQ(getrusage(RUSAGE_SELF, &after), 0);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message, "snapshot.1.snappy: bad snappy block at offset 16");
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 256L << 10) << "KiB more at the peak";
}

TEST(SnapshotFile, DecompressionBombIsRefused) {
  std::string zeros(8 << 20, '\0');
  auto gz = compress(SnapshotCompression::Gzip, zeros);
  ASSERT_TRUE(gz);
  auto plain = decompress(SnapshotCompression::Gzip, *gz, "bomb.gz", 1 << 20);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("more than"), std::string::npos);
}

}  // namespace
}  // namespace zktool::snapshot
