#include "ops/retention.h"

#include <algorithm>
#include <cstdlib>

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "archive/archive_reader.h"
#include "util/file_ops.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
using std::chrono::sys_seconds;

constexpr std::string_view kNamePrefix = "zk-backup-";
constexpr std::string_view kNameTimeLayout = "dddd-dd-dd-dd-dd-dd";
constexpr std::string_view kEncryptedSuffix = ".enc";

std::string_view extension(archive::Compression compression) {
  switch (compression) {
    case archive::Compression::Zstd:
      return ".tar.zst";
    case archive::Compression::Gzip:
      return ".tar.gz";
    case archive::Compression::None:
      return ".tar";
  }
  return ".tar";
}

bool newer(const TimedBackup& a, const TimedBackup& b) {
  return a.time != b.time ? a.time > b.time : a.name > b.name;
}

// Why `path` is not a good zk-tool ZooKeeper backup; empty when it is. For a
// zk-tool ZooKeeper backup, `manifest` is set either way (and `sealed` for an
// encrypted one).
std::string judge_archive(const fs::path& path, BackupCheck check,
                          const std::optional<archive::ArchiveKey>& key,
                          std::optional<archive::Manifest>& manifest,
                          std::optional<archive::SealedHeader>& sealed) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return std::string("cannot be opened: ") + std::strerror(errno);
  auto is_sealed = archive::is_sealed(fd.get(), path);
  if (!is_sealed) return is_sealed.error().message;
  if (*is_sealed) {
    auto header = archive::read_sealed_header(fd.get(), path);
    if (!header) return "not a zk-tool archive: " + header.error().message;
    sealed = *header;
    if (!key || key->id() != header->key_id) {
      if (check == BackupCheck::kManifestOnly) return {};
      auto checked = archive::check_sealed(fd.get(), path);
      return checked ? std::string() : "a damaged backup: " + checked.error().message;
    }
  }
  auto reader = archive::ArchiveReader::open(path, key);
  if (!reader) return "not a zk-tool archive: " + reader.error().message;
  if (!reader->manifest()) return "an archive without a zk-tool manifest";
  if (reader->manifest()->kind() != archive::Kind::ZooKeeper) {
    return "a zk-tool archive of kind " +
           std::string(archive::to_string(reader->manifest()->kind())) + ", not a ZooKeeper backup";
  }
  manifest = reader->manifest();
  if (check == BackupCheck::kDigests) {
    if (auto checked = reader->check(); !checked) {
      return "a damaged backup: " + checked.error().message;
    }
  }
  return {};
}

}  // namespace

Result<sys_seconds> now_utc() {
  if (const char* injected = std::getenv("ZKTOOL_NOW")) {
    auto time = parse_utc(injected);
    if (!time) {
      return make_error(ErrorKind::Usage, std::string("ZKTOOL_NOW=") + injected +
                                              " is not a UTC time like 2026-11-21T20:30:00Z");
    }
    return *time;
  }
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string backup_file_name(sys_seconds time, archive::Compression compression,
                             bool encrypted) {
  return std::string(kNamePrefix) + format_utc_time(time, kNameTimeLayout) +
         std::string(extension(compression)) + (encrypted ? std::string(kEncryptedSuffix) : "");
}

std::optional<sys_seconds> parse_backup_file_name(std::string_view name) {
  if (!name.starts_with(kNamePrefix)) return std::nullopt;
  name.remove_prefix(kNamePrefix.size());
  if (name.size() < kNameTimeLayout.size()) return std::nullopt;
  std::string_view ext = name.substr(kNameTimeLayout.size());
  if (ext.ends_with(kEncryptedSuffix)) ext.remove_suffix(kEncryptedSuffix.size());
  if (ext != extension(archive::Compression::Zstd) &&
      ext != extension(archive::Compression::Gzip) &&
      ext != extension(archive::Compression::None)) {
    return std::nullopt;
  }
  return parse_utc_time(name.substr(0, kNameTimeLayout.size()), kNameTimeLayout);
}

RetentionDecision decide_retention(std::vector<TimedBackup> backups, const RetentionPolicy& policy,
                                   sys_seconds now, std::string_view written) {
  std::sort(backups.begin(), backups.end(), newer);
  RetentionDecision decision;
  for (size_t i = 0; i < backups.size(); ++i) {
    const TimedBackup& b = backups[i];
    const bool keep = i == 0 || b.name == written || !policy.active() ||
                      (policy.keep_last && i < *policy.keep_last) ||
                      (policy.keep_within && now - b.time <= *policy.keep_within);
    (keep ? decision.keep : decision.remove).push_back(b.name);
  }
  return decision;
}

Result<std::vector<DirEntry>> scan_backup_dir(const fs::path& dir, BackupCheck check,
                                              const std::optional<archive::ArchiveKey>& key) {
  std::vector<DirEntry> entries;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    DirEntry entry;
    entry.name = it->path().filename().string();
    entry.named_time = parse_backup_file_name(entry.name);
    std::error_code stat_ec;
    const fs::file_status status = it->symlink_status(stat_ec);
    if (stat_ec || !fs::is_regular_file(status)) {
      entry.problem = "not a regular file";
    } else {
      entry.size = it->file_size(stat_ec);
      entry.problem =
          entry.name.ends_with(".part")
              ? "unfinished (.part): a backup being written, or one that was interrupted"
              : judge_archive(it->path(), check, key, entry.manifest, entry.sealed);
    }
    entries.push_back(std::move(entry));
  }
  if (ec) return make_error(ErrorKind::Io, dir.string() + ": cannot list: " + ec.message());
  return entries;
}

Result<RetentionReport> apply_retention(const fs::path& dir, const RetentionPolicy& policy,
                                        sys_seconds now, std::string_view written) {
  auto entries = scan_backup_dir(dir);
  if (!entries) return entries.error();
  RetentionReport report;
  std::vector<TimedBackup> ours;
  for (const DirEntry& e : *entries) {
    if (e.ours()) {
      ours.push_back({e.name, *e.named_time});
    } else if (e.named_time) {
      report.left_alone.push_back((dir / e.name).string() + ": " + e.problem);
    }
  }
  RetentionDecision decision = decide_retention(std::move(ours), policy, now, written);
  report.kept = std::move(decision.keep);
  for (const std::string& name : decision.remove) {
    std::error_code ec;
    fs::remove(dir / name, ec);
    if (ec) {
      return make_error(ErrorKind::Io, (dir / name).string() +
                                           ": cannot delete an expired backup: " + ec.message());
    }
    report.removed.push_back(name);
  }
  if (!report.removed.empty()) {
    if (Status synced = fsync_path(dir); !synced) return synced.error();
  }
  return report;
}

}  // namespace zktool
