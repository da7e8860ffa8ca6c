#include "archive/archive_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "archive/archive_path.h"
#include "archive/archive_writer.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using testing::CraftedArchive;
using testing::manifest_json;
using testing::random_bytes;
using testing::RawEntry;
using testing::read_file;
using testing::run;
using testing::sample_manifest;
using testing::sha256_hex;
using testing::TempDir;
using testing::tree;
using testing::write_file;
using testing::write_raw_archive;
namespace fs = std::filesystem;

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "in");
    fs::create_directories(staging());
  }

  fs::path archive() const { return dir_.path() / "in" / "backup.tar.gz"; }
  // The staging directory sits in target/, so a "../x" escape would land there.
  fs::path staging() const { return dir_.path() / "target" / "staging"; }

  Result<Extracted> extract(const Limits& limits = {}) const {
    auto reader = ArchiveReader::open(archive());
    if (!reader) return reader.error();
    return reader->extract_verified(staging(), limits);
  }

  // Everything in the test directory outside the staging directory.
  std::vector<std::string> outside_staging() const {
    std::vector<std::string> paths;
    for (const std::string& path : tree(dir_.path())) {
      if (!path.starts_with("target/staging/")) paths.push_back(path);
    }
    return paths;
  }

  // `message` follows "<archive>: "; "{staging}" in it stands for staging().
  void expect_refused(std::string message, const Limits& limits = {}) {
    if (const size_t at = message.find("{staging}"); at != std::string::npos) {
      message.replace(at, 9, staging().string());
    } else {
      // check() judges the archive as extraction does, without a staging directory.
      auto reader = ArchiveReader::open(archive());
      if (reader) {
        auto checked = reader->check(limits);
        ASSERT_FALSE(checked);
        EXPECT_EQ(checked.error().message, archive().string() + ": " + message);
      }
    }
    auto extracted = extract(limits);
    ASSERT_FALSE(extracted);
    EXPECT_EQ(extracted.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(extracted.error().message, archive().string() + ": " + message);
    EXPECT_EQ(outside_staging(),
              (std::vector<std::string>{"in", "in/backup.tar.gz", "target", "target/staging"}));
  }

  TempDir dir_;
};

class ReaderRefuses : public ReaderTest, public ::testing::WithParamInterface<CraftedArchive> {};

TEST_P(ReaderRefuses, WithItsOwnMessageAndWritesNothingOutside) {
  write_raw_archive(archive(), GetParam().entries);
  expect_refused(GetParam().message);
}

RawEntry file(std::string path, std::string data) {
  return RawEntry{std::move(path), std::move(data)};
}
RawEntry manifest(const std::vector<std::pair<std::string, std::string>>& files) {
  return file(std::string(kManifestName), manifest_json(files));
}
RawEntry manifest_without(const char* key) {
  auto doc = nlohmann::json::parse(manifest_json({{"zookeeper/a", "a"}}));
  doc.erase(key);
  return file(std::string(kManifestName), doc.dump());
}
RawEntry manifest_with(const char* key) {
  auto doc = nlohmann::json::parse(manifest_json({{"zookeeper/a", "a"}}));
  doc[key] = true;
  return file(std::string(kManifestName), doc.dump());
}

const CraftedArchive kMalicious[] = {
    {"DotDot", {file("../escape", "x")}, "entry \"../escape\": the path has a \"..\" component"},
    {"DotDotInsideARoot",
     {file("zookeeper/../../escape", "x")},
     "entry \"zookeeper/../../escape\": the path has a \"..\" component"},
    {"Symlink",
     {file("zookeeper/a", "a"), {"zookeeper/link", "", AE_IFLNK, "/", ""}},
     "entry \"zookeeper/link\": symbolic links are not allowed"},
    {"SymlinkThenWriteThroughIt",
     {{"zookeeper/snapshot", "", AE_IFLNK, "../..", ""}, file("zookeeper/snapshot/escape", "x")},
     "entry \"zookeeper/snapshot\": symbolic links are not allowed"},
    {"HardLink",
     {{"zookeeper/passwd", "", AE_IFREG, "", "/etc/passwd"}},
     "entry \"zookeeper/passwd\": hard links are not allowed"},
    {"CharDevice",
     {{"zookeeper/null", "", AE_IFCHR, "", ""}},
     "entry \"zookeeper/null\": character devices are not allowed"},
    {"BlockDevice",
     {{"zookeeper/sda", "", AE_IFBLK, "", ""}},
     "entry \"zookeeper/sda\": block devices are not allowed"},
    {"Fifo",
     {{"zookeeper/fifo", "", AE_IFIFO, "", ""}},
     "entry \"zookeeper/fifo\": FIFOs are not allowed"},
    {"DuplicateEntry",
     {file("zookeeper/a", "first"), file("zookeeper/a", "second")},
     "entry \"zookeeper/a\": appears twice in the archive"},
    {"DuplicateSpelledWithDotSlash",
     {file("zookeeper/a", "first"), file("./zookeeper/a", "second")},
     "entry \"./zookeeper/a\": appears twice in the archive"},
    {"FileOverDirectory",
     {{"zookeeper/x", "", AE_IFDIR, "", ""}, file("zookeeper/x", "x")},
     "entry \"zookeeper/x\": appears twice in the archive"},
    {"OutsideTheRoots",
     {file("etc/cron.d/evil", "x")},
     "entry \"etc/cron.d/evil\": the path is outside the roots zookeeper/ and replicated_log/"},
    {"ControlCharacter",
     {file("zookeeper/a\nb", "x")},
     "entry \"zookeeper/a?b\": the path has a character that is not printable ASCII"},
    {"ManifestNotFirst",
     {file("zookeeper/a", "a"), manifest({{"zookeeper/a", "a"}})},
     "entry \"zk-tool-manifest.json\": the manifest is entry #2; it must be the first"},
    {"ManifestIsASymlink",
     {{std::string(kManifestName), "", AE_IFLNK, "/etc/passwd", ""}},
     "entry \"zk-tool-manifest.json\": the manifest must be a regular file"},
    {"SizeDiffersFromTheManifest",
     {manifest({{"zookeeper/a", "0123456789"}}), file("zookeeper/a", "0123456789ab")},
     "entry \"zookeeper/a\": has 12 bytes, the manifest lists 10"},
    {"DigestDiffersFromTheManifest",
     {manifest({{"zookeeper/a", "aaaa"}}), file("zookeeper/a", "bbbb")},
     "entry \"zookeeper/a\": sha256 " + sha256_hex("bbbb") + " differs from the manifest's " +
         sha256_hex("aaaa")},
    {"ListedFileMissing",
     {manifest({{"zookeeper/a", "a"}, {"zookeeper/b", "b"}}), file("zookeeper/a", "a")},
     "zookeeper/b is listed in the manifest but missing from the archive"},
    {"FileNotListed",
     {manifest({{"zookeeper/a", "a"}}), file("zookeeper/a", "a"), file("zookeeper/c", "c")},
     "entry \"zookeeper/c\": is not listed in the manifest"},
    {"ManifestMissingAField",
     {manifest_without("host"), file("zookeeper/a", "a")},
     "zk-tool-manifest.json: \"host\" is missing"},
    {"ManifestWithAnExtraField",
     {manifest_with("comment"), file("zookeeper/a", "a")},
     "zk-tool-manifest.json: \"comment\" is not a field of a version 1 manifest"},
    {"FileInsideAFile",
     {file("zookeeper/a", "a"), file("zookeeper/a/b", "b")},
     "entry \"zookeeper/a/b\": zookeeper/a is already in the staging directory {staging} (not "
     "as a directory, or as a link)"},
};

INSTANTIATE_TEST_SUITE_P(Entries, ReaderRefuses, ::testing::ValuesIn(kMalicious),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(ReaderTest, RefusesAnAbsolutePath) {
  const fs::path target = dir_.path() / "target" / "absolute";
  write_raw_archive(archive(), {file(target.string(), "x")});
  expect_refused("entry \"" + target.string() + "\": absolute paths are not allowed");
}

TEST_F(ReaderTest, NeverFollowsALinkAlreadyInTheStagingDirectory) {
  const fs::path victim = dir_.path() / "target" / "victim";
  fs::create_directory(victim);
  fs::create_directory_symlink(victim, staging() / "zookeeper");
  write_raw_archive(archive(), {file("zookeeper/snapshot/x", "x")});
  auto extracted = extract();
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().message,
            archive().string() +
                ": entry \"zookeeper/snapshot/x\": zookeeper is already in the "
                "staging directory " +
                staging().string() + " (not as a directory, or as a link)");
  EXPECT_TRUE(fs::is_empty(victim));
}

TEST_F(ReaderTest, NeverOverwritesAFileInTheStagingDirectory) {
  write_file(staging() / "zookeeper" / "a", "keep");
  write_raw_archive(archive(), {file("zookeeper/a", "new")});
  auto extracted = extract();
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(read_file(staging() / "zookeeper" / "a"), "keep");
}

TEST_F(ReaderTest, StopsAtTheEntryLimit) {
  write_raw_archive(archive(), {file("zookeeper/a", "a"), file("zookeeper/b", "b"),
                                file("zookeeper/c", "c"), file("zookeeper/d", "d")});
  expect_refused("has more than 3 entries, the limit", {.max_entries = 3});
}

TEST_F(ReaderTest, StopsAtTheByteLimitBeforeWritingTheEntry) {
  // 64 MiB of zeros: a few kilobytes compressed, a bomb for a small limit.
  write_raw_archive(archive(), {file("zookeeper/a", std::string(1000, 'a')),
                                file("zookeeper/bomb", std::string(64 << 20, '\0'))});
  EXPECT_LT(fs::file_size(archive()), 1u << 20);
  expect_refused("entry \"zookeeper/bomb\": takes the archive past its limit of 1048576 bytes",
                 {.max_total_bytes = 1 << 20});
  EXPECT_EQ(tree(staging()), (std::vector<std::string>{"zookeeper", "zookeeper/a"}));
}

TEST_F(ReaderTest, RefusesAManifestListingMoreThanTheByteLimitBeforeWritingAnything) {
  write_raw_archive(
      archive(),
      {manifest({{"zookeeper/a", std::string(600, 'a')}, {"zookeeper/b", std::string(600, 'b')}}),
       file("zookeeper/a", std::string(600, 'a')), file("zookeeper/b", std::string(600, 'b'))});
  expect_refused("the manifest lists more than the limit of 1000 bytes", {.max_total_bytes = 1000});
  EXPECT_TRUE(fs::is_empty(staging()));
}

TEST(EntryTypeNames, AreDistinct) {
  std::set<std::string_view> names;
  for (EntryType type : {EntryType::File, EntryType::Directory, EntryType::Symlink,
                         EntryType::HardLink, EntryType::CharDevice, EntryType::BlockDevice,
                         EntryType::Fifo, EntryType::Socket, EntryType::Other}) {
    names.insert(to_string(type));
  }
  EXPECT_EQ(names.size(), 9u);
  EXPECT_EQ(to_string(EntryType::File), "file");
  EXPECT_EQ(to_string(EntryType::Symlink), "symlink");
}

TEST_F(ReaderTest, ListShowsEntriesAsStoredWithoutJudgingThem) {
  write_raw_archive(archive(), {{"./zookeeper/", "", AE_IFDIR, "", ""},
                                file("../escape", "xyz"),
                                {"zookeeper/link", "", AE_IFLNK, "/", ""},
                                {"zookeeper/fifo", "", AE_IFIFO, "", ""}});
  auto reader = ArchiveReader::open(archive());
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_FALSE(reader->manifest());
  EXPECT_EQ(reader->compression(), Compression::Gzip);
  auto entries = reader->list();
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].path, "./zookeeper/");
  EXPECT_EQ((*entries)[0].type, EntryType::Directory);
  EXPECT_EQ((*entries)[1].path, "../escape");
  EXPECT_EQ((*entries)[1].size, 3u);
  EXPECT_EQ((*entries)[2].type, EntryType::Symlink);
  EXPECT_EQ((*entries)[3].type, EntryType::Fifo);
  EXPECT_FALSE(reader->list({.max_entries = 3}));
}

TEST_F(ReaderTest, RefusesWhatIsNotAnArchive) {
  write_file(archive(), random_bytes(10'000, 5));
  auto reader = ArchiveReader::open(archive());
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(reader.error().message,
            archive().string() + ": cannot read: Unrecognized archive format");

  write_raw_archive(archive(), {});
  reader = ArchiveReader::open(archive());
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message, archive().string() + ": the archive has no entries");

  reader = ArchiveReader::open(dir_.path() / "missing.tar.gz");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().kind, ErrorKind::Io);
}

TEST_F(ReaderTest, ExtractsZerosAsHoles) {
  // A dcos-zk archive keeps ZooKeeper's preallocated logs: mostly zeros.
  const fs::path final_path = dir_.path() / "in" / "zeros.tar.zst";
  const std::string log = random_bytes(20000, 4) + std::string(16 << 20, '\0');
  write_file(dir_.path() / "src" / "log.1", log);
  auto writer = ArchiveWriter::open(final_path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file("zookeeper/transactions/version-2/log.1", dir_.path() / "src" / "log.1"));
  ASSERT_TRUE(writer->commit(sample_manifest()));

  auto extracted = ArchiveReader::open(final_path)->extract_verified(staging());
  ASSERT_TRUE(extracted) << extracted.error().message;
  const fs::path out = staging() / "zookeeper/transactions/version-2/log.1";
  EXPECT_EQ(read_file(out), log);
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);
}

TEST_F(ReaderTest, ExtractsAReplicatedLogArchive) {
  const fs::path final_path = dir_.path() / "in" / "log.tar.zst";
  write_file(dir_.path() / "src" / "CURRENT", "MANIFEST-000002\n");
  write_file(dir_.path() / "src" / "000003.log", random_bytes(5000, 9));
  auto writer = ArchiveWriter::open(final_path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file("replicated_log/CURRENT", dir_.path() / "src" / "CURRENT"));
  ASSERT_TRUE(writer->add_file("replicated_log/000003.log", dir_.path() / "src" / "000003.log"));
  Manifest manifest = sample_manifest();
  manifest.summary = ReplicatedLogSummary{0, 41, 42};
  ASSERT_TRUE(writer->commit(manifest));

  auto extracted = ArchiveReader::open(final_path)->extract_verified(staging());
  ASSERT_TRUE(extracted) << extracted.error().message;
  ASSERT_TRUE(extracted->manifest);
  EXPECT_EQ(extracted->manifest->kind(), Kind::ReplicatedLog);
  EXPECT_EQ(read_file(staging() / "replicated_log" / "CURRENT"), "MANIFEST-000002\n");
  EXPECT_EQ(tree(staging()),
            (std::vector<std::string>{"replicated_log", "replicated_log/000003.log",
                                      "replicated_log/CURRENT"}));
}

TEST_F(ReaderTest, ChecksAnArchiveWithoutWritingAnything) {
  const fs::path final_path = dir_.path() / "in" / "log.tar.zst";
  write_file(dir_.path() / "src" / "000003.log", random_bytes(5000, 9));
  auto writer = ArchiveWriter::open(final_path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file("replicated_log/000003.log", dir_.path() / "src" / "000003.log"));
  Manifest manifest = sample_manifest();
  manifest.summary = ReplicatedLogSummary{0, 41, 42};
  auto written = writer->commit(manifest);
  ASSERT_TRUE(written);

  auto checked = ArchiveReader::open(final_path)->check();
  ASSERT_TRUE(checked) << checked.error().message;
  ASSERT_EQ(checked->files.size(), 1u);
  EXPECT_EQ(checked->files[0].sha256, written->files[0].sha256);
  EXPECT_EQ(checked->files[0].sha256, sha256_hex(read_file(dir_.path() / "src" / "000003.log")));
  EXPECT_TRUE(tree(staging()).empty());
}

// DC/OS's dcos-zk: Python's tarfile, mode "x:gz", the ZooKeeper directory
// added as "./zookeeper", myid and zookeeper.out filtered out.
class DcosZkArchive : public ReaderTest {
 protected:
  void SetUp() override {
    ReaderTest::SetUp();
    const fs::path zk = dir_.path() / "exhibitor" / "zookeeper";
    write_file(zk / "snapshot" / "myid", "1\n");
    write_file(zk / "zookeeper.out", "log lines\n");
    for (const auto& [path, content] : files_) write_file(zk / path, content);
  }

  const std::vector<std::pair<std::string, std::string>> files_ = {
      {"snapshot/version-2/acceptedEpoch", "1"},
      {"snapshot/version-2/currentEpoch", "1"},
      {"snapshot/version-2/snapshot.100000002", random_bytes(20'000, 4)},
      {"transactions/version-2/log.100000001", random_bytes(30'000, 6)},
  };

  void expect_extracted_without_manifest() {
    auto reader = ArchiveReader::open(archive());
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_FALSE(reader->manifest());
    EXPECT_EQ(reader->compression(), Compression::Gzip);
    auto extracted = reader->extract_verified(staging());
    ASSERT_TRUE(extracted) << extracted.error().message;
    EXPECT_FALSE(extracted->manifest);
    ASSERT_EQ(extracted->files.size(), files_.size());
    for (const auto& [path, content] : files_) {
      const std::string archive_path = "zookeeper/" + path;
      EXPECT_EQ(read_file(staging() / archive_path), content);
      const auto it = std::find_if(extracted->files.begin(), extracted->files.end(),
                                   [&](const FileEntry& f) { return f.path == archive_path; });
      ASSERT_NE(it, extracted->files.end()) << archive_path;
      EXPECT_EQ(it->size, content.size());
      EXPECT_EQ(it->sha256, sha256_hex(content));
    }
    EXPECT_FALSE(fs::exists(staging() / "zookeeper" / "snapshot" / "myid"));
  }
};

TEST_F(DcosZkArchive, MadeByPythonTarfileExtractsWithNoManifest) {
  const std::string script =
      "import sys, tarfile\n"
      "def skip(info):\n"
      "    return None if 'myid' in info.name or 'zookeeper.out' in info.name else info\n"
      "with tarfile.open(name=sys.argv[1], mode='x:gz') as tar:\n"
      "    tar.add(name=sys.argv[2], arcname='./zookeeper', filter=skip)\n";
  write_file(dir_.path() / "dcos_zk.py", script);
  const auto made = run("python3 " + (dir_.path() / "dcos_zk.py").string() + " " +
                        archive().string() + " " + (dir_.path() / "exhibitor/zookeeper").string());
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto entries = ArchiveReader::open(archive())->list();
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->front().path, "./zookeeper/");
  EXPECT_EQ(entries->front().type, EntryType::Directory);
  expect_extracted_without_manifest();
}

TEST_F(DcosZkArchive, MadeByGnuTarExtractsWithNoManifest) {
  const auto made = run("tar --exclude=myid --exclude=zookeeper.out -czf " + archive().string() +
                        " -C " + (dir_.path() / "exhibitor").string() + " ./zookeeper");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto entries = ArchiveReader::open(archive())->list();
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->front().path, "./zookeeper/");
  expect_extracted_without_manifest();
}

TEST_F(DcosZkArchive, WithALinkInsideIsRefused) {
  fs::create_symlink("/etc/passwd", dir_.path() / "exhibitor/zookeeper/snapshot/version-2/evil");
  const auto made = run("tar -czf " + archive().string() + " -C " +
                        (dir_.path() / "exhibitor").string() + " ./zookeeper");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto extracted = extract();
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().message,
            archive().string() +
                ": entry \"./zookeeper/snapshot/version-2/evil\": symbolic links are not allowed");
}

// Archives damaged after writing: every flipped byte or cut must be caught.
class DamagedArchive : public ReaderTest, public ::testing::WithParamInterface<Compression> {
 protected:
  void SetUp() override {
    ReaderTest::SetUp();
    const fs::path source = dir_.path() / "snapshot";
    write_file(source, random_bytes(256 << 10, 8));
    auto writer = ArchiveWriter::open(good_, {GetParam(), std::nullopt, 0});
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->add_file("zookeeper/snapshot/version-2/snapshot.1", source));
    ASSERT_TRUE(writer->commit(sample_manifest()));
    bytes_ = read_file(good_);
  }

  // Offsets into the manifest, the header and across the payload.
  std::vector<size_t> offsets() const {
    std::vector<size_t> at = {100, 600};
    for (int percent = 10; percent <= 90; percent += 20)
      at.push_back(bytes_.size() * percent / 100);
    return at;
  }

  void expect_rejected(const std::string& damaged, const std::string& what) {
    write_file(archive(), damaged);
    fs::remove_all(staging());
    fs::create_directory(staging());
    auto extracted = extract();
    ASSERT_FALSE(extracted) << what;
    EXPECT_EQ(extracted.error().kind, ErrorKind::Corrupt) << what;
    EXPECT_TRUE(extracted.error().message.starts_with(archive().string() + ": "))
        << extracted.error().message;
  }

  const fs::path good_ = dir_.path() / "good.tar";
  std::string bytes_;
};

TEST_P(DamagedArchive, TheUndamagedArchiveExtracts) {
  write_file(archive(), bytes_);
  auto extracted = extract();
  EXPECT_TRUE(extracted) << extracted.error().message;
}

TEST_P(DamagedArchive, AFlippedByteIsRejected) {
  for (size_t offset : offsets()) {
    std::string damaged = bytes_;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0xff);
    expect_rejected(damaged, "flip at " + std::to_string(offset));
  }
}

TEST_P(DamagedArchive, ATruncatedArchiveIsRejected) {
  std::vector<size_t> cuts = offsets();
  cuts.push_back(0);
  if (GetParam() != Compression::None) cuts.push_back(bytes_.size() - 1);
  for (size_t cut : cuts) {
    expect_rejected(bytes_.substr(0, cut), "cut at " + std::to_string(cut));
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, DamagedArchive,
                         ::testing::Values(Compression::Zstd, Compression::Gzip, Compression::None),
                         [](const auto& p) { return std::string(to_string(p.param)); });

}  // namespace
}  // namespace zktool::archive
