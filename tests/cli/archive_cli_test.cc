// `zk-tool verify` on archives whose snapshots lie about themselves: a
// snapshot that does not load, and compressed snapshots that claim or make
// far more bytes than they hold. Memory must follow the bytes the input
// proves, and an archive zk-tool wrote must not fall back to an older
// snapshot the way ZooKeeper does with its own directory. Then `restore`'s
// refusals that come before any service is asked, and encrypted archives
// through verify, inspect, list and restore: with their key, without it,
// with another, and damaged.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "../snapshot/fixtures.h"
#include "archive/archive_writer.h"
#include "archive/encryption.h"
#include "snapshot/compression.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/zookeeper_state.h"
#include "support/zk_tool.h"
#include "ops/zk_archive.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using testing::ScratchDir;
using testing::write_file;
using CliRun = testsupport::CapturedRun;

// Every file under `dir` with its bytes.
std::map<std::string, std::string> contents_of(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir)] = testing::read_file(e.path());
  }
  return files;
}

using testsupport::zk_tool;

// A snappy-java stream of one block whose length prefix claims 4 GiB: 29
// bytes in all.
std::string snappy_claiming_4_gib() {
  std::string s("\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
  const std::string block("\xff\xff\xff\xff\x0f\x00\x61\x62\x63", 9);  // varint 4 GiB - 1, then junk
  s += std::string("\0\0\0\x09", 4) + block;
  return s;
}

class ArchiveCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_.copy_zk38(); }

  // The zk38 restore set (its newest snapshot, the logs it needs, epochs)
  // plus, unless `extra_name` is empty, `extra_bytes` written into the
  // snapshot directory under that name.
  // With a manifest: written by the real ArchiveWriter, the summary that of
  // the state without `extra`. Without: a dcos-zk style gzip tar.
  fs::path archive_with(const std::string& extra_name, const std::string& extra_bytes,
                        bool with_manifest,
                        const std::optional<archive::ArchiveKey>& key = std::nullopt) {
    auto state = zs::load_state(*zs::resolve_data_dirs(dir_.path() / "data", dir_.path() / "logs"));
    EXPECT_TRUE(state) << state.error().message;
    std::vector<ArchivedFile> files = files_to_archive(*state);
    if (!extra_name.empty()) {
      const fs::path extra = dir_.path() / "extra" / extra_name;
      write_file(extra, extra_bytes);
      files.push_back({extra, std::string(kArchivedSnapDir) + "/" + extra_name, std::nullopt});
    }
    const fs::path out = dir_.path() / (with_manifest ? "zk-tool.tar.zst" : "dcos-zk.tar.gz");
    if (with_manifest) {
      archive::WriteOptions options;
      options.key = key;
      auto writer = archive::ArchiveWriter::open(out, options);
      EXPECT_TRUE(writer);
      for (const ArchivedFile& f : files) {
        archive::AddOptions add;
        add.length = f.length;
        EXPECT_TRUE(writer->add_file(f.archive_path, f.source, add));
      }
      archive::Manifest manifest;
      manifest.host = "master-1";
      manifest.tool_version = "test";
      manifest.source.paths = {(dir_.path() / "data").string()};
      manifest.summary = summarize(*state);
      auto written = writer->commit(std::move(manifest));
      EXPECT_TRUE(written) << written.error().message;
    } else {
      const fs::path root = dir_.path() / "dcos";
      for (const ArchivedFile& f : files) {
        fs::create_directories((root / f.archive_path).parent_path());
        fs::copy_file(f.source, root / f.archive_path);
      }
      EXPECT_EQ(std::system(("tar -czf " + out.string() + " -C " + root.string() + " ./zookeeper")
                                .c_str()),
                0);
    }
    return out;
  }

  fs::path staging() const {
    fs::create_directories(dir_.path() / "staging");
    return dir_.path() / "staging";
  }

  ScratchDir dir_;
};

TEST_F(ArchiveCli, ASnapshotThatDoesNotLoadFailsAnArchiveWithAManifest) {
  fs::path archive = archive_with("snapshot.200.snappy", snappy_claiming_4_gib(), true);
  CliRun run = zk_tool({"verify", archive.string(), "--staging-dir", staging().string()});
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_NE(run.err.find("snapshot snapshot.200.snappy does not load: "), std::string::npos)
      << run.err;
  EXPECT_EQ(run.out.find("OK"), std::string::npos) << run.out;
}

TEST_F(ArchiveCli, ADcosZkArchiveFallsBackAsZooKeeperWouldAndNamesTheSkippedSnapshot) {
  fs::path archive = archive_with("snapshot.200.snappy", snappy_claiming_4_gib(), false);
  CliRun run = zk_tool({"verify", archive.string(), "--staging-dir", staging().string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("snapshot zxid    0x103"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("skipped snapshot snapshot.200.snappy: "), std::string::npos) << run.out;
}

// `size` zero bytes as one gzip stream, compressed a block at a time so that
// the test itself never holds them.
std::string gzip_of_zeros(uint64_t size) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out, chunk(1 << 16, '\0');
  for (uint64_t left = size; left > 0 || zs.avail_in > 0;) {
    if (zs.avail_in == 0) {
      const uint64_t n = std::min<uint64_t>(left, zeros.size());
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      zs.avail_in = static_cast<uInt>(n);
      left -= n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    deflate(&zs, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  }
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = deflate(&zs, Z_FINISH);
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  }
  deflateEnd(&zs);
  return out;
}

// 1 GiB of zeros in a 1 MiB gzip snapshot (and a few KiB of archive):
// refused at 64 times its size, with zk-tool's peak memory (the sanitizers'
// own overhead included) well under the 1.5 GiB a full decode would take.
TEST_F(ArchiveCli, AGzipBombIsRefusedAtItsExpansionLimitWithMemoryToMatch) {
  const std::string bomb = gzip_of_zeros(uint64_t{1} << 30);
  ASSERT_LT(bomb.size(), 2u << 20);
  fs::path archive = archive_with("snapshot.200.gz", bomb, true);
  EXPECT_LT(fs::file_size(archive), 64u << 10);

  CliRun run = zk_tool({"verify", archive.string(), "--staging-dir", staging().string()});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  const std::string limit = std::to_string(zs::decompression_limit(bomb.size(), {}));
  EXPECT_NE(run.err.find("snapshot.200.gz: decompresses to more than " + limit + " bytes"),
            std::string::npos)
      << run.err;
  rusage children{};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &children), 0);
  EXPECT_LT(children.ru_maxrss, 800L << 10) << "KiB at the peak, for a snapshot of 1 GiB";
}

// An honest snapshot that shrinks more than the default allows: refused,
// then read in full once --max-expansion allows it.
TEST_F(ArchiveCli, MaxExpansionAdmitsWhatTheDefaultRefuses) {
  const std::string zeros = gzip_of_zeros(uint64_t{128} << 20);
  fs::path archive = archive_with("snapshot.200.gz", zeros, true);
  CliRun refused = zk_tool({"verify", archive.string(), "--staging-dir", staging().string()});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("decompresses to more than 67108864 bytes"), std::string::npos)
      << refused.err;
  // Read in full, it fails as what it is: zeros, not a snapshot.
  CliRun allowed = zk_tool({"verify", archive.string(), "--staging-dir", staging().string(),
                            "--max-expansion", "2000"});
  EXPECT_EQ(allowed.exit_code, 3) << allowed.err;
  EXPECT_EQ(allowed.err.find("decompresses to more than"), std::string::npos) << allowed.err;
  EXPECT_NE(allowed.err.find("snapshot snapshot.200.gz does not load"), std::string::npos)
      << allowed.err;
  CliRun bad_flag = zk_tool({"verify", archive.string(), "--max-expansion", "0"});
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.err;
}

// A version-2 linked to another disk: a restore would move the link aside and
// put a real directory in its place, off that disk. Refused before anything
// is staged or any service asked; the link and its data stay as they were.
TEST_F(ArchiveCli, RestoreRefusesALinkedVersion2AndNamesWhatToGiveInstead) {
  const fs::path archive = archive_with("", "", true);
  const fs::path data_dir = dir_.path() / "master";
  fs::create_directories(data_dir);
  fs::create_symlink(dir_.path() / "data" / "version-2", data_dir / "version-2");
  const auto before = contents_of(dir_.path() / "data");
  CliRun run = zk_tool({"restore", archive.string(), "--data-dir", data_dir.string(),
                        "--data-log-dir", (dir_.path() / "logs").string(), "--unit",
                        "zk-absent.service", "--systemd-address", "unix:path=/nonexistent",
                        "--exhibitor-url", "http://127.0.0.1:1/exhibitor/v1/cluster/status"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_EQ(run.err, "zk-tool restore: " + (data_dir / "version-2").string() +
                         " is a symbolic link to " + (dir_.path() / "data" / "version-2").string() +
                         ": restore would replace it with a directory in " + data_dir.string() +
                         "; give the directory it points into (--data-dir, --data-log-dir) "
                         "instead; nothing was changed\n");
  EXPECT_TRUE(fs::is_symlink(data_dir / "version-2"));
  EXPECT_EQ(contents_of(dir_.path() / "data"), before);
  CliRun rollback = zk_tool({"rollback", "--data-dir", data_dir.string(), "--data-log-dir",
                             (dir_.path() / "logs").string(), "--unit", "zk-absent.service",
                             "--systemd-address", "unix:path=/nonexistent", "--exhibitor-url",
                             "http://127.0.0.1:1/exhibitor/v1/cluster/status"});
  EXPECT_EQ(rollback.exit_code, 7) << rollback.err;
  EXPECT_TRUE(fs::is_symlink(data_dir / "version-2"));
}

// The data directory's owner (nobody) replaces the copy a restore moved
// aside with a link to a directory only root may write: rollback refuses
// before it reads, writes or stops anything.
TEST_F(ArchiveCli, RollbackRefusesAPreRestoreCopyThatIsALink) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: plays the directory's owner as nobody";
  fs::permissions(dir_.path(), fs::perms(0755));
  const fs::path data_dir = dir_.path() / "master", target = dir_.path() / "root-only";
  fs::create_directories(data_dir);
  fs::copy(dir_.path() / "data" / "version-2", data_dir / "version-2");
  fs::create_directories(target);
  fs::permissions(target, fs::perms(0700));
  ASSERT_EQ(std::system(("chown nobody: " + data_dir.string()).c_str()), 0);
  const fs::path aside = data_dir / "version-2.pre-restore-20261202T000000Z";
  ASSERT_EQ(std::system(("cd " + data_dir.string() + " && /usr/sbin/runuser -u nobody -- ln -s " +
                         target.string() + " " + aside.filename().string())
                            .c_str()),
            0);
  CliRun run = zk_tool({"rollback", "--data-dir", data_dir.string(), "--unit", "zk-absent.service",
                        "--systemd-address", "unix:path=/nonexistent", "--exhibitor-url",
                        "http://127.0.0.1:1/exhibitor/v1/cluster/status"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_EQ(run.err, "zk-tool rollback: " + aside.string() +
                         " is a symbolic link, not the data a restore moved aside; nothing was "
                         "changed\n");
  EXPECT_TRUE(fs::is_empty(target)) << "no epoch file written through the link";
  EXPECT_TRUE(fs::is_symlink(aside));
}

class EncryptedArchiveCli : public ArchiveCli {
 protected:
  void SetUp() override {
    ArchiveCli::SetUp();
    key_file_ = dir_.path() / "archive.key";
    CliRun keygen = zk_tool({"keygen", key_file_.string()});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    auto key = archive::ArchiveKey::read_file(key_file_);
    ASSERT_TRUE(key);
    archive_ = archive_with("", "", true, *key);
  }

  fs::path key_file_;
  fs::path archive_;
};

TEST_F(EncryptedArchiveCli, VerifyAndInspectProveItWithItsKey) {
  for (const char* command : {"verify", "inspect"}) {
    std::vector<std::string> args{command, archive_.string(), "--encrypt-key-file",
                                  key_file_.string()};
    if (std::string(command) == "verify") args.insert(args.end(), {"--staging-dir", staging().string()});
    CliRun run = zk_tool(args);
    EXPECT_EQ(run.exit_code, 0) << command << ": " << run.err;
    EXPECT_NE(run.out.find("last zxid"), std::string::npos) << run.out;
  }
  EXPECT_TRUE(fs::is_empty(staging())) << "the scratch copy is removed";
}

TEST_F(EncryptedArchiveCli, WithoutItsKeyOrWithAnotherEveryReaderRefusesWithExit11) {
  const fs::path other = dir_.path() / "other.key";
  ASSERT_EQ(zk_tool({"keygen", other.string()}).exit_code, 0);
  for (const std::vector<std::string>& key_args :
       {std::vector<std::string>{}, std::vector<std::string>{"--encrypt-key-file", other.string()}}) {
    for (const char* command : {"verify", "inspect", "restore"}) {
      std::vector<std::string> args{command, archive_.string()};
      args.insert(args.end(), key_args.begin(), key_args.end());
      if (std::string(command) == "restore") {
        // A dry run with the ensemble out of sight still proves the archive first.
        args.insert(args.end(), {"--data-dir", (dir_.path() / "data").string(), "--data-log-dir",
                                 (dir_.path() / "logs").string(), "--dry-run", "--exhibitor-url",
                                 "http://127.0.0.1:1/exhibitor/v1/cluster/status"});
      }
      CliRun run = zk_tool(args);
      EXPECT_EQ(run.exit_code, 11) << command << ": " << run.err;
      EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
      EXPECT_NE(run.err.find(archive_.string()), std::string::npos) << run.err;
    }
  }
}

TEST_F(EncryptedArchiveCli, AFlippedByteIsCorruptAndNothingIsLeftStaged) {
  std::string bytes = testing::read_file(archive_);
  bytes[bytes.size() / 2] ^= 0x10;
  write_file(archive_, bytes);
  CliRun run = zk_tool({"verify", archive_.string(), "--encrypt-key-file", key_file_.string(),
                        "--staging-dir", staging().string()});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("offset"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::is_empty(staging()));
}

TEST_F(EncryptedArchiveCli, ListShowsThemByTimeAndSizeWithoutTheKeyAndProvesThemWithIt) {
  const fs::path backups = dir_.path() / "backups";
  fs::create_directory(backups);
  const std::string name = "zk-backup-2026-11-21-20-30-00.tar.zst.enc";
  fs::rename(archive_, backups / name);
  CliRun keyless = zk_tool({"list", "--dir", backups.string(), "--json"});
  ASSERT_EQ(keyless.exit_code, 0) << keyless.err;
  const auto listed = nlohmann::json::parse(keyless.out);
  ASSERT_EQ(listed["files"].size(), 1u);
  const auto& f = listed["files"][0];
  EXPECT_EQ(f["name"], name);
  EXPECT_EQ(f["time"], "2026-11-21T20:30:00Z");
  EXPECT_EQ(f["retention_managed"], true);
  EXPECT_EQ(f["intact"], true);
  EXPECT_FALSE(f.contains("last_zxid")) << "nothing inside is shown without the key";
  CliRun unproven = zk_tool({"list", "--dir", backups.string(), "--verify"});
  EXPECT_EQ(unproven.exit_code, 3) << "--verify cannot prove it without the key";
  CliRun proven = zk_tool({"list", "--dir", backups.string(), "--verify", "--json",
                           "--encrypt-key-file", key_file_.string(), "--staging-dir",
                           staging().string()});
  ASSERT_EQ(proven.exit_code, 0) << proven.err;
  const auto shown = nlohmann::json::parse(proven.out)["files"][0];
  EXPECT_EQ(shown["verified"], true);
  EXPECT_TRUE(shown.contains("last_zxid"));
}

}  // namespace
}  // namespace zktool
