// Hostile archives, crafted with libarchive's writer (and, where the writer
// will not lie, by patching the tar bytes): each is refused by
// extract_verified() with its own one-line message, and nothing outside the
// staging directory changes, a canary file that an escape would hit included.
// archive_reader_test.cc covers the plainer cases; these are the ones it lacks.
#include <archive.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "archive/archive_path.h"
#include "archive/archive_reader.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using testing::CraftedArchive;
using testing::manifest_json;
using testing::open_raw_writer;
using testing::random_bytes;
using testing::RawEntry;
using testing::read_file;
using testing::sha256_hex;
using testing::TempDir;
using testing::tree;
using testing::write_file;
using testing::write_raw_archive;
namespace fs = std::filesystem;

constexpr std::string_view kCanary = "canary: must never change\n";
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr std::string_view kBombPath = "zookeeper/transactions/version-2/log.100000001";

RawEntry file(std::string path, std::string data) { return {std::move(path), std::move(data)}; }
RawEntry manifest(const std::vector<std::pair<std::string, std::string>>& files) {
  return file(std::string(kManifestName), manifest_json(files));
}

// A tar header field as the ustar layout places it.
constexpr size_t kBlock = 512;
constexpr size_t kSizeField = 124, kSizeLength = 12;
constexpr size_t kChecksumField = 148, kChecksumLength = 8;

// The offset of the ustar header naming `name` in an uncompressed tar.
size_t header_of(const std::string& tar, std::string_view name) {
  for (size_t at = 0; at + kBlock <= tar.size(); at += kBlock) {
    if (tar.compare(at, name.size(), name) == 0 && tar[at + name.size()] == '\0') return at;
  }
  throw std::runtime_error("no header for " + std::string(name));
}

// Rewrites a header's size (octal, or GNU base-256 when it does not fit) and
// its checksum, so that only the size lies.
void set_declared_size(std::string& tar, size_t header, uint64_t size) {
  char* field = tar.data() + header + kSizeField;
  if (size < (uint64_t{1} << 33)) {
    std::snprintf(field, kSizeLength, "%011llo", static_cast<unsigned long long>(size));
  } else {
    field[0] = static_cast<char>(0x80);
    for (size_t i = kSizeLength - 1; i > 0; --i, size >>= 8) {
      field[i] = static_cast<char>(size & 0xff);
    }
  }
  std::fill_n(tar.data() + header + kChecksumField, kChecksumLength, ' ');
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(tar[header + i]);
  std::snprintf(tar.data() + header + kChecksumField, kChecksumLength, "%06o", sum);
}

// A tar whose one ZooKeeper log entry is `size` zero bytes, streamed through
// the compressor so the test never holds it in memory; `manifest_text`, if
// not empty, goes first.
void write_bomb(const fs::path& path, Compression compression, uint64_t size,
                const std::string& manifest_text = {}) {
  struct archive* a = open_raw_writer(path, compression);
  const auto add = [&](const std::string& name, uint64_t length, const std::string& data) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(length));
    if (archive_write_header(a, entry) != ARCHIVE_OK) throw std::runtime_error("header");
    for (uint64_t done = 0; done < length; done += data.size()) {
      archive_write_data(a, data.data(), data.size());
    }
    archive_entry_free(entry);
  };
  if (!manifest_text.empty()) add(std::string(kManifestName), manifest_text.size(), manifest_text);
  add(std::string(kBombPath), size, std::string(1 << 20, '\0'));
  archive_write_close(a);
  archive_write_free(a);
}

class Malice : public ::testing::Test {
 protected:
  // root/canary and root/victim/ are what an escape would hit; root/staging
  // is where extraction may write; the archive sits in root/in.
  void SetUp() override {
    write_file(canary(), kCanary);
    fs::create_directories(root() / "victim");
    fs::create_directories(staging());
    fs::create_directories(root() / "in");
  }

  const fs::path& root() const { return dir_.path(); }
  fs::path canary() const { return root() / "canary"; }
  fs::path staging() const { return root() / "staging"; }
  fs::path archive(std::string_view name = "evil.tar.gz") const { return root() / "in" / name; }

  // Everything outside the staging directory, and what the canary holds.
  std::vector<std::string> outside_staging() const {
    std::vector<std::string> seen;
    for (const std::string& path : tree(root())) {
      if (!path.starts_with("staging/")) seen.push_back(path);
    }
    seen.push_back(read_file(canary()));
    return seen;
  }

  // `message` follows "<archive>: ".
  void expect_refused(const fs::path& evil, const std::string& message, const Limits& limits = {}) {
    const auto before = outside_staging();
    // A manifest is refused as soon as the archive is opened.
    auto reader = ArchiveReader::open(evil);
    Result<Extracted> extracted =
        reader ? reader->extract_verified(staging(), limits) : Result<Extracted>(reader.error());
    ASSERT_FALSE(extracted) << "extracted " << evil;
    EXPECT_EQ(extracted.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(extracted.error().message, evil.string() + ": " + message);
    EXPECT_EQ(outside_staging(), before);
    EXPECT_EQ(read_file(canary()), kCanary);
    EXPECT_TRUE(fs::is_empty(root() / "victim"));
  }

  TempDir dir_;
};

// The cases where an entry names the canary or the victim directory by an
// absolute path, so they are built per test.
TEST_F(Malice, SymlinkToTheCanaryThenAFileOfItsName) {
  write_raw_archive(archive(), {{"zookeeper/c", "", AE_IFLNK, canary().string(), ""},
                                file("zookeeper/c", "overwritten through the link")});
  expect_refused(archive(), "entry \"zookeeper/c\": symbolic links are not allowed");
}

TEST_F(Malice, SymlinkedDirectoryToAnAbsolutePathThenAFileThroughIt) {
  write_raw_archive(archive(),
                    {{"zookeeper/snapshot", "", AE_IFLNK, (root() / "victim").string(), ""},
                     file("zookeeper/snapshot/version-2/snapshot.1", "x")});
  expect_refused(archive(), "entry \"zookeeper/snapshot\": symbolic links are not allowed");
  EXPECT_TRUE(fs::is_empty(staging()));
}

TEST_F(Malice, HardLinkToTheCanaryCarryingData) {
  write_raw_archive(archive(), {{"zookeeper/h", "evil", AE_IFREG, "", canary().string()}});
  expect_refused(archive(), "entry \"zookeeper/h\": hard links are not allowed");
}

TEST_F(Malice, HardLinkToAnEarlierEntry) {
  write_raw_archive(archive(), {manifest({{"zookeeper/a", "a"}}), file("zookeeper/a", "a"),
                                {"zookeeper/b", "", AE_IFREG, "", "zookeeper/a"}});
  expect_refused(archive(), "entry \"zookeeper/b\": hard links are not allowed");
}

TEST_F(Malice, AbsolutePathAtTheCanary) {
  write_raw_archive(archive(), {file(canary().string(), "evil")});
  expect_refused(archive(), "entry \"" + canary().string() + "\": absolute paths are not allowed");
}

TEST_F(Malice, FifoAtAnAbsolutePath) {
  const fs::path fifo = root() / "victim" / "fifo";
  write_raw_archive(archive(), {{fifo.string(), "", AE_IFIFO, "", ""}});
  expect_refused(archive(), "entry \"" + fifo.string() + "\": FIFOs are not allowed");
}

class MaliceRefuses : public Malice, public ::testing::WithParamInterface<CraftedArchive> {};

TEST_P(MaliceRefuses, WithItsOwnMessageAndNothingOutsideChanges) {
  write_raw_archive(archive(), GetParam().entries);
  expect_refused(archive(), GetParam().message);
}

nlohmann::json manifest_doc() { return nlohmann::json::parse(manifest_json({{"zookeeper/a", "a"}})); }
RawEntry manifest_doc_entry(const nlohmann::json& doc) {
  return file(std::string(kManifestName), doc.dump());
}
RawEntry manifest_listing_a_without_its_digest() {
  auto doc = manifest_doc();
  doc["files"][0].erase("sha256");
  return manifest_doc_entry(doc);
}
RawEntry manifest_listing_an_escape() {
  auto doc = manifest_doc();
  doc["files"][0]["path"] = "../canary";
  return manifest_doc_entry(doc);
}
RawEntry manifest_with_a_negative_size() {
  auto doc = manifest_doc();
  doc["files"][0]["size"] = -1;
  return manifest_doc_entry(doc);
}

const CraftedArchive kCrafted[] = {
    {"DotSlashThenDotDot",
     {file("./../canary", "evil")},
     "entry \"./../canary\": the path has a \"..\" component"},
    {"DirectoryEntryEscaping",
     {{"zookeeper/../../victim/x", "", AE_IFDIR, "", ""}},
     "entry \"zookeeper/../../victim/x/\": the path has a \"..\" component"},
    {"EmptyComponent",
     {file("zookeeper//a", "x")},
     "entry \"zookeeper//a\": the path has an empty component"},
    {"DuplicateOfAListedFile",
     {manifest({{"zookeeper/a", "a"}}), file("zookeeper/a", "a"), file("zookeeper/a", "a")},
     "entry \"zookeeper/a\": appears twice in the archive"},
    {"ASecondManifestLater",
     {manifest({{"zookeeper/a", "a"}}), file("zookeeper/a", "a"), manifest({{"zookeeper/a", "a"}})},
     "entry \"zk-tool-manifest.json\": the manifest is entry #3; it must be the first"},
    {"ManifestListsMoreBytesThanTheEntryHolds",
     {manifest({{"zookeeper/a", std::string(1000, 'a')}}), file("zookeeper/a", "short")},
     "entry \"zookeeper/a\": has 5 bytes, the manifest lists 1000"},
    {"ManifestDigestOfOtherBytesOfTheSameSize",
     {manifest({{"zookeeper/a", "snapshot-good"}}), file("zookeeper/a", "snapshot-evil")},
     "entry \"zookeeper/a\": sha256 " + sha256_hex("snapshot-evil") +
         " differs from the manifest's " + sha256_hex("snapshot-good")},
    {"ManifestFileWithoutADigest",
     {manifest_listing_a_without_its_digest(), file("zookeeper/a", "a")},
     "zk-tool-manifest.json: \"files[0].sha256\" is missing"},
    {"ManifestListingAnEscapingPath",
     {manifest_listing_an_escape(), file("zookeeper/a", "a")},
     "zk-tool-manifest.json: \"files[0].path\" \"../canary\": the path has a \"..\" component"},
    {"ManifestWithANegativeSize",
     {manifest_with_a_negative_size(), file("zookeeper/a", "a")},
     "zk-tool-manifest.json: \"files[0].size\" is negative (-1)"},
    {"ManifestThatIsNotJson",
     {file(std::string(kManifestName), "{\"format\": \"zk-tool-archive\", "), file("zookeeper/a", "a")},
     "zk-tool-manifest.json is not valid JSON"},
};

INSTANTIATE_TEST_SUITE_P(Entries, MaliceRefuses, ::testing::ValuesIn(kCrafted),
                         [](const auto& p) { return std::string(p.param.name); });

// pax's "path" record overrides the ustar name: what is judged must be what
// libarchive would create, not the harmless name in the header block.
TEST_F(Malice, PaxPathRecordOverridingAHarmlessName) {
  const std::string name = "zookeeper/" + std::string(120, 'a');
  write_raw_archive(archive("pax.tar"), {file(name, "x")}, Compression::None);
  std::string tar = read_file(archive("pax.tar"));
  const size_t record = tar.find("path=" + name);
  ASSERT_NE(record, std::string::npos);
  tar.replace(record + 5, 3, "../");  // same length: the record stays well formed
  write_file(archive("pax.tar"), tar);
  expect_refused(archive("pax.tar"),
                 "entry \"../keeper/" + std::string(120, 'a') + "\": the path has a \"..\" "
                 "component");
}

class LyingHeader : public Malice {
 protected:
  // An uncompressed tar: zookeeper/a holding `data`, then zookeeper/b.
  std::string tar_of(const std::string& data, bool with_manifest) {
    std::vector<RawEntry> entries;
    if (with_manifest) entries.push_back(manifest({{"zookeeper/a", data}, {"zookeeper/b", "b"}}));
    entries.push_back(file("zookeeper/a", data));
    entries.push_back(file("zookeeper/b", "b"));
    write_raw_archive(archive("lie.tar"), entries, Compression::None);
    return read_file(archive("lie.tar"));
  }
  void write_lie(std::string tar, uint64_t declared) {
    set_declared_size(tar, header_of(tar, "zookeeper/a"), declared);
    write_file(archive("lie.tar"), tar);
  }
};

TEST_F(LyingHeader, TheUnpatchedArchiveExtracts) {
  write_lie(tar_of(random_bytes(3000, 1), true), 3000);
  auto extracted = ArchiveReader::open(archive("lie.tar"))->extract_verified(staging());
  ASSERT_TRUE(extracted) << extracted.error().message;
  EXPECT_EQ(extracted->files.size(), 2u);
}

TEST_F(LyingHeader, ShorterThanTheDataMakesTheRestAHeaderThatFailsItsChecksum) {
  write_lie(tar_of(random_bytes(3000, 1), false), 10);
  expect_refused(archive("lie.tar"), "cannot read entry #2: Damaged tar archive");
}

TEST_F(LyingHeader, ShorterThanTheDataDisagreesWithTheManifest) {
  write_lie(tar_of(random_bytes(3000, 1), true), 10);
  expect_refused(archive("lie.tar"), "entry \"zookeeper/a\": has 10 bytes, the manifest lists 3000");
  EXPECT_EQ(tree(staging()), std::vector<std::string>{});
}

TEST_F(LyingHeader, LongerThanTheArchiveIsTruncated) {
  write_lie(tar_of(random_bytes(3000, 1), false), 100'000);
  expect_refused(archive("lie.tar"), "entry \"zookeeper/a\": Truncated tar archive");
}

TEST_F(LyingHeader, APetabyteDeclaredInBase256IsRefusedBeforeAnyByteIsWritten) {
  write_lie(tar_of("tiny", false), uint64_t{1} << 50);
  expect_refused(archive("lie.tar"),
                 "entry \"zookeeper/a\": takes the archive past its limit of 1073741824 bytes",
                 {.max_total_bytes = kGiB});
  EXPECT_EQ(tree(staging()), std::vector<std::string>{});
}

// A ZooKeeper log of zeros that compresses to almost nothing: a gigabyte
// with zstd, a quarter of one with gzip (slower to write here, same point).
class Bomb : public Malice, public ::testing::WithParamInterface<Compression> {
 protected:
  fs::path bomb() const {
    return archive(GetParam() == Compression::Zstd ? "bomb.tar.zst" : "bomb.tar.gz");
  }
  uint64_t size() const { return GetParam() == Compression::Zstd ? kGiB : kGiB / 4; }
  static constexpr Limits kLimits{.max_total_bytes = 64 << 20};
};

TEST_P(Bomb, WithoutAManifestIsStoppedAtTheLimitBeforeItsFileIsCreated) {
  write_bomb(bomb(), GetParam(), size());
  EXPECT_LT(fs::file_size(bomb()), 2u << 20);
  expect_refused(bomb(),
                 "entry \"" + std::string(kBombPath) +
                     "\": takes the archive past its limit of 67108864 bytes",
                 kLimits);
  EXPECT_EQ(tree(staging()), std::vector<std::string>{});
}

TEST_P(Bomb, ListedTrulyInTheManifestIsRefusedBeforeAnythingIsWritten) {
  Manifest m = testing::sample_manifest();
  m.files.push_back({std::string(kBombPath), size(), sha256_hex("never computed")});
  write_bomb(bomb(), GetParam(), size(), to_json(m));
  expect_refused(bomb(), "the manifest lists more than the limit of 67108864 bytes", kLimits);
  EXPECT_TRUE(fs::is_empty(staging()));
}

TEST_P(Bomb, UnderstatedInTheManifestIsRefusedAtItsHeader) {
  Manifest m = testing::sample_manifest();
  m.files.push_back({std::string(kBombPath), 4096, sha256_hex(std::string(4096, '\0'))});
  write_bomb(bomb(), GetParam(), size(), to_json(m));
  expect_refused(bomb(),
                 "entry \"" + std::string(kBombPath) + "\": has " + std::to_string(size()) +
                     " bytes, the manifest lists 4096",
                 kLimits);
  EXPECT_TRUE(fs::is_empty(staging()));
}

INSTANTIATE_TEST_SUITE_P(Codecs, Bomb, ::testing::Values(Compression::Zstd, Compression::Gzip),
                         [](const auto& p) { return std::string(to_string(p.param)); });

// The same refusals through the binary: exit 3, one line on stderr, and the
// staging directory it made removed again.
class VerifyCommand : public Malice {
 protected:
  void expect_verify_refuses(const fs::path& evil, const std::string& message) {
    const fs::path scratch = root() / "verify-staging";
    fs::create_directories(scratch);
    const auto before = outside_staging();
    const auto run = testing::run(std::string(ZKTOOL_BINARY) + " verify " + evil.string() +
                                  " --staging-dir " + scratch.string());
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_EQ(run.output, "zk-tool verify: " + evil.string() + ": " + message + "\n");
    EXPECT_TRUE(fs::is_empty(scratch)) << "staging left behind";
    EXPECT_EQ(outside_staging(), before);
  }
};

TEST_F(VerifyCommand, RefusesASymlinkToTheCanary) {
  write_raw_archive(archive(), {{"zookeeper/c", "", AE_IFLNK, canary().string(), ""},
                                file("zookeeper/c", "evil")});
  expect_verify_refuses(archive(), "entry \"zookeeper/c\": symbolic links are not allowed");
}

TEST_F(VerifyCommand, RefusesAnEscapeByDotDot) {
  write_raw_archive(archive(), {file("zookeeper/../../canary", "evil")});
  expect_verify_refuses(archive(),
                        "entry \"zookeeper/../../canary\": the path has a \"..\" component");
}

TEST_F(VerifyCommand, RefusesAManifestThatIsNotFirst) {
  write_raw_archive(archive(), {file("zookeeper/a", "a"), manifest({{"zookeeper/a", "a"}})});
  expect_verify_refuses(
      archive(), "entry \"zk-tool-manifest.json\": the manifest is entry #2; it must be the first");
}

TEST_F(VerifyCommand, RefusesAnUnlistedEntry) {
  write_raw_archive(archive(), {manifest({{"zookeeper/a", "a"}}), file("zookeeper/a", "a"),
                                file("zookeeper/snapshot/version-2/snapshot.1", "x")});
  expect_verify_refuses(
      archive(), "entry \"zookeeper/snapshot/version-2/snapshot.1\": is not listed in the manifest");
}

TEST_F(VerifyCommand, RefusesADeclaredPetabyteAtTheStagingFileSystemsFreeSpace) {
  write_raw_archive(archive("huge.tar"), {file("zookeeper/a", "tiny")}, Compression::None);
  std::string tar = read_file(archive("huge.tar"));
  set_declared_size(tar, header_of(tar, "zookeeper/a"), uint64_t{1} << 50);
  write_file(archive("huge.tar"), tar);
  const fs::path scratch = root() / "verify-staging";
  fs::create_directories(scratch);
  const auto run = testing::run(std::string(ZKTOOL_BINARY) + " verify " +
                                archive("huge.tar").string() + " --staging-dir " + scratch.string());
  EXPECT_EQ(run.exit_code, 3) << run.output;
  // The limit is the free space, which changes as other work runs here.
  EXPECT_TRUE(run.output.starts_with("zk-tool verify: " + archive("huge.tar").string() +
                                     ": entry \"zookeeper/a\": takes the archive past its limit of "))
      << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  EXPECT_TRUE(fs::is_empty(scratch));
}

}  // namespace
}  // namespace zktool::archive
