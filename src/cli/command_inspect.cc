// `zk-tool inspect`: what a ZooKeeper data directory holds and whether it is
// provably what ZooKeeper itself would load (restore set, replay, digests).
#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "util/printable.h"
#include "cli/exit_codes.h"
#include "util/file_ops.h"
#include "snapshot/zookeeper_state.h"
#include "ops/remote_archive.h"
#include "ops/zk_archive.h"
#include "ops/zoo_cfg.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using nlohmann::json;

std::string perms_string(int32_t perms) {
  // ZooDefs.Perms: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16; printed as zkCli does.
  std::string s;
  if (perms & 4) s += 'c';
  if (perms & 8) s += 'd';
  if (perms & 1) s += 'r';
  if (perms & 2) s += 'w';
  if (perms & 16) s += 'a';
  return s;
}

std::string display_path(std::string_view path) { return path.empty() ? "/" : std::string(path); }

uint64_t size_of_file(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

const char* snapshot_digest_name(zs::DigestReport::SnapshotDigest s) {
  switch (s) {
    case zs::DigestReport::SnapshotDigest::None: return "none";
    case zs::DigestReport::SnapshotDigest::Matched: return "matched";
    case zs::DigestReport::SnapshotDigest::Mismatched: return "mismatched";
    case zs::DigestReport::SnapshotDigest::Unreached: return "unreached";
  }
  return "unknown";
}

json digest_json(const zs::DigestReport& d) {
  auto first = d.first_mismatch();
  json j = {{"transaction_digests", d.txn_digests},
            {"mismatches", d.mismatches()},
            {"first_mismatch", first ? json(zs::zxid_hex(*first)) : json(nullptr)},
            {"snapshot_digest", snapshot_digest_name(d.snapshot)},
            {"charset", d.charset()}};
  if (d.snapshot != zs::DigestReport::SnapshotDigest::None) {
    j["snapshot_digest_zxid"] = zs::zxid_hex(d.snapshot_digest_zxid);
  }
  return j;
}

json node_json(std::string_view path, const zs::Node& node, const zs::DataTree& tree) {
  json acl = json::array();
  for (const zs::Acl& a : tree.acl(node.acl_index)) {
    acl.push_back({{"perms", a.perms}, {"scheme", a.scheme}, {"id", a.id}});
  }
  const zs::Stat& st = node.stat;
  return {{"path", display_path(path)},
          {"data_length", node.data ? node.data->size() : 0},
          {"data_null", !node.data.has_value()},
          {"czxid", zs::zxid_hex(st.czxid)},
          {"mzxid", zs::zxid_hex(st.mzxid)},
          {"pzxid", zs::zxid_hex(st.pzxid)},
          {"ctime", st.ctime},
          {"mtime", st.mtime},
          {"version", st.version},
          {"cversion", st.cversion},
          {"aversion", st.aversion},
          {"ephemeral_owner", zs::zxid_hex(st.ephemeral_owner)},
          {"num_children", node.num_children},
          {"acl", acl}};
}

json state_json(const zs::ZkState& state, bool with_nodes) {
  json files = json::array();
  if (!state.from_empty_tree()) {
    files.push_back({{"role", "snapshot"},
                     {"path", state.snapshot.string()},
                     {"zxid", zs::zxid_hex(state.snapshot_zxid)},
                     {"size", size_of_file(state.snapshot)}});
  }
  for (const zs::LogUsed& log : state.logs) {
    files.push_back({{"role", "log"},
                     {"path", log.file.string()},
                     {"zxid", zs::zxid_hex(log.first_zxid)},
                     {"size", size_of_file(log.file)},
                     {"records", log.records},
                     {"applied", log.applied},
                     {"last_zxid", log.last_zxid ? json(zs::zxid_hex(*log.last_zxid)) : json()},
                     {"end", zs::log_end_name(log.end)},
                     {"end_offset", log.end_offset}});
  }
  json skipped = json::array();
  for (const zs::SkippedSnapshot& s : state.skipped) {
    skipped.push_back({{"path", s.file.string()}, {"reason", s.reason}});
  }
  auto verified = state.digest.verified();
  json j = {{"snap_dir", state.dirs.snap_dir.string()},
            {"log_dir", state.dirs.log_dir.string()},
            {"snapshot_zxid", zs::zxid_hex(state.snapshot_zxid)},
            {"last_zxid", zs::zxid_hex(state.last_zxid)},
            {"txns_applied", state.txns_applied},
            {"znode_count", state.tree.node_count()},
            {"ephemeral_count", state.tree.ephemeral_count()},
            {"session_count", state.tree.sessions().size()},
            {"digest_verified", verified ? json(*verified) : json(nullptr)},
            {"digest", digest_json(state.digest)},
            {"proof", verified == false ? json(nullptr) : json(proof_of(state))},
            {"tree_digest", state.tree_digest()},
            {"from_empty_tree", state.from_empty_tree()},
            {"files", files},
            {"skipped_snapshots", skipped},
            {"current_epoch", state.current_epoch ? json(*state.current_epoch) : json()},
            {"accepted_epoch", state.accepted_epoch ? json(*state.accepted_epoch) : json()},
            {"warnings", state.warnings}};
  if (with_nodes) {
    json nodes = json::array();
    for (std::string_view path : state.tree.sorted_paths()) {
      nodes.push_back(node_json(path, *state.tree.find(path), state.tree));
    }
    j["nodes"] = std::move(nodes);
  }
  return j;
}

std::string digest_summary(const zs::DigestReport& d) {
  using Snapshot = zs::DigestReport::SnapshotDigest;
  auto verified = d.verified();
  if (!verified) return "not recorded by ZooKeeper (nothing to compare)";
  if (d.snapshot == Snapshot::Unreached) {
    return "NOT verified: the snapshot's digest at " + zs::zxid_hex(d.snapshot_digest_zxid) +
           " is beyond the logs";
  }
  if (!*verified) {
    if (d.mismatches() == 0) {
      return "NOT verified: the snapshot's digest at " + zs::zxid_hex(d.snapshot_digest_zxid) +
             " differs and no later transaction digest confirms the tree";
    }
    return "MISMATCH: first at " + zs::zxid_hex(*d.first_mismatch()) + " (" +
           std::to_string(d.mismatches()) + " of " + std::to_string(d.txn_digests) +
           " transaction digests differ)";
  }
  std::string snapshot = d.snapshot == Snapshot::Matched      ? "snapshot digest and "
                         : d.snapshot == Snapshot::Mismatched ? "snapshot digest raced, "
                                                              : "";
  return "verified (" + snapshot + std::to_string(d.txn_digests) +
         " transaction digests match; paths hashed as " + d.charset() + ")";
}

void print_text(const zs::ZkState& state, bool with_nodes) {
  std::printf("snapshot dir     %s\n", state.dirs.snap_dir.c_str());
  if (state.dirs.log_dir != state.dirs.snap_dir) {
    std::printf("log dir          %s\n", state.dirs.log_dir.c_str());
  }
  if (state.from_empty_tree()) {
    std::printf("restore set      no snapshot: %s\n", kEmptyTreeNote);
  } else {
    std::printf("restore set      %s (%llu bytes)\n", state.snapshot.filename().c_str(),
                static_cast<unsigned long long>(size_of_file(state.snapshot)));
  }
  for (const zs::LogUsed& log : state.logs) {
    std::printf("                 %s (%llu records, %llu applied, last %s, ends with %s at %llu)\n",
                log.file.filename().c_str(), static_cast<unsigned long long>(log.records),
                static_cast<unsigned long long>(log.applied),
                log.last_zxid ? zs::zxid_hex(*log.last_zxid).c_str() : "-",
                zs::log_end_name(log.end), static_cast<unsigned long long>(log.end_offset));
  }
  std::printf("snapshot zxid    %s\n", zs::zxid_hex(state.snapshot_zxid).c_str());
  std::printf("last zxid        %s (%llu transactions replayed)\n",
              zs::zxid_hex(state.last_zxid).c_str(),
              static_cast<unsigned long long>(state.txns_applied));
  std::printf("znodes           %zu\n", state.tree.node_count());
  std::printf("ephemerals       %zu\n", state.tree.ephemeral_count());
  std::printf("sessions         %zu\n", state.tree.sessions().size());
  std::printf("digest           %s\n", digest_summary(state.digest).c_str());
  std::printf("proof            %s\n", proof_summary(state).c_str());
  if (state.current_epoch || state.accepted_epoch) {
    std::printf("epochs           current %s, accepted %s\n",
                state.current_epoch ? std::to_string(*state.current_epoch).c_str() : "-",
                state.accepted_epoch ? std::to_string(*state.accepted_epoch).c_str() : "-");
  }
  for (const std::string& w : state.warnings) std::printf("warning          %s\n", w.c_str());
  if (!with_nodes) return;
  for (std::string_view path : state.tree.sorted_paths()) {
    const zs::Node& node = *state.tree.find(path);
    const zs::Stat& st = node.stat;
    std::string acl;
    for (const zs::Acl& a : state.tree.acl(node.acl_index)) {
      if (!acl.empty()) acl += ',';
      acl += std::string(a.scheme) + ":" + std::string(a.id) + ":" + perms_string(a.perms);
    }
    std::printf("%s len=%zu czxid=%s mzxid=%s pzxid=%s ctime=%lld mtime=%lld version=%d "
                "cversion=%d aversion=%d owner=%s children=%d acl=%s\n",
                printable(display_path(path)).c_str(), node.data ? node.data->size() : 0,
                zs::zxid_hex(st.czxid).c_str(), zs::zxid_hex(st.mzxid).c_str(),
                zs::zxid_hex(st.pzxid).c_str(), static_cast<long long>(st.ctime),
                static_cast<long long>(st.mtime), st.version, st.cversion, st.aversion,
                zs::zxid_hex(st.ephemeral_owner).c_str(), node.num_children, acl.c_str());
  }
}

class InspectCommand : public Command {
 public:
  const char* name() const override { return "inspect"; }
  const char* example() const override {
    return "zk-tool inspect /var/lib/dcos/exhibitor/zookeeper --json";
  }
  const char* summary() const override {
    return "Show what a ZooKeeper data directory or archive holds, and how it is proven";
  }

  void setup(CLI::App& app) override {
    app.add_option("dir", dir_,
                   "ZooKeeper dataDir (holding version-2/), a DC/OS ZooKeeper directory "
                   "(holding snapshot/ and transactions/), or an archive");
    app.add_option("--data-log-dir", data_log_dir_, "ZooKeeper dataLogDir, when logs live apart");
    app.add_option("--zoo-cfg", zoo_cfg_, "Take dataDir and dataLogDir from this zoo.cfg");
    app.add_flag("--json", json_, "Print one JSON object");
    app.add_flag("--nodes", nodes_, "Also list every znode after replay");
    add_key_file_option(app, key_file_, "The key of an encrypted archive (zk-tool keygen)");
    add_snapshot_read_options(app, read_);
    add_s3_options(app, aws_);
  }

  Status run() override {
    std::optional<fs::path> data_log_dir = data_log_dir_;
    if (zoo_cfg_) {
      auto cfg = read_zoo_cfg(*zoo_cfg_);
      if (!cfg) return cfg.error();
      if (!dir_) dir_ = cfg->data_dir;
      if (!data_log_dir) data_log_dir = cfg->data_log_dir;
    }
    if (!dir_) return make_error(ErrorKind::Usage, "give a data directory or --zoo-cfg");
    std::error_code ec;
    if (dir_->string().starts_with("s3://") || fs::is_regular_file(*dir_, ec)) {
      return inspect_archive(*dir_);
    }
    auto dirs = zs::resolve_data_dirs(*dir_, data_log_dir);
    if (!dirs) return dirs.error();
    // The files are ZooKeeper's, mapped in place while it may run.
    exit_on_sigbus("zk-tool inspect: " + printable(dirs->log_dir.string()) +
                       ": a file shrank while it was read (ZooKeeper cut a log short?); "
                       "nothing was changed, run inspect again",
                   kExitIo);
    zs::LoadOptions load;
    load.snapshot = read_;
    auto state = zs::load_state(*dirs, load);
    if (!state) return state.error();
    print(*state, nullptr);
    return Ok{};
  }

 private:
  // An archive is proven as verify proves it, in a scratch directory that is
  // removed afterwards, and its state shown as a directory's would be.
  Status inspect_archive(const fs::path& archive) {
    auto parent = staging_parent(std::nullopt);
    if (!parent) return parent.error();
    auto key = key_file_.load();
    if (!key) return key.error();
    auto local = fetch_archive(archive.string(), *parent, aws_);
    if (!local) return local.error();
    auto staged = stage_and_verify(local->path, *parent, {read_, std::nullopt, std::move(*key)});
    if (!staged) return staged.error();
    print(staged->state, staged->manifest ? &*staged->manifest : nullptr);
    return Ok{};
  }

  void print(const zs::ZkState& state, const archive::Manifest* manifest) {
    if (json_) {
      nlohmann::json j = state_json(state, nodes_);
      if (manifest != nullptr) {
        j["manifest"] = {{"mode", archive::to_string(manifest->mode)},
                         {"host", manifest->host},
                         {"tool_version", manifest->tool_version},
                         {"source_paths", manifest->source.paths}};
      }
      print_json_result(j);
      return;
    }
    if (manifest != nullptr) {
      std::printf("archive          %s backup from %s by zk-tool %s\n",
                  std::string(archive::to_string(manifest->mode)).c_str(), manifest->host.c_str(),
                  manifest->tool_version.c_str());
    }
    print_text(state, nodes_);
  }

  std::optional<fs::path> dir_;
  std::optional<fs::path> data_log_dir_;
  std::optional<fs::path> zoo_cfg_;
  bool json_ = false;
  zs::SnapshotReadOptions read_;
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
  bool nodes_ = false;
};

}  // namespace

std::unique_ptr<Command> make_inspect_command() { return std::make_unique<InspectCommand>(); }

}  // namespace zktool
