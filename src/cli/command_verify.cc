// `zk-tool verify <archive>`: prove an archive restores, touching nothing:
// every hash, ZooKeeper's formats, the replay and its digests, the manifest.
#include <cstdio>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "util/file_ops.h"
#include "ops/remote_archive.h"
#include "ops/zk_archive.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

class VerifyCommand : public Command {
 public:
  const char* name() const override { return "verify"; }
  const char* example() const override {
    return "zk-tool verify /backups/zk-backup-2026-11-21-21-00-00.tar.zst";
  }
  const char* summary() const override {
    return "Prove an archive restores (hashes, formats, replay, digests) without touching anything";
  }

  void setup(CLI::App& app) override {
    app.add_option("archive", archive_, "The archive to check (a file, or s3://BUCKET/KEY)")
        ->required();
    app.add_option("--staging-dir", staging_parent_,
                   "Where to extract it for the check (default: the temporary directory)");
    app.add_flag("--json", json_, "Print one JSON object");
    add_key_file_option(app, key_file_, "The key of an encrypted archive (zk-tool keygen)");
    add_snapshot_read_options(app, read_);
    add_s3_options(app, aws_);
  }

  Status run() override {
    auto parent = staging_parent(staging_parent_);
    if (!parent) return parent.error();
    auto key = key_file_.load();
    if (!key) return key.error();
    auto local = fetch_archive(archive_.string(), *parent, aws_);
    if (!local) return local.error();
    auto staged = stage_and_verify(local->path, *parent, {read_, std::nullopt, std::move(*key)});
    if (!staged) return staged.error();
    const zs::ZkState& state = staged->state;
    auto verified = state.digest.verified();
    if (json_) {
      nlohmann::json j = {
          {"archive", archive_.string()},
          {"manifest", staged->manifest.has_value()},
          {"snapshot_zxid", zs::zxid_hex(state.snapshot_zxid)},
          {"last_zxid", zs::zxid_hex(state.last_zxid)},
          {"znode_count", state.tree.node_count()},
          {"ephemeral_count", state.tree.ephemeral_count()},
          {"session_count", state.tree.sessions().size()},
          {"digest_verified", verified ? nlohmann::json(*verified) : nlohmann::json(nullptr)},
          {"proof", proof_of(state)},
          {"digest", state.tree_digest()},
          {"from_empty_tree", state.from_empty_tree()},
          {"warnings", state.warnings}};
      print_json_result(j);
      return Ok{};
    }
    std::printf("archive          %s\n", archive_.c_str());
    std::printf("manifest         %s\n", staged->manifest ? "present, every file's SHA-256 matches"
                                                          : "none (dcos-zk archive)");
    if (state.from_empty_tree()) {
      std::printf("snapshot         none: %s\n", kEmptyTreeNote);
    } else {
      std::printf("snapshot zxid    %s\n", zs::zxid_hex(state.snapshot_zxid).c_str());
    }
    std::printf("last zxid        %s\n", zs::zxid_hex(state.last_zxid).c_str());
    std::printf("znodes           %zu (%zu ephemeral, %zu sessions)\n", state.tree.node_count(),
                state.tree.ephemeral_count(), state.tree.sessions().size());
    std::printf("proof            %s\n", proof_summary(state).c_str());
    for (const std::string& w : state.warnings) std::printf("warning          %s\n", w.c_str());
    std::printf("OK: this archive restores\n");
    return Ok{};
  }

 private:
  fs::path archive_;
  std::optional<fs::path> staging_parent_;
  bool json_ = false;
  zs::SnapshotReadOptions read_;
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
};

}  // namespace

std::unique_ptr<Command> make_verify_command() { return std::make_unique<VerifyCommand>(); }

}  // namespace zktool
