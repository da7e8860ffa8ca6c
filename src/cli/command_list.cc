// `zk-tool list --dir DIR`: the backups in a backup directory, newest first,
// each checked against its manifest's digests (or fully proven with
// --verify). Every other file is listed too, with why it is not a zk-tool
// backup: nothing is hidden. A damaged backup fails the command.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "util/printable.h"
#include "util/file_ops.h"
#include "ops/retention.h"
#include "ops/zk_archive.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using std::chrono::sys_seconds;

struct Listed {
  DirEntry entry;
  std::optional<sys_seconds> time;          // the name's, else the manifest's
  std::optional<std::string> verify_error;  // with --verify: empty when it proved
};

// "3d 4h", "5h 2m", "12m", "40s".
std::string format_age(std::chrono::seconds age) {
  using namespace std::chrono;
  if (age < 0s) return "future";
  const auto d = duration_cast<days>(age);
  const auto h = duration_cast<hours>(age - d);
  const auto m = duration_cast<minutes>(age - d - h);
  if (d.count() > 0) return std::to_string(d.count()) + "d " + std::to_string(h.count()) + "h";
  if (h.count() > 0) return std::to_string(h.count()) + "h " + std::to_string(m.count()) + "m";
  if (m.count() > 0) return std::to_string(m.count()) + "m";
  return std::to_string(age.count()) + "s";
}

const archive::ZooKeeperSummary& summary_of(const archive::Manifest& manifest) {
  return std::get<archive::ZooKeeperSummary>(manifest.summary);
}

class ListCommand : public Command {
 public:
  const char* name() const override { return "list"; }
  const char* example() const override {
    return "zk-tool list --dir /var/backups/zk-tool --verify";
  }
  const char* summary() const override {
    return "List the backups in a backup directory (backup --dir), newest first";
  }

  void setup(CLI::App& app) override {
    // Not required(): it may come from the config file (`dir = ...`).
    app.add_option("--dir", dir_, "The backup directory");
    app.add_flag("--verify", verify_,
                 "Prove each backup restores, as `verify` does (slow: extracts each one)");
    app.add_option("--staging-dir", staging_parent_,
                   "With --verify: where to extract (default: the temporary directory)");
    app.add_flag("--json", json_, "Print one JSON object");
    add_key_file_option(app, key_file_,
                        "The key of encrypted backups: shows what they hold, and lets --verify "
                        "prove them (without it they list by time and size)");
    add_snapshot_read_options(app, read_);
  }

  Status run() override {
    if (!dir_) return make_error(ErrorKind::Usage, "list needs --dir DIR");
    auto now = now_utc();
    if (!now) return now.error();
    auto key = key_file_.load();
    if (!key) return key.error();
    // --verify proves each backup, digests included: no need to read it twice.
    auto entries = scan_backup_dir(
        *dir_, verify_ ? BackupCheck::kManifestOnly : BackupCheck::kDigests, *key);
    if (!entries) return entries.error();
    std::vector<Listed> listed;
    size_t failed = 0;
    std::optional<fs::path> staging;
    if (verify_) {
      auto parent = staging_parent(staging_parent_);
      if (!parent) return parent.error();
      staging = *parent;
    }
    for (DirEntry& e : *entries) {
      Listed l{std::move(e), {}, {}};
      if (l.entry.manifest) l.time = l.entry.named_time.value_or(l.entry.manifest->created);
      if (!l.entry.manifest && l.entry.sealed) {
        l.time = l.entry.named_time.value_or(l.entry.sealed->created);
      }
      if (l.entry.damaged()) ++failed;
      if (verify_ && l.entry.manifest) {
        auto staged = stage_and_verify(*dir_ / l.entry.name, *staging, {read_, std::nullopt, *key});
        l.verify_error = staged ? std::string() : staged.error().message;
        if (!staged) ++failed;
      } else if (verify_ && l.entry.sealed && !l.entry.damaged()) {
        l.verify_error = "encrypted with key " + l.entry.sealed->key_id +
                         ": give that key (--encrypt-key-file) to prove it";
        ++failed;
      }
      listed.push_back(std::move(l));
    }
    // Backups newest first, then everything else by name.
    std::sort(listed.begin(), listed.end(), [](const Listed& a, const Listed& b) {
      if (a.time.has_value() != b.time.has_value()) return a.time.has_value();
      if (a.time != b.time) return *a.time > *b.time;
      return a.entry.name < b.entry.name;
    });
    if (json_) {
      print_json(listed, *now);
    } else {
      print_table(listed, *now);
    }
    if (failed > 0) {
      return make_error(ErrorKind::Corrupt, std::to_string(failed) + " backup(s) in " +
                                                dir_->string() +
                                                (verify_ ? " failed verification" : " are damaged"));
    }
    return Ok{};
  }

 private:
  void print_json(const std::vector<Listed>& listed, sys_seconds now) const {
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const Listed& l : listed) {
      nlohmann::ordered_json f;
      f["name"] = l.entry.name;
      f["size"] = l.entry.size;
      f["backup"] = l.entry.manifest.has_value();
      f["retention_managed"] = l.entry.ours();
      if (l.entry.sealed) f["encrypted"] = {{"key_id", l.entry.sealed->key_id}};
      if (!l.entry.manifest && l.entry.sealed) {
        // Without the key: only what lies outside the ciphertext.
        f["backup"] = true;
        f["time"] = format_utc(*l.time);
        f["age_seconds"] = (now - *l.time).count();
        f["created"] = format_utc(l.entry.sealed->created);
        f["intact"] = !l.entry.damaged();
        if (l.entry.damaged()) f["problem"] = l.entry.problem;
        if (l.verify_error) {
          f["verified"] = false;
          f["verify_error"] = *l.verify_error;
        }
        files.push_back(std::move(f));
        continue;
      }
      if (!l.entry.manifest) {
        f["problem"] = l.entry.problem;
        files.push_back(std::move(f));
        continue;
      }
      const archive::Manifest& m = *l.entry.manifest;
      const archive::ZooKeeperSummary& s = summary_of(m);
      f["time"] = format_utc(*l.time);
      f["age_seconds"] = (now - *l.time).count();
      f["created"] = format_utc(m.created);
      f["host"] = m.host;
      f["mode"] = archive::to_string(m.mode);
      f["snapshot_zxid"] = zs::zxid_hex(s.snapshot_zxid);
      f["last_zxid"] = zs::zxid_hex(s.last_zxid);
      f["znode_count"] = s.znode_count;
      f["digest_verified"] = s.digest_verified();
      f["proof"] = s.proof_name();
      f["intact"] = !l.entry.damaged();
      if (l.entry.damaged()) f["problem"] = l.entry.problem;
      if (l.verify_error) {
        f["verified"] = l.verify_error->empty();
        if (!l.verify_error->empty()) f["verify_error"] = *l.verify_error;
      }
      files.push_back(std::move(f));
    }
    nlohmann::ordered_json out;
    out["dir"] = dir_->string();
    out["now"] = format_utc(now);
    out["files"] = std::move(files);
    print_json_result(out);
  }

  void print_table(const std::vector<Listed>& listed, sys_seconds now) const {
    std::printf("%-20s  %-8s  %-18s  %8s  %12s  %-12s  %s\n", "TIME", "AGE", "LAST ZXID", "ZNODES",
                "SIZE", "DIGEST", "FILE");
    for (const Listed& l : listed) {
      if (!l.entry.manifest && l.entry.sealed) {
        std::printf("%-20s  %-8s  %-18s  %8s  %12llu  %-12s  %s\n", format_utc(*l.time).c_str(),
                    format_age(now - *l.time).c_str(), "-", "-",
                    static_cast<unsigned long long>(l.entry.size),
                    l.entry.damaged() ? "DAMAGED" : "encrypted", printable(l.entry.name).c_str());
        if (l.entry.damaged()) std::printf("  %s\n", printable(l.entry.problem).c_str());
        if (l.verify_error) std::printf("  verify failed: %s\n", printable(*l.verify_error).c_str());
        continue;
      }
      if (!l.entry.manifest) {
        std::printf("%-20s  %-8s  %-18s  %8s  %12llu  %-12s  %s: %s\n", "-", "-", "-", "-",
                    static_cast<unsigned long long>(l.entry.size), "-",
                    printable(l.entry.name).c_str(), printable(l.entry.problem).c_str());
        continue;
      }
      const archive::ZooKeeperSummary& s = summary_of(*l.entry.manifest);
      std::string digest = s.digest_verified() ? "verified" : "replayed";
      if (l.verify_error) digest = l.verify_error->empty() ? "proven" : "FAILED";
      if (l.entry.damaged()) digest = "DAMAGED";
      std::printf("%-20s  %-8s  %-18s  %8llu  %12llu  %-12s  %s\n", format_utc(*l.time).c_str(),
                  format_age(now - *l.time).c_str(), zs::zxid_hex(s.last_zxid).c_str(),
                  static_cast<unsigned long long>(s.znode_count),
                  static_cast<unsigned long long>(l.entry.size), digest.c_str(),
                  printable(l.entry.name).c_str());
      if (l.entry.damaged()) std::printf("  %s\n", printable(l.entry.problem).c_str());
      if (l.verify_error && !l.verify_error->empty()) {
        std::printf("  verify failed: %s\n", printable(*l.verify_error).c_str());
      }
    }
  }

  std::optional<fs::path> dir_;
  bool verify_ = false;
  std::optional<fs::path> staging_parent_;
  bool json_ = false;
  zs::SnapshotReadOptions read_;
  KeyFileOption key_file_;
};

}  // namespace

std::unique_ptr<Command> make_list_command() { return std::make_unique<ListCommand>(); }

}  // namespace zktool
