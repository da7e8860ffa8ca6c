// `zk-tool backup <archive>`: a verified archive of this node's ZooKeeper.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "archive/compression.h"
#include "backup.h"
#include "command.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

class BackupCommand : public Command {
 public:
  const char* name() const override { return "backup"; }
  const char* summary() const override {
    return "Write a verified archive of this node's ZooKeeper data";
  }

  void setup(CLI::App& app) override {
    app.add_option("archive", archive_, "The archive to write (must not exist)")->required();
    app.add_option("--compression", compression_, "zstd, gzip or none")
        ->check(CLI::IsMember({"zstd", "gzip", "none"}))
        ->capture_default_str();
    app.add_flag("--cold", cold_, "Stop the unit while the files are copied (the only mode yet)");
    app.add_flag("--json", json_, "Print one JSON object");
    add_node_options(app, node_options_);
  }

  Status run() override {
    auto node = resolve_node(node_options_);
    if (!node) return node.error();
    BackupRequest request;
    request.archive = fs::absolute(archive_);
    // The option's check admits only names parse_compression knows.
    request.write.compression = archive::parse_compression(compression_).value();
    auto report = backup_cold(*node, request);
    if (!report) return report.error();
    const auto& summary = std::get<archive::ZooKeeperSummary>(report->manifest.summary);
    if (json_) {
      nlohmann::json j = {{"archive", report->archive.string()},
                          {"size", report->archive_size},
                          {"mode", "cold"},
                          {"snapshot_zxid", zs::zxid_hex(summary.snapshot_zxid)},
                          {"last_zxid", zs::zxid_hex(summary.last_zxid)},
                          {"znode_count", summary.znode_count},
                          {"digest_verified", summary.digest.has_value()},
                          {"downtime_seconds", report->downtime.count()},
                          {"warnings", report->warnings}};
      std::printf("%s\n", j.dump(2).c_str());
      return Ok{};
    }
    std::printf("wrote %s (%llu bytes, %zu files): %s, %llu znodes, digest %s\n",
                report->archive.c_str(), static_cast<unsigned long long>(report->archive_size),
                report->manifest.files.size(), zs::zxid_hex(summary.last_zxid).c_str(),
                static_cast<unsigned long long>(summary.znode_count),
                summary.digest ? "verified" : "not recorded");
    if (report->unit_was_running) {
      std::printf("%s was down %.2f s while its files were copied\n", node->unit.c_str(),
                  report->downtime.count());
    }
    for (const std::string& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    return Ok{};
  }

 private:
  fs::path archive_;
  std::string compression_ = "zstd";
  bool cold_ = false;
  bool json_ = false;
  NodeOptions node_options_;
};

}  // namespace

std::unique_ptr<Command> make_backup_command() { return std::make_unique<BackupCommand>(); }

}  // namespace zktool
