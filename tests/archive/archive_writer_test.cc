#include "archive/archive_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "archive/archive_path.h"
#include "archive/archive_reader.h"
#include "test_support.h"

namespace zktool::archive {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::sample_manifest;
using testing::sha256_hex;
using testing::TempDir;
using testing::tree;
using testing::write_file;
namespace fs = std::filesystem;

const char kSnapshot[] = "zookeeper/snapshot/version-2/snapshot.100000002";
const char kEpoch[] = "zookeeper/snapshot/version-2/acceptedEpoch";
const char kLog[] = "zookeeper/transactions/version-2/log.100000001";
const char kEmpty[] = "zookeeper/transactions/version-2/empty";

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    while (text.size() < 100'000) text += "/app/config/node-" + std::to_string(text.size()) + "\n";
    contents_ = {
        {kSnapshot, random_bytes(300'000, 1)}, {kEpoch, "1\n"}, {kLog, text}, {kEmpty, ""}};
    for (const auto& [path, content] : contents_) write_file(source(path), content);
  }

  fs::path source(const std::string& archive_path) const {
    return dir_.path() / "src" / archive_path;
  }
  fs::path final_path() const { return dir_.path() / "out" / "backup.tar.zst"; }
  fs::path part_path() const { return dir_.path() / "out" / "backup.tar.zst.part"; }

  // Writes every sample file; fails the test on any error.
  Manifest write_sample(const WriteOptions& options = {}) {
    fs::create_directories(final_path().parent_path());
    auto writer = ArchiveWriter::open(final_path(), options);
    EXPECT_TRUE(writer) << writer.error().message;
    for (const auto& [path, content] : contents_) {
      Status added = writer->add_file(path, source(path));
      EXPECT_TRUE(added) << added.error().message;
    }
    auto committed = writer->commit(sample_manifest());
    EXPECT_TRUE(committed) << committed.error().message;
    return committed ? *committed : Manifest{};
  }

  // Nothing but what the test put in out/.
  std::vector<std::string> out_dir() const { return tree(final_path().parent_path()); }

  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> contents_;
};

struct Codec {
  const char* name;
  WriteOptions options;
};

class WriterRoundTrip : public WriterTest, public ::testing::WithParamInterface<Codec> {};

TEST_P(WriterRoundTrip, ExtractsWhatWasWritten) {
  const Manifest written = write_sample(GetParam().options);
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
  EXPECT_EQ(fs::status(final_path()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  ASSERT_EQ(written.files.size(), contents_.size());
  for (size_t i = 0; i < contents_.size(); ++i) {
    EXPECT_EQ(written.files[i].path, contents_[i].first);
    EXPECT_EQ(written.files[i].size, contents_[i].second.size());
    EXPECT_EQ(written.files[i].sha256, sha256_hex(contents_[i].second));
  }

  auto reader = ArchiveReader::open(final_path());
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ(reader->compression(), GetParam().options.compression);
  ASSERT_TRUE(reader->manifest());
  EXPECT_EQ(*reader->manifest(), written);

  auto entries = reader->list();
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), contents_.size() + 1);
  EXPECT_EQ((*entries)[0].path, kManifestName);
  for (size_t i = 0; i < contents_.size(); ++i) {
    EXPECT_EQ((*entries)[i + 1].path, contents_[i].first);
    EXPECT_EQ((*entries)[i + 1].size, contents_[i].second.size());
    EXPECT_EQ((*entries)[i + 1].type, EntryType::File);
  }

  const fs::path staging = dir_.path() / "staging";
  fs::create_directory(staging);
  auto extracted = reader->extract_verified(staging);
  ASSERT_TRUE(extracted) << extracted.error().message;
  ASSERT_TRUE(extracted->manifest);
  EXPECT_EQ(*extracted->manifest, written);
  EXPECT_EQ(extracted->files, written.files);
  for (const auto& [path, content] : contents_) EXPECT_EQ(read_file(staging / path), content);
}

INSTANTIATE_TEST_SUITE_P(Codecs, WriterRoundTrip,
                         ::testing::Values(Codec{"ZstdDefault", {}},
                                           Codec{"ZstdLevel19OneThread",
                                                 {Compression::Zstd, 19, 1}},
                                           Codec{"ZstdFast", {Compression::Zstd, -5, 2}},
                                           Codec{"Gzip", {Compression::Gzip, std::nullopt, 0}},
                                           Codec{"GzipLevel1", {Compression::Gzip, 1, 0}},
                                           Codec{"None", {Compression::None, std::nullopt, 0}}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(WriterTest, ReportsProgressUpToThePayloadsSize) {
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  WriteOptions options;
  options.progress = [&](uint64_t written, uint64_t total) { calls.emplace_back(written, total); };
  write_sample(options);
  uint64_t payload = 0;
  for (const auto& [path, content] : contents_) payload += content.size();
  ASSERT_FALSE(calls.empty());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, payload);
    if (i > 0) {
      EXPECT_GT(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_EQ(calls.back().first, payload);
}

TEST_F(WriterTest, ArchivesOnlyTheGivenLengthOfASparseFile) {
  // A ZooKeeper log is preallocated with zeros in 64 MiB steps.
  const fs::path log = dir_.path() / "log.1";
  const std::string records = random_bytes(4096, 7);
  write_file(log, records);
  fs::resize_file(log, 64 << 20);
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path(), {Compression::None, std::nullopt, 0});
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file(kLog, log, {.length = records.size()}));
  auto manifest = writer->commit(sample_manifest());
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->files[0].size, records.size());
  EXPECT_EQ(manifest->files[0].sha256, sha256_hex(records));
  EXPECT_LT(fs::file_size(final_path()), 64u << 10);

  const fs::path staging = dir_.path() / "staging";
  fs::create_directory(staging);
  auto extracted = ArchiveReader::open(final_path())->extract_verified(staging);
  ASSERT_TRUE(extracted) << extracted.error().message;
  EXPECT_EQ(read_file(staging / kLog), records);
}

TEST_F(WriterTest, RefusesALengthBeyondTheFile) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  Status added = writer->add_file(kEpoch, source(kEpoch), {.length = 3});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, ErrorKind::Io);
  EXPECT_EQ(added.error().message,
            source(kEpoch).string() + " has 2 bytes, fewer than the 3 to archive");
}

TEST_F(WriterTest, TakesTheCallersDigestAndStillChecksIt) {
  fs::create_directories(final_path().parent_path());
  {
    auto writer = ArchiveWriter::open(final_path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->add_file(kEpoch, source(kEpoch), {.sha256 = sha256_hex("1\n")}));
    auto manifest = writer->commit(sample_manifest());
    ASSERT_TRUE(manifest) << manifest.error().message;
    EXPECT_EQ(manifest->files[0].sha256, sha256_hex("1\n"));
  }
  fs::remove(final_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file(kEpoch, source(kEpoch), {.sha256 = sha256_hex("2\n")}));
  auto manifest = writer->commit(sample_manifest());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(manifest.error().message, source(kEpoch).string() +
                                          " no longer matches the sha256 recorded for " + kEpoch +
                                          " (it changed while being archived)");
  EXPECT_TRUE(out_dir().empty());
}

TEST_F(WriterTest, AFileChangedAfterHashingFailsTheCommitAndLeavesNothing) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  for (const auto& [path, content] : contents_) ASSERT_TRUE(writer->add_file(path, source(path)));
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst.part"});
  write_file(source(kSnapshot), random_bytes(300'000, 2));  // same size, other bytes
  auto manifest = writer->commit(sample_manifest());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Corrupt);
  EXPECT_TRUE(out_dir().empty());
}

TEST_F(WriterTest, AFileThatShrankFailsTheCommitAndLeavesNothing) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file(kSnapshot, source(kSnapshot)));
  fs::resize_file(source(kSnapshot), 1000);
  auto manifest = writer->commit(sample_manifest());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Io);
  EXPECT_TRUE(out_dir().empty());
}

TEST_F(WriterTest, TheProofReadsTheWrittenFileBeforeItHasItsName) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  for (const auto& [path, content] : contents_) ASSERT_TRUE(writer->add_file(path, source(path)));
  size_t proved_files = 0;
  auto manifest = writer->commit(sample_manifest(), [&](const fs::path& written, const Manifest&) {
    EXPECT_FALSE(fs::exists(final_path()));
    auto reader = ArchiveReader::open(written);
    if (!reader) return Status(reader.error());
    auto checked = reader->check();
    if (!checked) return Status(checked.error());
    proved_files = checked->files.size();
    return Status(Ok{});
  });
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(proved_files, contents_.size());
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
}

// The directory's owner swaps the .part while it is proven: the proof still
// reads the bytes written, and the planted file is never published.
TEST_F(WriterTest, APartSwappedBeforeItsRenameIsNeverPublished) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  for (const auto& [path, content] : contents_) ASSERT_TRUE(writer->add_file(path, source(path)));
  const fs::path moved = dir_.path() / "moved-away";
  auto manifest = writer->commit(sample_manifest(), [&](const fs::path& written, const Manifest&) {
    fs::rename(part_path(), moved);
    write_file(part_path(), "planted");
    auto reader = ArchiveReader::open(written);
    if (!reader) return Status(reader.error());
    auto checked = reader->check();
    return checked ? Status(Ok{}) : Status(checked.error());
  });
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Unsafe);
  EXPECT_EQ(manifest.error().message, part_path().string() +
                                          " was replaced by another file while it was written; "
                                          "nothing was published");
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst.part"});
  EXPECT_EQ(read_file(part_path()), "planted");
  EXPECT_TRUE(ArchiveReader::open(moved));
}

TEST_F(WriterTest, AnArchiveThatFailsItsProofIsNeverPublished) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  for (const auto& [path, content] : contents_) ASSERT_TRUE(writer->add_file(path, source(path)));
  auto manifest = writer->commit(sample_manifest(), [](const fs::path&, const Manifest&) {
    return Status(make_error(ErrorKind::Corrupt, "replay stops at 0x100000003"));
  });
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(manifest.error().message,
            "the archive just written does not verify (replay stops at 0x100000003); it was not "
            "published as " + final_path().string());
  EXPECT_TRUE(out_dir().empty());
}

TEST_F(WriterTest, DestroyingTheWriterBeforeCommitLeavesNothing) {
  fs::create_directories(final_path().parent_path());
  {
    auto writer = ArchiveWriter::open(final_path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->add_file(kSnapshot, source(kSnapshot)));
    EXPECT_TRUE(fs::exists(part_path()));
  }
  EXPECT_TRUE(out_dir().empty());
}

TEST_F(WriterTest, AProcessKilledWhileWritingLeavesNoFinalFileAndTheNextRunSucceeds) {
  fs::create_directories(final_path().parent_path());
  const std::string big = random_bytes(64 << 20, 3);
  write_file(source(kSnapshot), big);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto writer = ArchiveWriter::open(final_path(), {Compression::None, std::nullopt, 0});
    if (!writer || !writer->add_file(kSnapshot, source(kSnapshot))) _exit(2);
    (void)writer->commit(sample_manifest());
    _exit(0);
  }
  // Kill it once the archive has started to grow: mid-write.
  bool growing = false;
  for (int i = 0; i < 20'000 && !growing; ++i) {
    std::error_code ignored;
    growing = fs::exists(part_path()) && fs::file_size(part_path(), ignored) > 0;
    if (!growing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(growing);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst.part"});

  contents_[0].second = big;
  write_sample({Compression::None, std::nullopt, 0});
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
}

TEST_F(WriterTest, ALeftoverPartIsReplacedNeverAdopted) {
  fs::create_directories(final_path().parent_path());
  write_file(part_path(), "a crashed run's bytes");
  fs::permissions(part_path(), fs::perms(0666));
  write_sample();
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
  EXPECT_EQ(fs::status(final_path()).permissions(), fs::perms(0600)) << "not the leftover's mode";
}

// The backup directory's owner (or anyone who can write there) plants the .part: a file of its
// own, world-writable, or a link. zk-tool refuses it, touches nothing, publishes nothing.
TEST_F(WriterTest, APartSomeoneElsePlantedIsRefusedAndLeftAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: plays the directory's owner as nobody";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  fs::permissions(dir_.path(), fs::perms(0755));
  fs::create_directories(final_path().parent_path());
  ASSERT_EQ(::chown(final_path().parent_path().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  const fs::path secret = dir_.path() / "root-only";
  write_file(secret, "root's secret");
  fs::permissions(secret, fs::perms(0600));
  const std::string as_nobody = "cd '" + final_path().parent_path().string() +
                                "' && /usr/sbin/runuser -u nobody -- sh -c ";
  for (const std::string& plant :
       {std::string("'umask 0; echo planted > backup.tar.zst.part'"),
        "'ln -s " + secret.string() + " backup.tar.zst.part'"}) {
    fs::remove(part_path());
    ASSERT_EQ(std::system((as_nobody + plant).c_str()), 0) << plant;
    auto writer = ArchiveWriter::open(final_path());
    ASSERT_FALSE(writer) << plant;
    EXPECT_EQ(writer.error().kind, ErrorKind::Unsafe) << writer.error().message;
    EXPECT_NE(writer.error().message.find("is not a file zk-tool left (owner uid " +
                                          std::to_string(nobody->pw_uid)),
              std::string::npos)
        << writer.error().message;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(final_path().parent_path())) {
      names.push_back(e.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"backup.tar.zst.part"}) << "nothing published";
    EXPECT_EQ(read_file(secret), "root's secret");
  }
  EXPECT_EQ(fs::read_symlink(part_path()), secret);
}

TEST_F(WriterTest, NeverOverwritesAnExistingArchive) {
  write_file(final_path(), "an older backup");
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().kind, ErrorKind::Unsafe);
  EXPECT_EQ(writer.error().message,
            final_path().string() + " already exists; zk-tool never overwrites an archive");
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
}

TEST_F(WriterTest, AnArchiveThatAppearsDuringTheWriteIsNotReplaced) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file(kEpoch, source(kEpoch)));
  write_file(final_path(), "written by someone else");
  auto manifest = writer->commit(sample_manifest());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().kind, ErrorKind::Unsafe);
  EXPECT_EQ(read_file(final_path()), "written by someone else");
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
}

TEST_F(WriterTest, ASecondWriterOfTheSameArchiveIsLockedOut) {
  fs::create_directories(final_path().parent_path());
  auto first = ArchiveWriter::open(final_path());
  ASSERT_TRUE(first);
  auto second = ArchiveWriter::open(final_path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::Locked);
  EXPECT_EQ(second.error().message, part_path().string() + " is being written by another run");
  ASSERT_TRUE(first->add_file(kEpoch, source(kEpoch)));
  ASSERT_TRUE(first->commit(sample_manifest()));
  EXPECT_EQ(out_dir(), std::vector<std::string>{"backup.tar.zst"});
}

TEST_F(WriterTest, RefusesUnsupportedCompressionOptionsBeforeReadingAnything) {
  fs::create_directories(final_path().parent_path());
  for (const WriteOptions& options :
       {WriteOptions{Compression::Zstd, 99, 0}, WriteOptions{Compression::Gzip, 10, 0}}) {
    auto writer = ArchiveWriter::open(final_path(), options);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().kind, ErrorKind::Usage);
    EXPECT_TRUE(out_dir().empty());
  }
}

TEST_F(WriterTest, RefusesToCreateInAMissingDirectory) {
  auto writer = ArchiveWriter::open(dir_.path() / "missing" / "backup.tar.zst");
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().kind, ErrorKind::Io);
}

TEST_F(WriterTest, AddFileRefusalsRecordNothing) {
  fs::create_directories(final_path().parent_path());
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file(kEpoch, source(kEpoch)));

  Status unsafe = writer->add_file("zookeeper/../etc", source(kEpoch));
  ASSERT_FALSE(unsafe);
  EXPECT_EQ(unsafe.error().kind, ErrorKind::Internal);
  EXPECT_EQ(unsafe.error().message,
            "archive path zookeeper/../etc: the path has a \"..\" component");
  Status twice = writer->add_file(kEpoch, source(kLog));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, std::string("archive path ") + kEpoch + " added twice");
  Status missing = writer->add_file(kLog, dir_.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  Status directory = writer->add_file(kLog, dir_.path() / "src");
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().message, (dir_.path() / "src").string() + " is not a regular file");
  Status bad_digest = writer->add_file(kLog, source(kLog), {.sha256 = "abc"});
  ASSERT_FALSE(bad_digest);
  EXPECT_EQ(bad_digest.error().kind, ErrorKind::Internal);

  auto manifest = writer->commit(sample_manifest());
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_EQ(manifest->files.size(), 1u);
  EXPECT_EQ(manifest->files[0].path, kEpoch);
}

TEST_F(WriterTest, CommitRefusesAnInvalidManifestAndLeavesNothing) {
  fs::create_directories(final_path().parent_path());
  {
    auto writer = ArchiveWriter::open(final_path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->add_file("replicated_log/CURRENT", source(kEpoch)));
    auto manifest = writer->commit(sample_manifest());  // a zookeeper manifest
    ASSERT_FALSE(manifest);
    EXPECT_EQ(manifest.error().kind, ErrorKind::Internal);
    EXPECT_EQ(manifest.error().message,
              "commit: the manifest to write is invalid: zk-tool-manifest.json: "
              "\"files[0].path\" \"replicated_log/CURRENT\" is outside zookeeper/, the root of "
              "a zookeeper archive");
    EXPECT_TRUE(out_dir().empty());
    EXPECT_EQ(writer->commit(sample_manifest()).error().message, "commit on a finished writer");
  }
  auto writer = ArchiveWriter::open(final_path());
  ASSERT_TRUE(writer);
  Manifest listed = sample_manifest();
  listed.files.push_back({kEpoch, 2, sha256_hex("1\n")});
  auto manifest = writer->commit(listed);
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().message, "commit: the manifest's files must be empty");
  EXPECT_TRUE(out_dir().empty());
}

}  // namespace
}  // namespace zktool::archive
