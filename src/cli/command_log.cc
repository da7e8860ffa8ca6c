// `zk-tool log <subcommand>`: a scheduler's Mesos replicated log. `log` only
// dispatches: each subcommand is a Command of its own, listed in
// make_log_subcommands() the way commands.cc lists the top-level commands.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "archive/compression.h"
#include "cli/command.h"
#include "ops/log_backup.h"
#include "ops/remote_archive.h"
#include "replicated_log/escape.h"
#include "replicated_log/initialize.h"
#include "replicated_log/replica_store.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace rlog = replicated_log;

// A log command's outcome on stdout: one line, or with --json one object.
void print_outcome(bool json, const std::string& line, const nlohmann::ordered_json& object) {
  if (json) {
    print_json_result(object);
  } else {
    std::printf("%s\n", line.c_str());
  }
}

nlohmann::ordered_json summary_json(const archive::ReplicatedLogSummary& s) {
  return {{"begin", s.begin}, {"end", s.end}, {"entries", s.entries}};
}

class LogInitializeCommand : public Command {
 public:
  const char* name() const override { return "initialize"; }
  const char* example() const override {
    return "zk-tool log initialize --path /var/lib/mesos/master/replicated_log";
  }
  const char* summary() const override {
    return "Make an EMPTY replica a blank VOTING one, like mesos-log initialize";
  }

  void setup(CLI::App& app) override {
    app.add_option("--path", path_, "Replica directory (created if missing, not its parents)")
        ->required();
    app.footer(
        "Writes only the metadata record (status VOTING, promised 0), synced, as Mesos does.\n"
        "Refuses a replica that is not EMPTY or holds entries, and a directory holding other\n"
        "files; a refusal changes nothing.");
    app.add_flag("--json", json_, "Print one JSON object");
  }

  Status run() override {
    if (Status done = rlog::initialize(path_); !done) return done;
    print_outcome(json_, "initialized replica " + path_ + " as VOTING",
           {{"replica", path_}, {"status", "VOTING"}});
    return Ok{};
  }

 private:
  std::string path_;
  bool json_ = false;
};

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<uint8_t>(bytes[i + j]) : 0u);
    }
    for (size_t j = 0; j < 4; ++j) {
      out.push_back(j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3f] : '=');
    }
  }
  return out;
}

std::string type_name(const rlog::Action& action) {
  return action.has_type() ? rlog::Action::Type_Name(action.type()) : "NONE";
}

std::string text_line(const rlog::Action& action) {
  std::string line = std::to_string(action.position()) +
                     (action.learned() ? " learned " : " unlearned ") + type_name(action);
  if (action.has_type() && action.type() == rlog::Action::APPEND) {
    const std::string& bytes = action.append().bytes();
    line += " " + std::to_string(bytes.size()) + " \"" + rlog::escape_bytes(bytes) + "\"";
  } else if (action.has_type() && action.type() == rlog::Action::TRUNCATE) {
    line += " to " + std::to_string(action.truncate().to());
  } else if (action.has_type() && action.type() == rlog::Action::NOP && action.nop().tombstone()) {
    line += " tombstone";
  }
  return line + "\n";
}

std::string json_line(const rlog::Action& action) {
  nlohmann::ordered_json json;
  json["position"] = action.position();
  json["learned"] = action.learned();
  json["promised"] = action.promised();
  if (action.has_performed()) json["performed"] = action.performed();
  json["type"] = action.has_type() ? nlohmann::ordered_json(type_name(action)) : nullptr;
  if (action.has_type() && action.type() == rlog::Action::APPEND) {
    json["size"] = action.append().bytes().size();
    json["bytes"] = base64(action.append().bytes());
    if (action.append().has_cksum()) json["cksum"] = base64(action.append().cksum());
  } else if (action.has_type() && action.type() == rlog::Action::TRUNCATE) {
    json["to"] = action.truncate().to();
  } else if (action.has_type() && action.type() == rlog::Action::NOP) {
    json["tombstone"] = action.nop().tombstone();
  }
  return json.dump() + "\n";
}

// CLI11 reads "-1" into a uint64_t as 2^64 - 1; a position is never negative.
CLI::Validator not_negative() {
  return CLI::Validator(
      [](const std::string& value) {
        return value.starts_with('-') ? std::string("a position cannot be negative") : "";
      },
      "");
}

class LogReadCommand : public Command {
 public:
  const char* name() const override { return "read"; }
  const char* example() const override {
    return "zk-tool log read --path /var/lib/mesos/master/replicated_log --from 100 --json";
  }
  const char* summary() const override {
    return "Print a replica's entries with their positions, like mesos-log read";
  }

  void setup(CLI::App& app) override {
    app.add_option("--path", path_, "Replica directory (opened read-only: nothing is changed)")
        ->required();
    from_ = app.add_option("--from", from_value_, "First position (default: the log's beginning)")
                ->check(not_negative());
    to_ = app.add_option("--to", to_value_, "Last position, included (default: the log's end)")
              ->check(not_negative());
    app.add_flag("--json", json_, "One JSON object per line (JSON Lines) instead of text");
    app.footer(
        "Prints every action stored from --from to --to, one line each, in position order.\n"
        "Readers of the log (Mesos, Aurora) see only the learned APPEND entries; the other\n"
        "positions are printed too, marked, so that nothing stored is hidden.\n"
        "\n"
        "Text: <position> learned|unlearned <type> ..., where <type> is\n"
        "  APPEND <size> \"<bytes>\"   bytes escaped as \\\\ \\\" \\n \\r \\t and \\xHH\n"
        "  TRUNCATE to <position>    positions before it are gone\n"
        "  NOP [tombstone]           a filler, or the mark of a truncated position\n"
        "  NONE                      only a promise was made at this position\n"
        "JSON: {position, learned, promised, performed (if set), type (APPEND, NOP, TRUNCATE\n"
        "or null)}, plus size, bytes (base64) and cksum (base64, if set) for APPEND, to for\n"
        "TRUNCATE, tombstone for NOP.");
  }

  Status run() override {
    auto store = rlog::ReplicaStore::open_read_only(path_);
    if (!store) return store.error();
    auto state = store->recover();
    if (!state) return state.error();
    const uint64_t from = from_->count() > 0 ? from_value_ : state->begin;
    const uint64_t to = to_->count() > 0 ? to_value_ : state->end;
    if (Status range = check_range(from, to, *state); !range) return range;
    spdlog::debug("reading replica {} (status {}) from {} to {}", path_,
                  rlog::Metadata::Status_Name(state->metadata.status()), from, to);

    Status read = store->for_each_action(from, to, [this](const rlog::Action& action) {
      const std::string line = json_ ? json_line(action) : text_line(action);
      std::fwrite(line.data(), 1, line.size(), stdout);
      return Status(Ok{});
    });
    if (!read) return read;
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      return make_error(ErrorKind::Io, "cannot write the entries of " + path_ + " to stdout");
    }
    return Ok{};
  }

 private:
  // The ranges Mesos' Replica::read accepts.
  Status check_range(uint64_t from, uint64_t to, const rlog::ReplicaState& state) const {
    const std::string span =
        " (replica " + path_ +
        (state.actions == 0 ? " holds no entries)"
                            : " holds positions " + std::to_string(state.begin) + " to " +
                                  std::to_string(state.end) + ")");
    if (to < from) {
      return make_error(ErrorKind::Usage, "cannot read from " + std::to_string(from) + " to " +
                                              std::to_string(to) + span);
    }
    if (from < state.begin) {
      return make_error(ErrorKind::Usage, "positions before " + std::to_string(state.begin) +
                                              " are truncated" + span);
    }
    if (to > state.end) {
      return make_error(ErrorKind::Usage,
                        "position " + std::to_string(to) + " is past the end" + span);
    }
    return Ok{};
  }

  std::string path_;
  uint64_t from_value_ = 0;
  uint64_t to_value_ = 0;
  CLI::Option* from_ = nullptr;
  CLI::Option* to_ = nullptr;
  bool json_ = false;
};

// The systemd unit flags, named as NodeOptions names them (node.h), but with
// no default unit: a scheduler's unit is not ZooKeeper's.
class LogBackupCommand : public Command {
 public:
  const char* name() const override { return "backup"; }
  const char* example() const override {
    return "zk-tool log backup /backups/registry.tar.zst"
           " --path /var/lib/mesos/master/replicated_log --unit dcos-mesos-master.service";
  }
  const char* summary() const override { return "Archive a replica's entries and metadata"; }

  void setup(CLI::App& app) override {
    app.add_option("archive", archive_,
                   "The archive to write (must not exist), or s3://BUCKET/KEY to upload it once "
                   "proven")
        ->required();
    app.add_option("--path", path_, "Replica directory")->required();
    app.add_option("--compression", compression_, "zstd, gzip or none")
        ->check(CLI::IsMember({"zstd", "gzip", "none"}))
        ->capture_default_str();
    add_key_file_option(app, key_file_, "Encrypt the archive with this key (zk-tool keygen)");
    add_s3_options(app, aws_);
    add_service_options(app, service_,
                        "The systemd unit running the replica (Mesos master, Aurora), stopped "
                        "while the replica is read or replaced, then started again");
    app.footer(
        "Never reads a replica a running process holds: with --unit the unit is stopped for\n"
        "the read and started again; without it a replica still in use is refused (locked).\n"
        "The replica must be VOTING. The archive is read back and rebuilt into a scratch\n"
        "replica before the command succeeds.");
    app.add_flag("--json", json_, "Print one JSON object");
  }

  Status run() override {
    LogBackupRequest request;
    request.archive = archive_;
    auto url = parse_s3_url(archive_);
    if (!url) return url.error();
    if (*url) {
      auto parent = staging_parent(std::nullopt);
      if (!parent) return parent.error();
      request.archive = *parent / fs::path((*url)->key).filename();
    }
    request.replica = path_;
    request.service = resolve_service(service_);
    request.write.compression = *archive::parse_compression(compression_);
    auto key = key_file_.load();
    if (!key) return key.error();
    request.write.key = std::move(*key);
    auto manifest = backup_replicated_log(request);
    if (!manifest) return manifest.error();
    if (*url) {
      if (Status up = upload_archive(request.archive, **url, aws_); !up) return up;
    }
    const auto& s = std::get<archive::ReplicatedLogSummary>(manifest->summary);
    print_outcome(json_,
           "wrote " + archive_ + ": replica " + path_ + ", positions " + std::to_string(s.begin) +
               " to " + std::to_string(s.end) + ", " + std::to_string(s.entries) + " entries",
           {{"archive", archive_}, {"replica", path_}, {"log", summary_json(s)}});
    return Ok{};
  }

 private:
  std::string archive_;
  std::string path_;
  std::string compression_ = "zstd";
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
  ServiceOptions service_;
  bool json_ = false;
};

class LogRestoreCommand : public Command {
 public:
  const char* name() const override { return "restore"; }
  const char* example() const override {
    return "zk-tool log restore /backups/registry.tar.zst"
           " --path /var/lib/mesos/master/replicated_log --unit dcos-mesos-master.service";
  }
  const char* summary() const override {
    return "Replace a replica with an archive's entries, or with a blank one (--blank)";
  }

  void setup(CLI::App& app) override {
    app.add_option("archive", archive_,
                   "The archive to restore, a file or s3://BUCKET/KEY (not with --blank)");
    app.add_option("--path", path_, "Replica directory (its parent must exist)")->required();
    app.add_flag("--blank", blank_,
                 "Write a blank VOTING replica, as mesos-log initialize does, instead");
    add_key_file_option(app, key_file_, "The key of an encrypted archive (zk-tool keygen)");
    add_s3_options(app, aws_);
    add_service_options(app, service_,
                        "The systemd unit running the replica (Mesos master, Aurora), stopped "
                        "while the replica is read or replaced, then started again");
    app.footer(
        "The archive is verified and the new replica built beside --path before anything\n"
        "live is touched; then the unit is stopped, the old replica moved aside to\n"
        "<path>.pre-restore-<time> (never deleted), the new one renamed in, and the unit\n"
        "started. The restored replica is VOTING and keeps the archived promise, entries\n"
        "and truncation point. Restore one replica from the archive and the others with\n"
        "--blank: they catch up from it once a quorum runs.");
    app.add_flag("--json", json_, "Print one JSON object");
  }

  Status run() override {
    LogRestoreRequest request;
    std::optional<LocalArchive> local;
    if (archive_) {
      auto parent = staging_parent(std::nullopt);
      if (!parent) return parent.error();
      auto fetched = fetch_archive(*archive_, *parent, aws_);
      if (!fetched) return fetched.error();
      local.emplace(std::move(fetched.value()));
      request.archive = local->path;
    }
    request.replica = path_;
    request.service = resolve_service(service_);
    request.blank = blank_;
    auto key = key_file_.load();
    if (!key) return key.error();
    request.key = std::move(*key);
    auto report = restore_replicated_log(request);
    if (!report) return report.error();
    const auto& s = report->summary;
    std::string aside = report->moved_aside ? report->moved_aside->string() : "";
    print_outcome(json_,
           (blank_ ? "blanked replica " : "restored replica ") + path_ + ": positions " +
               std::to_string(s.begin) + " to " + std::to_string(s.end) + ", " +
               std::to_string(s.entries) + " entries" +
               (aside.empty() ? "" : "; the previous replica is kept at " + aside),
           {{"replica", path_},
            {"blank", blank_},
            {"log", summary_json(s)},
            {"moved_aside", aside.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(aside)}});
    return Ok{};
  }

 private:
  std::optional<std::string> archive_;
  std::string path_;
  bool blank_ = false;
  KeyFileOption key_file_;
  storage::AwsSettings aws_;
  ServiceOptions service_;
  bool json_ = false;
};

std::vector<std::unique_ptr<Command>> make_log_subcommands() {
  std::vector<std::unique_ptr<Command>> subcommands;
  subcommands.push_back(std::make_unique<LogInitializeCommand>());
  subcommands.push_back(std::make_unique<LogReadCommand>());
  subcommands.push_back(std::make_unique<LogBackupCommand>());
  subcommands.push_back(std::make_unique<LogRestoreCommand>());
  return subcommands;
}

class LogCommand : public Command {
 public:
  const char* name() const override { return "log"; }
  const char* example() const override {
    return "zk-tool log backup /backups/registry.tar.zst"
           " --path /var/lib/mesos/master/replicated_log";
  }
  const char* summary() const override {
    return "A Mesos replicated log replica (Mesos master registry, Aurora)";
  }

  void setup(CLI::App& app) override {
    app.require_subcommand(1);
    for (auto& subcommand : subcommands_) {
      parsed_by_.emplace_back(add_command(app, *subcommand), subcommand.get());
    }
  }

  Status run() override {
    for (auto& [sub, subcommand] : parsed_by_) {
      if (sub->parsed()) return subcommand->run();
    }
    return make_error(ErrorKind::Internal, "log: no subcommand was parsed");
  }

 private:
  std::vector<std::unique_ptr<Command>> subcommands_ = make_log_subcommands();
  std::vector<std::pair<CLI::App*, Command*>> parsed_by_;
};

}  // namespace

std::unique_ptr<Command> make_log_command() { return std::make_unique<LogCommand>(); }

}  // namespace zktool
