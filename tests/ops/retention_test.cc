#include "ops/retention.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <set>

#include "../support/files.h"
#include "archive/archive_writer.h"
#include "util/duration.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::hours;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

const sys_seconds kStart = sys_days{std::chrono::year{2026} / 11 / 21} + 20h + 30min;

std::string name_at(sys_seconds t) { return backup_file_name(t, archive::Compression::Zstd); }

constexpr std::string_view kPayload = "snapshot bytes";

// A real zk-tool archive of `kind` at `path`, as backup writes one.
void write_backup(const fs::path& path, archive::Kind kind = archive::Kind::ZooKeeper,
                  archive::Compression compression = archive::Compression::Zstd,
                  const std::optional<archive::ArchiveKey>& key = std::nullopt) {
  fs::path payload = path.parent_path() / ".payload";
  write_file(payload, std::string(kPayload));
  archive::WriteOptions options;
  options.compression = compression;
  options.key = key;
  auto writer = archive::ArchiveWriter::open(path, options);
  ASSERT_TRUE(writer) << writer.error().message;
  archive::Manifest m;
  m.created = kStart;
  m.host = "master-1";
  m.tool_version = "test";
  m.source = {{"/var/lib/zookeeper"}, std::nullopt};
  if (kind == archive::Kind::ZooKeeper) {
    ASSERT_TRUE(writer->add_file("zookeeper/snapshot/version-2/snapshot.1", payload));
    m.summary = archive::ZooKeeperSummary{1, 2, 3, 0, 0, std::nullopt, ""};
  } else {
    ASSERT_TRUE(writer->add_file("replicated_log/000001.ldb", payload));
    m.summary = archive::ReplicatedLogSummary{0, 1, 1};
  }
  auto committed = writer->commit(m);
  ASSERT_TRUE(committed) << committed.error().message;
  fs::remove(payload);
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

TEST(BackupFileName, IsTheUtcTimeWithTheCompressionsExtension) {
  EXPECT_EQ(name_at(kStart), "zk-backup-2026-11-21-20-30-00.tar.zst");
  EXPECT_EQ(backup_file_name(kStart + 5s, archive::Compression::Gzip),
            "zk-backup-2026-11-21-20-30-05.tar.gz");
  EXPECT_EQ(backup_file_name(kStart, archive::Compression::None),
            "zk-backup-2026-11-21-20-30-00.tar");
  for (auto c :
       {archive::Compression::Zstd, archive::Compression::Gzip, archive::Compression::None}) {
    EXPECT_EQ(parse_backup_file_name(backup_file_name(kStart + 59s, c)), kStart + 59s);
  }
}

TEST(BackupFileName, OnlyTheExactPatternParses) {
  for (const char* name :
       {"zk-backup-2026-11-21-20-30-00.tar.zst.part", "zk-backup-2026-11-21-20-30-00.tar.zst.bak",
        "zk-backup-2026-11-21-20-30-00.zip", "zk-backup-2026-11-21-20-30-00",
        "xzk-backup-2026-11-21-20-30-00.tar", "zk-backup-2026-11-21-20-30.tar",
        "zk-backup-2026-13-01-00-00-00.tar", "zk-backup-2026-02-30-00-00-00.tar",
        "zk-backup-2026-11-21-24-00-00.tar", "zk-backup-2026-11-21-20-60-00.tar",
        "zk-backup-2026-11-21T20-30-00.tar", "zk-backup-2026-1a-21-20-30-00.tar",
        "zk-backup-+026-11-21-20-30-00.tar"}) {
    EXPECT_FALSE(parse_backup_file_name(name)) << name;
  }
}

TEST(UtcTime, RoundTripsAndRefusesOtherForms) {
  EXPECT_EQ(format_utc(kStart), "2026-11-21T20:30:00Z");
  EXPECT_EQ(parse_utc("2026-11-21T20:30:00Z"), kStart);
  EXPECT_FALSE(parse_utc("2026-11-21T20:30:00+00:00"));
  EXPECT_FALSE(parse_utc("2026-11-21 20:30:00Z"));
  EXPECT_FALSE(parse_utc("2026-11-21T20:30:00.5Z"));
  EXPECT_FALSE(parse_utc("2026-02-30T20:30:00Z"));
  EXPECT_FALSE(parse_utc("2026-11-21T24:00:00Z"));
}

TEST(UtcTime, AnyFourDigitYearPrintsBackAsItWasRead) {
  // Outside 1678-2262 system_clock's nanoseconds would overflow.
  for (const char* text : {"0985-03-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"}) {
    auto time = parse_utc(text);
    ASSERT_TRUE(time) << text;
    EXPECT_EQ(format_utc(*time), text);
  }
  EXPECT_EQ(format_utc_time(kStart, "dddd-dd-dd-dd-dd-dd"), "2026-11-21-20-30-00");
  EXPECT_EQ(parse_utc_time("2026-11-21-20-30-00", "dddd-dd-dd-dd-dd-dd"), kStart);
}

TEST(UtcTime, ZktoolNowReplacesTheClockForTests) {
  ASSERT_EQ(::setenv("ZKTOOL_NOW", "2030-01-02T03:04:05Z", 1), 0);
  auto now = now_utc();
  ASSERT_TRUE(now);
  EXPECT_EQ(format_utc(*now), "2030-01-02T03:04:05Z");
  ASSERT_EQ(::setenv("ZKTOOL_NOW", "yesterday", 1), 0);
  auto bad = now_utc();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Usage);
  EXPECT_NE(bad.error().message.find("yesterday"), std::string::npos);
  ASSERT_EQ(::unsetenv("ZKTOOL_NOW"), 0);
  auto real = now_utc();
  ASSERT_TRUE(real);
  EXPECT_GT(*real, kStart - 24h * 365);  // the machine's clock, not a leftover
}

TEST(Duration, KeepWithinTakesHoursDaysAndWeeks) {
  EXPECT_EQ(parse_duration("36h"), std::chrono::milliseconds(36h));
  EXPECT_EQ(parse_duration("7d"), std::chrono::milliseconds(24h * 7));
  EXPECT_EQ(parse_duration("2w"), std::chrono::milliseconds(24h * 14));
  EXPECT_EQ(parse_duration("90"), std::chrono::milliseconds(90s));
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  for (const char* bad : {"", "0h", "-1d", "3 days", "7D", "1y", "h", "99999999999999999w"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

// What each policy must keep among backups taken every hour up to `now`,
// computed from the policy's definition rather than by decide_retention.
bool expected_kept(sys_seconds time, sys_seconds now, const RetentionPolicy& p) {
  const auto age = now - time;
  if (age == 0s) return true;  // the newest
  return (p.keep_last && age < std::chrono::hours(*p.keep_last)) ||
         (p.keep_within && age <= *p.keep_within);
}

void simulate_hourly(const RetentionPolicy& policy, size_t expected_steady_count) {
  std::vector<TimedBackup> present;
  for (int run = 0; run < 24 * 14; ++run) {
    const sys_seconds now = kStart + std::chrono::hours(run);
    present.push_back({name_at(now), now});
    RetentionDecision d = decide_retention(present, policy, now, name_at(now));
    ASSERT_FALSE(d.keep.empty());
    EXPECT_EQ(d.keep.front(), name_at(now)) << "run " << run;
    std::vector<TimedBackup> kept;
    for (const TimedBackup& b : present) {
      const bool keep = std::find(d.keep.begin(), d.keep.end(), b.name) != d.keep.end();
      const bool remove = std::find(d.remove.begin(), d.remove.end(), b.name) != d.remove.end();
      ASSERT_NE(keep, remove) << b.name << " must be in exactly one list";
      EXPECT_EQ(keep, expected_kept(b.time, now, policy)) << b.name << " at run " << run;
      if (keep) kept.push_back(b);
    }
    present = std::move(kept);
  }
  EXPECT_EQ(present.size(), expected_steady_count);
}

TEST(DecideRetention, KeepLastKeepsExactlyTheNNewestOverTwoWeeksOfHourlyRuns) {
  RetentionPolicy p;
  p.keep_last = 5;
  simulate_hourly(p, 5);
}

TEST(DecideRetention, KeepWithinKeepsExactlyThoseInTheWindow) {
  RetentionPolicy p;
  p.keep_within = 36h;
  simulate_hourly(p, 37);  // ages 0h to 36h inclusive
}

TEST(DecideRetention, BothPoliciesKeepWhatEitherKeeps) {
  RetentionPolicy p;
  p.keep_last = 48;
  p.keep_within = 36h;
  simulate_hourly(p, 48);
  p.keep_last = 3;
  simulate_hourly(p, 37);
}

TEST(DecideRetention, NewestIsKeptEvenWhenEveryBackupIsOutsideTheWindow) {
  RetentionPolicy p;
  p.keep_within = 1h;
  std::vector<TimedBackup> b{{name_at(kStart), kStart}, {name_at(kStart + 1h), kStart + 1h}};
  RetentionDecision d = decide_retention(b, p, kStart + 24h * 30);
  EXPECT_EQ(d.keep, std::vector<std::string>{name_at(kStart + 1h)});
  EXPECT_EQ(d.remove, std::vector<std::string>{name_at(kStart)});
}

TEST(DecideRetention, TheBackupJustWrittenIsKeptWhenTheClockWentBack) {
  RetentionPolicy p;
  p.keep_last = 1;
  const sys_seconds later = kStart + 24h;  // written before the clock was set back
  std::vector<TimedBackup> b{
      {name_at(later), later}, {name_at(kStart - 1h), kStart - 1h}, {name_at(kStart), kStart}};
  RetentionDecision d = decide_retention(b, p, kStart, name_at(kStart));
  EXPECT_EQ(d.keep, (std::vector<std::string>{name_at(later), name_at(kStart)}));
  EXPECT_EQ(d.remove, std::vector<std::string>{name_at(kStart - 1h)});
}

TEST(DecideRetention, NoPolicyKeepsEverything) {
  std::vector<TimedBackup> b{{name_at(kStart - 24h * 400), kStart - 24h * 400},
                             {name_at(kStart), kStart}};
  RetentionDecision d = decide_retention(b, RetentionPolicy{}, kStart);
  EXPECT_EQ(d.keep.size(), 2u);
  EXPECT_TRUE(d.remove.empty());
}

// Files a backup directory may hold that retention must never delete, even
// though each is named like a backup it wrote and is long expired.
void plant_foreign_files(const fs::path& dir) {
  const sys_seconds old = kStart - 24h * 100;
  write_file(dir / backup_file_name(old, archive::Compression::Zstd), "not an archive at all");
  write_file(dir / "notes.tar.zst", "operator's file");
  write_file(dir / (name_at(old + 1s) + ".part"), "an interrupted backup");
  write_backup(dir / backup_file_name(old + 2s, archive::Compression::Gzip),
               archive::Kind::ReplicatedLog);
  write_backup(dir / "manual-backup.tar.zst");  // ours, but not named by --dir
  fs::create_directory(dir / name_at(old + 3s));
  write_backup(dir / "elsewhere.tar.zst");
  fs::create_symlink(dir / "elsewhere.tar.zst", dir / name_at(old + 4s));
  ASSERT_EQ(std::system(("tar -czf " +
                         (dir / backup_file_name(old + 5s, archive::Compression::Gzip)).string() +
                         " -C " + dir.string() + " notes.tar.zst")
                            .c_str()),
            0);  // a dcos-zk style archive: a tar without a manifest
}

TEST(ApplyRetention, HourlyRunsKeepExactlyThePolicysFilesAndNeverTouchForeignOnes) {
  TempDir dir;
  plant_foreign_files(dir.path());
  const std::set<std::string> foreign = names_in(dir.path());
  RetentionPolicy p;
  p.keep_last = 4;
  p.keep_within = 6h;
  std::set<std::string> expected;
  for (int run = 0; run < 30; ++run) {
    const sys_seconds now = kStart + std::chrono::hours(run);
    write_backup(dir.path() / name_at(now));
    auto report = apply_retention(dir.path(), p, now, name_at(now));
    ASSERT_TRUE(report) << report.error().message;
    expected.insert(name_at(now));
    std::erase_if(expected,
                  [&](const std::string& n) { return now - *parse_backup_file_name(n) > 6h; });
    std::set<std::string> all = foreign;
    all.insert(expected.begin(), expected.end());
    ASSERT_EQ(names_in(dir.path()), all) << "run " << run;
    EXPECT_EQ(std::set<std::string>(report->kept.begin(), report->kept.end()), expected);
    // The planted files named like ours are reported, not hidden.
    EXPECT_EQ(report->left_alone.size(), 5u);
  }
  EXPECT_EQ(expected.size(), 7u);
  EXPECT_EQ(read_file(dir.path() / "notes.tar.zst"), "operator's file");
}

std::string tar_name_at(sys_seconds t) { return backup_file_name(t, archive::Compression::None); }

// Bit rot, or a careless edit: one payload byte of an uncompressed backup
// changes, while its sealed manifest still reads as before.
void damage_payload(const fs::path& archive) {
  std::string bytes = read_file(archive);
  const size_t at = bytes.rfind(kPayload);
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 0x20;
  write_file(archive, bytes);
}

TEST(ApplyRetention, ADamagedBackupNeitherCountsNorCostsTheLastGoodOne) {
  TempDir dir;
  for (int hour : {19, 20, 21}) write_backup(dir.path() / tar_name_at(kStart + hours(hour)),
                                            archive::Kind::ZooKeeper, archive::Compression::None);
  damage_payload(dir.path() / tar_name_at(kStart + 21h));
  const sys_seconds now = kStart + 22h;
  write_backup(dir.path() / tar_name_at(now), archive::Kind::ZooKeeper,
               archive::Compression::None);
  RetentionPolicy p;
  p.keep_last = 2;
  auto report = apply_retention(dir.path(), p, now, tar_name_at(now));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->kept, (std::vector{tar_name_at(now), tar_name_at(kStart + 20h)}));
  EXPECT_EQ(report->removed, std::vector{tar_name_at(kStart + 19h)});
  ASSERT_EQ(report->left_alone.size(), 1u);
  const std::string& why = report->left_alone[0];
  EXPECT_TRUE(why.starts_with((dir.path() / tar_name_at(kStart + 21h)).string() +
                              ": a damaged backup: "))
      << why;
  EXPECT_NE(why.find("sha256"), std::string::npos) << why;
  EXPECT_EQ(names_in(dir.path()), (std::set{tar_name_at(kStart + 20h), tar_name_at(kStart + 21h),
                                            tar_name_at(now)}));
}

TEST(ApplyRetention, TheNewestGoodBackupIsKeptWhenEveryNewerOneIsDamaged) {
  TempDir dir;
  for (int hour : {19, 20, 21, 22}) write_backup(dir.path() / tar_name_at(kStart + hours(hour)),
                                                archive::Kind::ZooKeeper,
                                                archive::Compression::None);
  damage_payload(dir.path() / tar_name_at(kStart + 21h));
  damage_payload(dir.path() / tar_name_at(kStart + 22h));
  RetentionPolicy p;
  p.keep_last = 1;
  auto report = apply_retention(dir.path(), p, kStart + 23h, tar_name_at(kStart + 22h));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->kept, std::vector{tar_name_at(kStart + 20h)});
  EXPECT_EQ(report->removed, std::vector{tar_name_at(kStart + 19h)});
  EXPECT_EQ(report->left_alone.size(), 2u);
}

TEST(ApplyRetention, NoPolicyDeletesNothing) {
  TempDir dir;
  write_backup(dir.path() / name_at(kStart - 24h * 365));
  write_backup(dir.path() / name_at(kStart));
  auto report = apply_retention(dir.path(), RetentionPolicy{}, kStart, name_at(kStart));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->removed.empty());
  EXPECT_EQ(names_in(dir.path()).size(), 2u);
}

TEST(ApplyRetention, AMissingDirectoryIsAnIoErrorNamingIt) {
  TempDir dir;
  RetentionPolicy p;
  p.keep_last = 1;
  auto report = apply_retention(dir.path() / "absent", p, kStart, name_at(kStart));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::Io);
  EXPECT_NE(report.error().message.find("absent"), std::string::npos);
}

TEST(ScanBackupDir, SaysWhyEachForeignFileIsNotABackup) {
  TempDir dir;
  plant_foreign_files(dir.path());
  write_backup(dir.path() / name_at(kStart));
  auto entries = scan_backup_dir(dir.path());
  ASSERT_TRUE(entries);
  size_t ours = 0;
  for (const DirEntry& e : *entries) {
    if (e.ours()) {
      ++ours;
      EXPECT_EQ(e.name, name_at(kStart));
      EXPECT_TRUE(e.problem.empty());
      EXPECT_GT(e.size, 0u);
    } else if (e.name != "manual-backup.tar.zst" && e.name != "elsewhere.tar.zst") {
      EXPECT_FALSE(e.problem.empty()) << e.name;
      EXPECT_FALSE(e.manifest) << e.name;
    }
  }
  EXPECT_EQ(ours, 1u);
}

std::string sealed_name_at(sys_seconds t) {
  return backup_file_name(t, archive::Compression::Zstd, /*encrypted=*/true);
}

TEST(BackupFileName, EncryptedBackupsEndInEncAndParseBack) {
  EXPECT_EQ(sealed_name_at(kStart), "zk-backup-2026-11-21-20-30-00.tar.zst.enc");
  EXPECT_EQ(parse_backup_file_name(sealed_name_at(kStart)), kStart);
  EXPECT_FALSE(parse_backup_file_name("zk-backup-2026-11-21-20-30-00.enc"));
  EXPECT_FALSE(parse_backup_file_name("zk-backup-2026-11-21-20-30-00.tar.zst.enc.enc"));
}

// Retention runs where the key may not be (the timer's node keeps only what
// it needs to write): encrypted backups count by their name and trailer, and
// one whose bytes changed is left alone without the key ever being read.
TEST(ApplyRetention, EncryptedBackupsAreKeptAndDeletedWithoutTheKey) {
  TempDir dir;
  ASSERT_TRUE(archive::ArchiveKey::generate_file(dir.path() / "k"));
  auto key = archive::ArchiveKey::read_file(dir.path() / "k");
  ASSERT_TRUE(key);
  const fs::path backups = dir.path() / "backups";
  fs::create_directory(backups);
  for (int hour : {19, 20, 21, 22}) {
    write_backup(backups / sealed_name_at(kStart + hours(hour)), archive::Kind::ZooKeeper,
                 archive::Compression::Zstd, key.value());
  }
  const fs::path rotted = backups / sealed_name_at(kStart + 22h);
  std::string bytes = read_file(rotted);
  bytes[bytes.size() / 2] ^= 0x04;
  write_file(rotted, bytes);

  auto entries = scan_backup_dir(backups);
  ASSERT_TRUE(entries) << entries.error().message;
  for (const DirEntry& e : *entries) {
    ASSERT_TRUE(e.sealed) << e.name;
    EXPECT_EQ(e.sealed->key_id, key->id());
    EXPECT_FALSE(e.manifest) << "nothing inside is read without the key";
    EXPECT_EQ(e.ours(), e.name != rotted.filename().string()) << e.name << ": " << e.problem;
  }
  // With the key, what is inside shows.
  auto opened = scan_backup_dir(backups, BackupCheck::kDigests, key.value());
  ASSERT_TRUE(opened);
  for (const DirEntry& e : *opened) EXPECT_EQ(e.manifest.has_value(), e.ours()) << e.name;

  RetentionPolicy p;
  p.keep_last = 2;
  auto report = apply_retention(backups, p, kStart + 23h, sealed_name_at(kStart + 22h));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->kept, (std::vector{sealed_name_at(kStart + 21h), sealed_name_at(kStart + 20h)}));
  EXPECT_EQ(report->removed, std::vector{sealed_name_at(kStart + 19h)});
  ASSERT_EQ(report->left_alone.size(), 1u);
  EXPECT_NE(report->left_alone[0].find("a damaged backup: "), std::string::npos)
      << report->left_alone[0];
  EXPECT_TRUE(fs::exists(rotted));
}

}  // namespace
}  // namespace zktool
