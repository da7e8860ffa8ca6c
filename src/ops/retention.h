// Scheduled backups into one directory (`zk-tool backup --dir`): how their
// archives are named, which files of the directory are zk-tool's backups, and
// which of those a retention policy keeps.
//
// Retention counts and deletes only good backups: a regular file whose name
// matches backup_file_name() exactly, whose first entry is a zk-tool manifest
// of a ZooKeeper backup, and whose every file still has the size and SHA-256
// that (sealed) manifest lists; or, encrypted, whose bytes still match the
// SHA-256 of its trailer (no key needed). Backup never publishes an archive that failed
// its proof, so an intact one under such a name is one that was proven.
// Anything else (other names, `.part` files, links, archives without a
// manifest, files that do not open as archives, and damaged backups, kept
// for whoever investigates) is left alone and never counts toward a policy:
// the newest good backup is always kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/compression.h"
#include "archive/encryption.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "util/utc_time.h"  // format_utc, parse_utc

namespace zktool {

// The current time in UTC. FOR TESTS ONLY: the environment variable
// ZKTOOL_NOW=2026-11-21T20:30:00Z (RFC 3339, UTC, whole seconds) replaces the
// clock, so that archive names, retention, ages and metrics follow a
// simulated clock; a malformed value is ErrorKind::Usage.
Result<std::chrono::sys_seconds> now_utc();


// "zk-backup-2026-11-21-20-30-00.tar.zst" (.tar.gz for gzip, .tar for none),
// with ".enc" after it when encrypted.
std::string backup_file_name(std::chrono::sys_seconds time, archive::Compression compression,
                             bool encrypted = false);
// The time in a name backup_file_name() writes; nullopt for any other name.
std::optional<std::chrono::sys_seconds> parse_backup_file_name(std::string_view name);

// Both unset keeps everything. Both set keeps a backup either one keeps.
struct RetentionPolicy {
  std::optional<uint64_t> keep_last;                // the N newest (N >= 1)
  std::optional<std::chrono::seconds> keep_within;  // those at most this old
  bool active() const { return keep_last || keep_within; }
};

struct TimedBackup {
  std::string name;
  std::chrono::sys_seconds time;
};

struct RetentionDecision {
  std::vector<std::string> keep;    // newest first
  std::vector<std::string> remove;  // newest first
};

// Pure: which of `backups` `policy` keeps at `now`. The newest backup, and
// `written` (the one this run wrote, in case the clock went back), are always
// kept. Ties in time are ordered by name.
RetentionDecision decide_retention(std::vector<TimedBackup> backups, const RetentionPolicy& policy,
                                   std::chrono::sys_seconds now, std::string_view written = {});

// One entry of a backup directory, as found.
struct DirEntry {
  std::string name;
  uint64_t size = 0;
  std::optional<std::chrono::sys_seconds> named_time;  // set when the name is backup_file_name()'s
  std::optional<archive::Manifest> manifest;           // set for a zk-tool ZooKeeper backup
  // Set for an encrypted zk-tool archive. Without its key only the header is
  // known (no manifest), and the trailer's SHA-256 stands for the digests.
  std::optional<archive::SealedHeader> sealed;
  // Why this is not a good zk-tool ZooKeeper backup; empty when it is. With
  // a manifest, it says how the backup is damaged.
  std::string problem;

  bool damaged() const { return (manifest || sealed) && !problem.empty(); }
  // Retention counts it and may delete it (see the top of this file).
  bool ours() const { return named_time && (manifest || sealed) && problem.empty(); }
};

enum class BackupCheck {
  kDigests,       // every file of each backup is read and hashed (no disk writes)
  kManifestOnly,  // only the first entry is read (the caller proves them itself)
};

// Every entry of `dir` (not recursive), in no particular order, each backup
// checked as `check` says. An encrypted backup is opened (manifest, every
// digest) when `key` is the one that sealed it; otherwise, with kDigests, its
// bytes are checked against its trailer.
Result<std::vector<DirEntry>> scan_backup_dir(
    const std::filesystem::path& dir, BackupCheck check = BackupCheck::kDigests,
    const std::optional<archive::ArchiveKey>& key = std::nullopt);

struct RetentionReport {
  std::vector<std::string> kept;     // our backups, newest first
  std::vector<std::string> removed;  // newest first
  // Names that look like ours but are not good zk-tool backups (damaged
  // ones among them), each with why; left alone.
  std::vector<std::string> left_alone;
};

// Scans `dir` (checking digests), decides with decide_retention() over our
// good backups (each timed by its name) and deletes what it does not keep,
// then fsyncs `dir`. A file
// that cannot be deleted stops the run with ErrorKind::Io naming it.
Result<RetentionReport> apply_retention(const std::filesystem::path& dir,
                                        const RetentionPolicy& policy, std::chrono::sys_seconds now,
                                        std::string_view written);

}  // namespace zktool
