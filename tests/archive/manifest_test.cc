#include "archive/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "util/sha256.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using nlohmann::json;
using testing::manifest_json;
using testing::sample_manifest;

const std::string kHash(64, 'a');

Manifest with_files(Manifest m) {
  m.files = {{"zookeeper/snapshot/version-2/snapshot.100000002", 1310, kHash},
             {"zookeeper/transactions/version-2/log.100000001", 0, std::string(64, '0')}};
  return m;
}

TEST(Manifest, ZooKeeperRoundTrip) {
  const Manifest m = with_files(sample_manifest());
  const std::string text = to_json(m);
  auto parsed = parse_manifest(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(parsed->kind(), Kind::ZooKeeper);

  const json doc = json::parse(text);
  EXPECT_EQ(doc["format"], "zk-tool-archive");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["kind"], "zookeeper");
  EXPECT_EQ(doc["created"], "2024-05-01T12:34:56Z");
  EXPECT_EQ(doc["mode"], "hot");
  EXPECT_EQ(doc["source"]["unit"], "dcos-exhibitor.service");
  EXPECT_EQ(doc["zookeeper"]["snapshot_zxid"], "0x100000002");
  EXPECT_EQ(doc["zookeeper"]["last_zxid"], "0x100000007");
  EXPECT_EQ(doc["zookeeper"]["digest"], -3141592653589793);
  EXPECT_EQ(doc["files"][0]["size"], 1310);
  EXPECT_FALSE(doc.contains("replicated_log"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(Manifest, ReplicatedLogRoundTripWithNulls) {
  Manifest m = sample_manifest();
  m.mode = Mode::Cold;
  m.source.unit.reset();
  m.summary = ReplicatedLogSummary{3, 1041, 1039};
  m.files = {{"replicated_log/000003.log", 77, kHash}};
  auto parsed = parse_manifest(to_json(m));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(parsed->kind(), Kind::ReplicatedLog);
  const json doc = json::parse(to_json(m));
  EXPECT_EQ(doc["kind"], "mesos-replicated-log");
  EXPECT_TRUE(doc["source"]["unit"].is_null());
  EXPECT_EQ(doc["replicated_log"]["end"], 1041);
  EXPECT_FALSE(doc.contains("zookeeper"));
}

TEST(Manifest, DigestMayBeNull) {
  Manifest m = sample_manifest();
  std::get<ZooKeeperSummary>(m.summary).digest.reset();
  auto parsed = parse_manifest(to_json(m));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(std::get<ZooKeeperSummary>(parsed->summary).digest.has_value());
}

TEST(Manifest, TheProofIsRecordedAndAManifestFromBeforeItInfersIt) {
  Manifest m = sample_manifest();
  auto& zk = std::get<ZooKeeperSummary>(m.summary);
  EXPECT_TRUE(zk.digest_verified());  // no proof field: a digest was kept only when verified
  zk.proof = kProofReplay;
  auto parsed = parse_manifest(to_json(m));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(json::parse(to_json(m))["zookeeper"]["proof"], "replay");
  const auto& read = std::get<ZooKeeperSummary>(parsed->summary);
  EXPECT_FALSE(read.digest_verified());
  EXPECT_STREQ(read.proof_name(), "replay");
  EXPECT_EQ(read.digest, -3141592653589793);
}

TEST(Manifest, ValidateAcceptsSampleAndRefusesBadHash) {
  EXPECT_TRUE(validate(with_files(sample_manifest())));
  Manifest bad = with_files(sample_manifest());
  bad.files[1].sha256 = "ABC";
  const Status status = validate(bad);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::Corrupt);
}

struct Mutation {
  const char* name;
  std::function<void(json&)> mutate;
  std::string message;  // the whole error line
};

class ManifestRefuses : public ::testing::TestWithParam<Mutation> {};

TEST_P(ManifestRefuses, WithItsOwnMessage) {
  json doc = json::parse(to_json(with_files(sample_manifest())));
  GetParam().mutate(doc);
  auto parsed = parse_manifest(doc.dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(parsed.error().message, GetParam().message);
}

std::function<void(json&)> set(const char* pointer, json value) {
  return [pointer, value](json& doc) { doc[json::json_pointer(pointer)] = value; };
}
std::function<void(json&)> erase(const char* parent, const char* key) {
  return [parent, key](json& doc) { doc[json::json_pointer(parent)].erase(key); };
}

const Mutation kMutations[] = {
    {"MissingHost", erase("", "host"), "zk-tool-manifest.json: \"host\" is missing"},
    {"MissingFormat", erase("", "format"), "zk-tool-manifest.json: \"format\" is missing"},
    {"MissingFileDigest", erase("/files/1", "sha256"),
     "zk-tool-manifest.json: \"files[1].sha256\" is missing"},
    {"MissingSummary", erase("", "zookeeper"), "zk-tool-manifest.json: \"zookeeper\" is missing"},
    {"MissingDigest", erase("/zookeeper", "digest"),
     "zk-tool-manifest.json: \"zookeeper.digest\" is missing"},
    {"ExtraField", set("/extra", 1),
     "zk-tool-manifest.json: \"extra\" is not a field of a version 1 manifest"},
    {"ExtraFileField", set("/files/0/mtime", 5),
     "zk-tool-manifest.json: \"files[0].mtime\" is not a field of a version 1 manifest"},
    {"OtherKindsSummary", set("/replicated_log", json::object()),
     "zk-tool-manifest.json: \"replicated_log\" is not a field of a version 1 manifest"},
    {"WrongFormat", set("/format", "tar"),
     "zk-tool-manifest.json: \"format\" is \"tar\", expected \"zk-tool-archive\""},
    {"UnknownVersion", set("/version", 2),
     "zk-tool-manifest.json: \"version\" is 2; this zk-tool reads version 1"},
    {"VersionAsString", set("/version", "1"),
     "zk-tool-manifest.json: \"version\" must be a non-negative integer"},
    {"UnknownKind", set("/kind", "etcd"),
     "zk-tool-manifest.json: \"kind\" is \"etcd\", expected \"zookeeper\" or "
     "\"mesos-replicated-log\""},
    {"HostNotString", set("/host", 5), "zk-tool-manifest.json: \"host\" must be a string"},
    {"EmptyHost", set("/host", ""), "zk-tool-manifest.json: \"host\" must not be empty"},
    {"UnknownMode", set("/mode", "warm"),
     "zk-tool-manifest.json: \"mode\" is \"warm\", expected \"hot\" or \"cold\""},
    {"CreatedNotUtc", set("/created", "2024-05-01T12:34:56+02:00"),
     "zk-tool-manifest.json: \"created\" is \"2024-05-01T12:34:56+02:00\", expected UTC "
     "ISO-8601 like \"2024-05-01T12:00:00Z\""},
    {"CreatedBadMonth", set("/created", "2024-13-01T12:34:56Z"),
     "zk-tool-manifest.json: \"created\" is \"2024-13-01T12:34:56Z\", expected UTC ISO-8601 "
     "like \"2024-05-01T12:00:00Z\""},
    {"SourceNotObject", set("/source", json::array()),
     "zk-tool-manifest.json: \"source\" must be an object"},
    {"SourcePathsEmpty", set("/source/paths", json::array()),
     "zk-tool-manifest.json: \"source.paths\" must not be empty"},
    {"UnitNotString", set("/source/unit", 3),
     "zk-tool-manifest.json: \"source.unit\" must be a string"},
    {"FilesNotArray", set("/files", json::object()),
     "zk-tool-manifest.json: \"files\" must be an array"},
    {"NegativeSize", set("/files/0/size", -5),
     "zk-tool-manifest.json: \"files[0].size\" is negative (-5)"},
    {"FractionalSize", set("/files/0/size", 1.5),
     "zk-tool-manifest.json: \"files[0].size\" must be a non-negative integer"},
    {"SizeAsString", set("/files/0/size", "10"),
     "zk-tool-manifest.json: \"files[0].size\" must be a non-negative integer"},
    {"UppercaseHash", set("/files/0/sha256", std::string(64, 'A')),
     "zk-tool-manifest.json: \"files[0].sha256\" is not 64 lowercase hex digits"},
    {"ShortHash", set("/files/0/sha256", std::string(63, 'a')),
     "zk-tool-manifest.json: \"files[0].sha256\" is not 64 lowercase hex digits"},
    {"NonHexHash", set("/files/0/sha256", std::string(63, 'a') + "g"),
     "zk-tool-manifest.json: \"files[0].sha256\" is not 64 lowercase hex digits"},
    {"DuplicatePath", set("/files/1/path", "zookeeper/snapshot/version-2/snapshot.100000002"),
     "zk-tool-manifest.json: \"files[1].path\" \"zookeeper/snapshot/version-2/snapshot.100000002\""
     " is listed twice"},
    {"DotDotPath", set("/files/0/path", "zookeeper/../../etc/passwd"),
     "zk-tool-manifest.json: \"files[0].path\" \"zookeeper/../../etc/passwd\": the path has a "
     "\"..\" component"},
    {"AbsolutePath", set("/files/0/path", "/etc/passwd"),
     "zk-tool-manifest.json: \"files[0].path\" \"/etc/passwd\": absolute paths are not allowed"},
    {"EmptyComponent", set("/files/0/path", "zookeeper//x"),
     "zk-tool-manifest.json: \"files[0].path\" \"zookeeper//x\": the path has an empty "
     "component"},
    {"DotComponent", set("/files/0/path", "zookeeper/./x"),
     "zk-tool-manifest.json: \"files[0].path\" \"zookeeper/./x\": the path has a \".\" "
     "component"},
    {"ControlCharacter", set("/files/0/path", "zookeeper/a\nb"),
     "zk-tool-manifest.json: \"files[0].path\" \"zookeeper/a?b\": the path has a character "
     "that is not printable ASCII"},
    {"OutsideRoots", set("/files/0/path", "etc/passwd"),
     "zk-tool-manifest.json: \"files[0].path\" \"etc/passwd\": the path is outside the roots "
     "zookeeper/ and replicated_log/"},
    {"OtherKindsRoot", set("/files/0/path", "replicated_log/CURRENT"),
     "zk-tool-manifest.json: \"files[0].path\" \"replicated_log/CURRENT\" is outside zookeeper/, "
     "the root of a zookeeper archive"},
    {"ManifestAsPayload", set("/files/0/path", "zk-tool-manifest.json"),
     "zk-tool-manifest.json: \"files[0].path\" \"zk-tool-manifest.json\": the path is outside "
     "the roots zookeeper/ and replicated_log/"},
    {"ZxidWithoutPrefix", set("/zookeeper/snapshot_zxid", "100000002"),
     "zk-tool-manifest.json: \"zookeeper.snapshot_zxid\" is \"100000002\", expected a hex zxid "
     "like \"0x100000002\""},
    {"ZxidAsNumber", set("/zookeeper/last_zxid", 7),
     "zk-tool-manifest.json: \"zookeeper.last_zxid\" must be a string"},
    {"ZxidTooLarge", set("/zookeeper/last_zxid", "0x8000000000000000"),
     "zk-tool-manifest.json: \"zookeeper.last_zxid\" is \"0x8000000000000000\", expected a hex "
     "zxid like \"0x100000002\""},
    {"LastZxidBelowSnapshot", set("/zookeeper/last_zxid", "0x1"),
     "zk-tool-manifest.json: \"zookeeper.last_zxid\" is below snapshot_zxid"},
    {"LongUnprintableKind", set("/kind", "\x01" + std::string(300, 'k')),
     "zk-tool-manifest.json: \"kind\" is \"?" + std::string(199, 'k') +
         "...\", expected \"zookeeper\" or \"mesos-replicated-log\""},
    {"UnknownProof", set("/zookeeper/proof", "trust-me"),
     "zk-tool-manifest.json: \"zookeeper.proof\" is \"trust-me\", not \"digest\" or "
     "\"replay\""},
    {"DigestAsString", set("/zookeeper/digest", "123"),
     "zk-tool-manifest.json: \"zookeeper.digest\" must be an integer"},
    {"NegativeCount", set("/zookeeper/znode_count", -1),
     "zk-tool-manifest.json: \"zookeeper.znode_count\" is negative (-1)"},
};

INSTANTIATE_TEST_SUITE_P(Fields, ManifestRefuses, ::testing::ValuesIn(kMutations),
                         [](const auto& p) { return std::string(p.param.name); });

// Values a flipped bit can change into other valid values: only the seal
// tells them from what was written.
constexpr const char* kAltered =
    "zk-tool-manifest.json: \"manifest_sha256\" does not match the manifest's other fields: the "
    "manifest was altered";
const Mutation kSealed[] = {
    {"Host", set("/host", "master-3"), kAltered},
    {"Created", set("/created", "2024-05-01T12:34:57Z"), kAltered},
    {"ToolVersion", set("/tool_version", "0.1.1"), kAltered},
    {"Mode", set("/mode", "cold"), kAltered},
    {"SourcePath", set("/source/paths/0", "/var/lib/zookeeper"), kAltered},
    {"Unit", set("/source/unit", nullptr), kAltered},
    {"ZnodeCount", set("/zookeeper/znode_count", 13), kAltered},
    {"LastZxid", set("/zookeeper/last_zxid", "0x100000008"), kAltered},
    {"FileSize", set("/files/0/size", 1311), kAltered},
    {"SealItself", set("/manifest_sha256", std::string(64, 'b')), kAltered},
    {"SealNotHex", set("/manifest_sha256", "seal"),
     "zk-tool-manifest.json: \"manifest_sha256\" is not 64 lowercase hex digits"},
    {"SealNotString", set("/manifest_sha256", 7),
     "zk-tool-manifest.json: \"manifest_sha256\" must be a string"},
};
INSTANTIATE_TEST_SUITE_P(Seal, ManifestRefuses, ::testing::ValuesIn(kSealed),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(Manifest, IsSealedAndTheSealIgnoresSpacing) {
  const std::string text = to_json(with_files(sample_manifest()));
  const json doc = json::parse(text);
  ASSERT_TRUE(doc.contains("manifest_sha256"));
  EXPECT_TRUE(is_sha256_hex(doc["manifest_sha256"].get<std::string>()));
  // The same values with the keys sorted (json's own order), on one line or
  // indented by four: still what was written.
  for (const std::string& other : {doc.dump(), doc.dump(4)}) {
    auto parsed = parse_manifest(other);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, with_files(sample_manifest()));
  }
}

TEST(Manifest, AManifestWrittenBeforeTheSealIsReadWithoutIt) {
  json doc = json::parse(to_json(with_files(sample_manifest())));
  doc.erase("manifest_sha256");
  auto parsed = parse_manifest(doc.dump(2));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, with_files(sample_manifest()));
}

TEST(Manifest, RefusesReplicatedLogEndBeforeBegin) {
  Manifest m = sample_manifest();
  m.summary = ReplicatedLogSummary{10, 9, 0};
  auto parsed = parse_manifest(to_json(m));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "zk-tool-manifest.json: \"replicated_log.end\" is below begin");
}

TEST(Manifest, RefusesText) {
  const std::pair<std::string, std::string> cases[] = {
      {"{\"format\": ", "zk-tool-manifest.json is not valid JSON"},
      {"[1, 2]", "zk-tool-manifest.json is not a JSON object"},
      {"{\"host\": \"a\", \"host\": \"b\"}",
       "zk-tool-manifest.json has the key \"host\" twice in one object"},
      {std::string(100, '[') + std::string(100, ']'),
       "zk-tool-manifest.json nests deeper than a manifest does"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = parse_manifest(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(parsed.error().message, message);
  }
}

TEST(Manifest, DuplicateKeyInsideAFileIsRefused) {
  std::string text = manifest_json({{"zookeeper/a", "x"}});
  const std::string key = "\"size\": 1,";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "\"size\": 999, ");
  auto parsed = parse_manifest(text);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message,
            "zk-tool-manifest.json has the key \"size\" twice in one object");
}

}  // namespace
}  // namespace zktool::archive
