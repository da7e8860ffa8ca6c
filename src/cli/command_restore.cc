// `zk-tool restore <archive>` and `zk-tool rollback`: put an archive's state
// in place on this node (restore.h says how and why it is safe), or put back
// what the last restore replaced.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "util/fault_point.h"
#include "ops/remote_archive.h"
#include "ops/restore.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

void add_wait_options(CLI::App& app, WaitOptions& wait, int& timeout_s) {
  app.add_flag("!--no-wait", wait.wait, "Return once the unit started, without waiting for health");
  app.add_option("--wait-timeout", timeout_s,
                 "Seconds to wait for the ensemble (restore the other masters meanwhile)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

nlohmann::json paths_json(const std::vector<fs::path>& paths) {
  nlohmann::json j = nlohmann::json::array();
  for (const fs::path& p : paths) j.push_back(p.string());
  return j;
}

// Whether the ensemble was healthy when the command last looked; null when it did not wait.
nlohmann::json healthy_json(const std::optional<health::EnsembleHealth>& health) {
  return health ? nlohmann::json(health->healthy()) : nlohmann::json(nullptr);
}

nlohmann::json read_back_json(const std::optional<ReadbackReport>& r) {
  if (!r) return nullptr;
  return {{"compared", r->compared},
          {"served_znodes", r->served_znodes},
          {"count_checked", r->count_checked},
          {"changed_since", r->changed_since},
          {"unreadable", r->unreadable},
          {"sampled", r->sampled}};
}

class RestoreCommand : public Command {
 public:
  const char* name() const override { return "restore"; }
  const char* example() const override {
    return "zk-tool restore /backups/zk-backup-2026-11-21-21-00-00.tar.zst --dry-run";
  }
  const char* summary() const override {
    return "Restore this node from an archive (run it on every master; any order)";
  }

  void setup(CLI::App& app) override {
    app.add_option("archive", request_.archive, "The archive to restore (a file, or s3://BUCKET/KEY)")
        ->required();
    add_key_file_option(app, key_file_, "The key of an encrypted archive (zk-tool keygen)");
    add_snapshot_read_options(app, request_.read);
    app.add_flag("--dry-run", request_.dry_run, "Verify and stage, say what would happen, change nothing");
    app.add_flag("--json", json_, "Print one JSON object");
    add_wait_options(app, request_.wait, timeout_s_);
    app.add_option("--read-back-limit", request_.read_back.max_znodes,
                   "Once healthy, read back up to this many znodes through the client API and "
                   "compare them with the archive (0: do not)")
        ->capture_default_str();
    add_node_options(app, node_options_);
    add_s3_options(app, aws_);
  }

  Status run() override {
    auto key = key_file_.load();
    if (!key) return key.error();
    request_.key = std::move(*key);
    // An object is fetched first, then proven beside the data as a file is.
    auto fetch_parent = staging_parent(std::nullopt);
    if (!fetch_parent) return fetch_parent.error();
    auto local = fetch_archive(request_.archive.string(), *fetch_parent, aws_);
    if (!local) return local.error();
    auto node = resolve_node(node_options_);
    if (!node) return node.error();
    request_.wait.timeout = std::chrono::seconds(timeout_s_);
    RestoreRequest request = request_;
    request.archive = local->path;
    auto report = restore(*node, request);
    if (!report) return report.error();
    if (json_) {
      nlohmann::json j = {{"archive", request_.archive.string()},
                          {"dry_run", request_.dry_run},
                          {"restored_zxid", zs::zxid_hex(report->restored_zxid)},
                          {"znode_count", report->znode_count},
                          {"epoch", report->epoch},
                          {"moved_aside", paths_json(report->moved_aside)},
                          {"downtime_seconds", report->downtime.count()},
                          {"plan", report->plan},
                          {"healthy", healthy_json(report->health)},
                          {"read_back", read_back_json(report->read_back)},
                          {"warnings", report->warnings}};
      print_json_result(j);
      return Ok{};
    }
    if (request_.dry_run) {
      std::printf("dry run: nothing was changed. A restore would:\n");
      for (const std::string& step : report->plan) std::printf("  - %s\n", step.c_str());
    } else {
      std::printf("restored %s: %s, %llu znodes (epoch %lld)\n", request_.archive.c_str(),
                  zs::zxid_hex(report->restored_zxid).c_str(),
                  static_cast<unsigned long long>(report->znode_count),
                  static_cast<long long>(report->epoch));
      std::printf("%s was down %.2f s\n", node->unit.c_str(), report->downtime.count());
      for (const fs::path& p : report->moved_aside) {
        std::printf("previous data kept in %s (remove it once satisfied)\n", p.c_str());
      }
      if (report->health) std::printf("ensemble: %s\n", report->health->summary().c_str());
      if (report->read_back) std::printf("read back: %s\n", report->read_back->summary().c_str());
    }
    for (const std::string& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    return Ok{};
  }

 private:
  RestoreRequest request_;
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
  int timeout_s_ = 1800;
  bool json_ = false;
  NodeOptions node_options_;
};

class RollbackCommand : public Command {
 public:
  const char* name() const override { return "rollback"; }
  const char* example() const override {
    return "zk-tool rollback --unit dcos-exhibitor.service";
  }
  const char* summary() const override {
    return "Put back the data the last restore moved aside";
  }

  void setup(CLI::App& app) override {
    app.add_flag("--json", json_, "Print one JSON object");
    add_wait_options(app, wait_, timeout_s_);
    add_node_options(app, node_options_);
  }

  Status run() override {
    auto node = resolve_node(node_options_);
    if (!node) return node.error();
    wait_.timeout = std::chrono::seconds(timeout_s_);
    auto report = rollback(*node, wait_);
    if (!report) return report.error();
    // Done and the lock released, not yet said: a re-run finds nothing to do.
    fault_point("rollback.after-unlock");
    if (json_) {
      nlohmann::json j = {{"restored_from", paths_json(report->restored_from)},
                          {"moved_aside", paths_json(report->moved_aside)},
                          {"downtime_seconds", report->downtime.count()},
                          {"healthy", healthy_json(report->health)},
                          {"warnings", report->warnings}};
      print_json_result(j);
      return Ok{};
    }
    for (const fs::path& p : report->restored_from) std::printf("put back %s\n", p.c_str());
    for (const fs::path& p : report->moved_aside) std::printf("restored data kept in %s\n", p.c_str());
    if (report->health) std::printf("ensemble: %s\n", report->health->summary().c_str());
    for (const std::string& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    return Ok{};
  }

 private:
  WaitOptions wait_;
  int timeout_s_ = 1800;
  bool json_ = false;
  NodeOptions node_options_;
};

}  // namespace

std::unique_ptr<Command> make_restore_command() { return std::make_unique<RestoreCommand>(); }
std::unique_ptr<Command> make_rollback_command() { return std::make_unique<RollbackCommand>(); }

}  // namespace zktool
