// `zk-tool backup <archive>`: a verified archive of this node's ZooKeeper.
// `zk-tool backup --dir DIR`: the same into a time-named archive in DIR, then
// retention over DIR (retention.h); --metrics-file records every attempt.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "archive/compression.h"
#include "ops/backup.h"
#include "ops/remote_archive.h"
#include "cli/command.h"
#include "util/printable.h"
#include "util/duration.h"
#include "cli/logging.h"
#include "ops/metrics.h"
#include "cli/progress.h"
#include "ops/retention.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

class BackupCommand : public Command {
 public:
  const char* name() const override { return "backup"; }
  const char* example() const override {
    return "zk-tool backup --dir /var/backups/zk-tool --keep-last 48 --keep-within 7d";
  }
  const char* summary() const override {
    return "Write a verified archive of this node's ZooKeeper data";
  }

  void setup(CLI::App& app) override {
    // Neither is required() here: --dir may come from the config file, which
    // main.cc applies after a first parse. run() checks that one is given.
    app.add_option("archive", archive_,
                   "The archive to write (must not exist), or s3://BUCKET/KEY to upload it once "
                   "proven; or --dir");
    app.add_option("--dir", dir_,
                   "Write zk-backup-<UTC time>.tar.zst (.tar.gz, .tar) into this directory, "
                   "then apply --keep-last / --keep-within to it");
    app.add_option("--keep-last", keep_last_, "With --dir: keep the N newest backups (N >= 1)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
    app.add_option("--keep-within", keep_within_,
                   "With --dir: keep the backups at most DURATION old (36h, 7d, 2w)")
        ->check(duration_validator());
    app.add_option("--metrics-file", metrics_file_,
                   "After each attempt, rewrite this Prometheus textfile (node_exporter)");
    app.add_option("--compression", compression_, "zstd, gzip or none")
        ->check(CLI::IsMember({"zstd", "gzip", "none"}))
        ->capture_default_str();
    app.add_flag("--cold", cold_, "Stop the unit while the files are copied (default: hot, no stop)");
    app.add_flag("--all-files", all_files_,
                 "Archive every file of the data directories, not only what a restore loads");
    app.add_flag("--json", json_, "Print one JSON object");
    add_key_file_option(app, key_file_,
                        "Encrypt the archive with this key (zk-tool keygen); with --dir the "
                        "name ends in .enc");
    add_snapshot_read_options(app, read_);
    add_node_options(app, node_options_);
    add_s3_options(app, aws_);
    app.footer(
        "With --dir, retention runs after each successful backup. It counts and deletes only\n"
        "good backups: files this tool names zk-backup-* whose files all match their zk-tool\n"
        "manifest. A damaged one is left alone and reported. The newest good backup is always\n"
        "kept; with both --keep-last and --keep-within a backup either keeps survives.");
  }

  Status run() override {
    auto started = now_utc();
    if (!started) return started.error();
    auto clock_start = std::chrono::steady_clock::now();
    Result<BackupReport> report = back_up(*started);
    Status metrics = Ok{};
    if (metrics_file_) {
      metrics = record_metrics(*started, std::chrono::steady_clock::now() - clock_start, report);
    }
    if (!report) {
      // The backup's own failure is the one to report; the metrics' on the side.
      if (!metrics) std::fprintf(stderr, "warning: %s\n", metrics.error().message.c_str());
      return report.error();
    }
    std::optional<RetentionReport> retention;
    Status retained = Ok{};
    if (dir_ && policy().active()) {
      auto applied =
          apply_retention(*dir_, policy(), *started, report->archive.filename().string());
      if (applied) {
        retention = std::move(*applied);
      } else {
        retained = applied.error();
      }
    }
    add_result_field("ARCHIVE", report->archive.string());
    add_result_field("LAST_ZXID", zs::zxid_hex(zookeeper_summary(*report).last_zxid));
    add_result_field("SIZE", std::to_string(report->archive_size));
    print(*report, retention);
    return !metrics ? metrics : retained;
  }

 private:
  // Options checked, the archive named, the backup taken.
  Result<BackupReport> back_up(std::chrono::sys_seconds now) {
    if (archive_.empty() == !dir_.has_value()) {
      return make_error(ErrorKind::Usage,
                        "give either ARCHIVE or --dir DIR, not both or neither (the config file "
                        "may set dir)");
    }
    if (!dir_ && policy().active()) {
      return make_error(ErrorKind::Usage, "--keep-last and --keep-within need --dir");
    }
    // The option's check admits only names parse_compression knows.
    const archive::Compression compression = archive::parse_compression(compression_).value();
    auto key = key_file_.load();
    if (!key) return key.error();
    fs::path archive = archive_;
    auto url = parse_s3_url(archive_.string());
    if (!url) return url.error();
    if (*url) {
      // Written and proven here first; uploaded once it is.
      auto parent = staging_parent(std::nullopt);
      if (!parent) return parent.error();
      archive = *parent / fs::path((*url)->key).filename();
    }
    if (dir_ && dir_->string().starts_with("s3://")) {
      return make_error(ErrorKind::Usage, "backup --dir takes a local directory; an s3:// backup "
                                          "location with retention is not there yet (give "
                                          "s3://BUCKET/KEY as ARCHIVE)");
    }
    if (dir_) {
      std::error_code ec;
      if (!fs::is_directory(*dir_, ec)) {
        return make_error(ErrorKind::Io, dir_->string() + ": not a directory (--dir)");
      }
      archive = *dir_ / backup_file_name(now, compression, key->has_value());
    }
    auto node = resolve_node(node_options_);
    if (!node) return node.error();
    node_unit_ = node->unit;
    BackupRequest request;
    request.archive = fs::absolute(archive);
    request.write.compression = compression;
    request.write.key = std::move(key.value());
    if (!json_) request.write.progress = terminal_progress("writing archive");
    request.cold = cold_;
    request.all_files = all_files_;
    request.read = read_;
    auto report = backup(*node, request);
    if (report && *url) {
      if (Status up = upload_archive(report->archive, **url, aws_); !up) return up.error();
      report->archive = (*url)->text();
    }
    return report;
  }

  RetentionPolicy policy() const {
    RetentionPolicy p;
    p.keep_last = keep_last_;
    if (keep_within_) {
      // The option's check admits only what parse_duration accepts.
      p.keep_within = std::chrono::floor<std::chrono::seconds>(*parse_duration(*keep_within_));
    }
    return p;
  }

  Status record_metrics(std::chrono::sys_seconds started, std::chrono::duration<double> took,
                        const Result<BackupReport>& report) const {
    BackupAttempt attempt;
    attempt.started = started;
    attempt.succeeded = report.ok();
    if (report) {
      attempt.duration = took;
      attempt.size_bytes = report->archive_size;
      attempt.last_zxid = zookeeper_summary(*report).last_zxid;
    }
    auto recorded = record_backup_attempt(*metrics_file_, attempt);
    if (!recorded) return recorded.error();
    if (!recorded->empty()) std::fprintf(stderr, "warning: %s\n", recorded->c_str());
    return Ok{};
  }

  static const archive::ZooKeeperSummary& zookeeper_summary(const BackupReport& report) {
    return std::get<archive::ZooKeeperSummary>(report.manifest.summary);
  }

  void print(const BackupReport& report, const std::optional<RetentionReport>& retention) const {
    const auto& summary = zookeeper_summary(report);
    if (json_) {
      nlohmann::json j = {{"archive", report.archive.string()},
                          {"size", report.archive_size},
                          {"mode", cold_ ? "cold" : "hot"},
                          {"snapshot_zxid", zs::zxid_hex(summary.snapshot_zxid)},
                          {"last_zxid", zs::zxid_hex(summary.last_zxid)},
                          {"znode_count", summary.znode_count},
                          {"digest_verified", summary.digest_verified()},
                          {"proof", summary.proof_name()},
                          {"downtime_seconds", report.downtime.count()},
                          {"attempts", report.attempts},
                          {"warnings", report.warnings}};
      if (retention) {
        j["retention"] = {{"kept", retention->kept},
                          {"removed", retention->removed},
                          {"left_alone", retention->left_alone}};
      }
      print_json_result(j);
      return;
    }
    std::printf("wrote %s (%llu bytes, %zu files): %s, %llu znodes, proof %s\n",
                report.archive.c_str(), static_cast<unsigned long long>(report.archive_size),
                report.manifest.files.size(), zs::zxid_hex(summary.last_zxid).c_str(),
                static_cast<unsigned long long>(summary.znode_count),
                summary.digest_verified() ? "digest (ZooKeeper's own matched)"
                                          : "replay (ZooKeeper recorded no digests)");
    if (report.unit_was_running) {
      std::printf("%s was down %.2f s while its files were copied\n", node_unit_.c_str(),
                  report.downtime.count());
    } else if (!cold_) {
      std::printf("hot copy: nothing was stopped%s\n",
                  report.attempts > 1 ? (", " + std::to_string(report.attempts) +
                                         " copies taken (earlier ones raced the server)")
                                            .c_str()
                                      : "");
    }
    for (const std::string& w : report.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!retention) return;
    for (const std::string& name : retention->removed) std::printf("removed %s\n", name.c_str());
    std::printf("retention: %zu kept, %zu removed\n", retention->kept.size(),
                retention->removed.size());
    for (const std::string& why : retention->left_alone) {
      std::fprintf(stderr, "warning: left alone: %s\n", printable(why).c_str());
    }
  }

  fs::path archive_;
  std::optional<fs::path> dir_;
  std::optional<uint64_t> keep_last_;
  std::optional<std::string> keep_within_;
  std::optional<fs::path> metrics_file_;
  std::string compression_ = "zstd";
  bool cold_ = false;
  bool all_files_ = false;
  snapshot::SnapshotReadOptions read_;
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
  bool json_ = false;
  NodeOptions node_options_;
  std::string node_unit_;  // for the report, once resolved
};

}  // namespace

std::unique_ptr<Command> make_backup_command() { return std::make_unique<BackupCommand>(); }

}  // namespace zktool
