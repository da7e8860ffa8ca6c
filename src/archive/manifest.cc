#include "archive/manifest.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/archive_path.h"
#include "util/sha256.h"
#include "util/utc_time.h"
#include "util/zxid.h"

namespace zktool::archive {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kZooKeeperKind = "zookeeper";
constexpr std::string_view kReplicatedLogKind = "mesos-replicated-log";
// The deepest a valid manifest nests is 3 (files[i].path); anything much
// deeper is refused before it can cost memory.
constexpr int kMaxDepth = 8;

// "0x" and 1 to 16 lowercase hex digits, within a non-negative Java long.
std::optional<int64_t> parse_zxid(std::string_view text) {
  if (!text.starts_with("0x") || text.size() < 3 || text.size() > 18) return std::nullopt;
  uint64_t value = 0;
  for (char c : text.substr(2)) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(c >= 'a' && c <= 'f')) return std::nullopt;
    value = value * 16 + static_cast<uint64_t>(digit ? c - '0' : c - 'a' + 10);
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

// Reads a parsed manifest. The first problem found is kept and every later
// read returns an empty value, so parsing goes straight through and reports
// that one problem.
class Checker {
 public:
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(const std::string& field, const std::string& what) {
    if (!failed())
      error_ = std::string(kManifestName) + ": " + quote_for_message(field) + " " + what;
  }

  // Checks that `value` is an object holding exactly `keys`.
  // `keys` must all be there; `optional` ones may be (fields added since version 1 was first written).
  bool object(const json& value, const std::string& field,
              std::initializer_list<std::string_view> keys,
              std::initializer_list<std::string_view> optional = {}) {
    if (failed()) return false;
    if (!value.is_object()) {
      fail(field, "must be an object");
      return false;
    }
    for (std::string_view key : keys) {
      if (!value.contains(key)) {
        fail(join(field, key), "is missing");
        return false;
      }
    }
    for (const auto& item : value.items()) {
      if (std::find(keys.begin(), keys.end(), item.key()) == keys.end() &&
          std::find(optional.begin(), optional.end(), item.key()) == optional.end()) {
        fail(join(field, item.key()), "is not a field of a version 1 manifest");
        return false;
      }
    }
    return true;
  }

  std::string string(const json& value, const std::string& field) {
    if (failed()) return {};
    if (!value.is_string()) {
      fail(field, "must be a string");
      return {};
    }
    return value.get<std::string>();
  }

  std::string nonempty_string(const json& value, const std::string& field) {
    std::string text = string(value, field);
    if (!failed() && text.empty()) fail(field, "must not be empty");
    return text;
  }

  uint64_t unsigned_number(const json& value, const std::string& field) {
    if (failed()) return 0;
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    if (value.is_number_integer()) {
      fail(field, "is negative (" + value.dump() + ")");
    } else {
      fail(field, "must be a non-negative integer");
    }
    return 0;
  }

  int64_t signed_number(const json& value, const std::string& field) {
    if (failed()) return 0;
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(field, "does not fit a signed 64-bit integer");
      return 0;
    }
    if (!value.is_number_integer()) {
      fail(field, "must be an integer");
      return 0;
    }
    return value.get<int64_t>();
  }

  int64_t zxid(const json& value, const std::string& field) {
    const std::string text = string(value, field);
    if (failed()) return 0;
    const auto zxid = parse_zxid(text);
    if (!zxid)
      fail(field, "is " + quote_for_message(text) + ", expected a hex zxid like \"0x100000002\"");
    return zxid.value_or(0);
  }

  const json& array(const json& value, const std::string& field) {
    static const json kEmpty = json::array();
    if (failed()) return kEmpty;
    if (!value.is_array()) {
      fail(field, "must be an array");
      return kEmpty;
    }
    return value;
  }

  static std::string join(const std::string& field, std::string_view key) {
    return field.empty() ? std::string(key) : field + "." + std::string(key);
  }
  static std::string index(const std::string& field, size_t i) {
    return field + "[" + std::to_string(i) + "]";
  }

 private:
  std::string error_;
};

// Parses JSON, refusing duplicate keys (nlohmann would keep the last one
// silently) and nesting deeper than any manifest needs.
Result<json> parse_json(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::string problem;
  const auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth && problem.empty()) problem = "nests deeper than a manifest does";
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second && problem.empty()) {
          problem = "has the key " + quote_for_message(parsed.get<std::string>()) +
                    " twice in one object";
        }
        break;
      default:
        break;
    }
    return problem.empty();
  };
  json doc = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (!problem.empty()) {
    return make_error(ErrorKind::Corrupt, std::string(kManifestName) + " " + problem);
  }
  if (doc.is_discarded()) {
    return make_error(ErrorKind::Corrupt, std::string(kManifestName) + " is not valid JSON");
  }
  return doc;
}

void read_source(Checker& check, const json& value, Source& source) {
  if (!check.object(value, "source", {"paths", "unit"})) return;
  const json& paths = check.array(value["paths"], "source.paths");
  if (!check.failed() && paths.empty()) check.fail("source.paths", "must not be empty");
  for (size_t i = 0; i < paths.size(); ++i) {
    source.paths.push_back(check.nonempty_string(paths[i], Checker::index("source.paths", i)));
  }
  if (!value["unit"].is_null()) source.unit = check.nonempty_string(value["unit"], "source.unit");
}

void read_files(Checker& check, const json& value, Kind kind, std::vector<FileEntry>& files) {
  const std::string_view root = kind == Kind::ZooKeeper ? kZooKeeperRoot : kReplicatedLogRoot;
  const json& array = check.array(value, "files");
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < array.size() && !check.failed(); ++i) {
    const std::string field = Checker::index("files", i);
    if (!check.object(array[i], field, {"path", "size", "sha256"})) return;
    FileEntry file;
    file.path = check.string(array[i]["path"], field + ".path");
    file.size = check.unsigned_number(array[i]["size"], field + ".size");
    file.sha256 = check.string(array[i]["sha256"], field + ".sha256");
    if (check.failed()) return;
    if (auto reason = unsafe_path_reason(file.path)) {
      check.fail(field + ".path", quote_for_message(file.path) + ": " + *reason);
    } else if (path_root(file.path) != root) {
      check.fail(field + ".path", quote_for_message(file.path) + " is outside " +
                                      std::string(root) + "/, the root of a " +
                                      std::string(to_string(kind)) + " archive");
    } else if (!seen.insert(file.path).second) {
      check.fail(field + ".path", quote_for_message(file.path) + " is listed twice");
    } else if (!is_sha256_hex(file.sha256)) {
      check.fail(field + ".sha256", "is not 64 lowercase hex digits");
    }
    files.push_back(std::move(file));
  }
}

ZooKeeperSummary read_zookeeper(Checker& check, const json& value) {
  ZooKeeperSummary zk;
  const std::string f(kZooKeeperRoot);
  if (!check.object(value, f,
                    {"snapshot_zxid", "last_zxid", "znode_count", "ephemeral_count",
                     "session_count", "digest"},
                    {"proof"})) {
    return zk;
  }
  zk.snapshot_zxid = check.zxid(value["snapshot_zxid"], f + ".snapshot_zxid");
  zk.last_zxid = check.zxid(value["last_zxid"], f + ".last_zxid");
  zk.znode_count = check.unsigned_number(value["znode_count"], f + ".znode_count");
  zk.ephemeral_count = check.unsigned_number(value["ephemeral_count"], f + ".ephemeral_count");
  zk.session_count = check.unsigned_number(value["session_count"], f + ".session_count");
  if (!value["digest"].is_null()) zk.digest = check.signed_number(value["digest"], f + ".digest");
  if (value.contains("proof")) {
    zk.proof = check.string(value["proof"], f + ".proof");
    if (!check.failed() && zk.proof != kProofDigest && zk.proof != kProofReplay) {
      check.fail(f + ".proof", "is \"" + zk.proof + "\", not \"digest\" or \"replay\"");
    }
    if (!check.failed() && !zk.digest) check.fail(f + ".digest", "is null but a proof is named");
  }
  if (!check.failed() && zk.last_zxid < zk.snapshot_zxid) {
    check.fail(f + ".last_zxid", "is below snapshot_zxid");
  }
  return zk;
}

ReplicatedLogSummary read_replicated_log(Checker& check, const json& value) {
  ReplicatedLogSummary log;
  const std::string f(kReplicatedLogRoot);
  if (!check.object(value, f, {"begin", "end", "entries"})) return log;
  log.begin = check.unsigned_number(value["begin"], f + ".begin");
  log.end = check.unsigned_number(value["end"], f + ".end");
  log.entries = check.unsigned_number(value["entries"], f + ".entries");
  if (!check.failed() && log.end < log.begin) check.fail(f + ".end", "is below begin");
  return log;
}

}  // namespace

std::string_view to_string(Kind kind) {
  return kind == Kind::ZooKeeper ? kZooKeeperKind : kReplicatedLogKind;
}

std::string_view to_string(Mode mode) { return mode == Mode::Hot ? "hot" : "cold"; }

Kind Manifest::kind() const {
  return std::holds_alternative<ZooKeeperSummary>(summary) ? Kind::ZooKeeper : Kind::ReplicatedLog;
}

namespace {

// Every field but the seal, in the order to_json() writes them.
ordered_json manifest_document(const Manifest& manifest) {
  ordered_json doc;
  doc["format"] = kFormatName;
  doc["version"] = kFormatVersion;
  doc["kind"] = to_string(manifest.kind());
  doc["created"] = format_utc(manifest.created);
  doc["host"] = manifest.host;
  doc["tool_version"] = manifest.tool_version;
  doc["mode"] = to_string(manifest.mode);
  doc["source"]["paths"] = manifest.source.paths;
  doc["source"]["unit"] = manifest.source.unit ? ordered_json(*manifest.source.unit) : nullptr;
  doc["files"] = ordered_json::array();
  for (const FileEntry& file : manifest.files) {
    doc["files"].push_back({{"path", file.path}, {"size", file.size}, {"sha256", file.sha256}});
  }
  if (const auto* zk = std::get_if<ZooKeeperSummary>(&manifest.summary)) {
    doc[kZooKeeperRoot] = {
        {"snapshot_zxid", zxid_hex(zk->snapshot_zxid)},
        {"last_zxid", zxid_hex(zk->last_zxid)},
        {"znode_count", zk->znode_count},
        {"ephemeral_count", zk->ephemeral_count},
        {"session_count", zk->session_count},
        {"digest", zk->digest ? ordered_json(*zk->digest) : nullptr},
    };
    if (!zk->proof.empty()) doc[kZooKeeperRoot]["proof"] = zk->proof;
  } else {
    const auto& log = std::get<ReplicatedLogSummary>(manifest.summary);
    doc[kReplicatedLogRoot] = {{"begin", log.begin}, {"end", log.end}, {"entries", log.entries}};
  }
  return doc;
}

// The SHA-256 of the manifest's values written out as to_json() writes them:
// a value changed anywhere (a flipped bit in `host` too) no longer matches,
// while a change that leaves every value alone (spacing) does not matter.
std::string seal_of(const Manifest& manifest) {
  const std::string text = manifest_document(manifest).dump(2);
  Sha256 hash;
  hash.update(text.data(), text.size());
  return hash.finish_hex();
}

}  // namespace

std::string to_json(const Manifest& manifest) {
  ordered_json doc = manifest_document(manifest);
  doc[kSealField] = seal_of(manifest);
  return doc.dump(2) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) return parsed.error();
  // The seal is checked last, against the values read; manifests written
  // before zk-tool sealed them have none.
  std::optional<json> seal;
  if (parsed->is_object() && parsed->contains(kSealField)) {
    seal = (*parsed)[kSealField];
    parsed->erase(kSealField);
  }
  const json& doc = *parsed;
  Checker check;
  if (!doc.is_object()) {
    return make_error(ErrorKind::Corrupt, std::string(kManifestName) + " is not a JSON object");
  }
  // Format and version first: another format or a later version may have
  // other fields, and saying so is more useful than naming one of them.
  for (std::string_view key : {"format", "version", "kind"}) {
    if (!doc.contains(key)) check.fail(std::string(key), "is missing");
  }
  const std::string format = check.string(doc.value("format", json()), "format");
  if (!check.failed() && format != kFormatName) {
    check.fail("format",
               "is " + quote_for_message(format) + ", expected " + quote_for_message(kFormatName));
  }
  const uint64_t version = check.unsigned_number(doc.value("version", json()), "version");
  if (!check.failed() && version != kFormatVersion) {
    check.fail("version", "is " + std::to_string(version) + "; this zk-tool reads version " +
                              std::to_string(kFormatVersion));
  }
  const std::string kind_name = check.string(doc.value("kind", json()), "kind");
  if (!check.failed() && kind_name != kZooKeeperKind && kind_name != kReplicatedLogKind) {
    check.fail("kind", "is " + quote_for_message(kind_name) + ", expected " +
                           quote_for_message(kZooKeeperKind) + " or " +
                           quote_for_message(kReplicatedLogKind));
  }
  if (check.failed()) return make_error(ErrorKind::Corrupt, check.error());

  const Kind kind = kind_name == kZooKeeperKind ? Kind::ZooKeeper : Kind::ReplicatedLog;
  const std::string_view summary_key =
      kind == Kind::ZooKeeper ? kZooKeeperRoot : kReplicatedLogRoot;
  check.object(doc, "",
               {"format", "version", "kind", "created", "host", "tool_version", "mode", "source",
                "files", summary_key});
  Manifest manifest;
  const std::string created = check.string(doc.value("created", json()), "created");
  if (!check.failed()) {
    const auto time = parse_utc(created);
    if (!time) {
      check.fail("created", "is " + quote_for_message(created) +
                                ", expected UTC ISO-8601 like \"2024-05-01T12:00:00Z\"");
    }
    manifest.created = time.value_or(std::chrono::sys_seconds{});
  }
  manifest.host = check.nonempty_string(doc.value("host", json()), "host");
  manifest.tool_version = check.nonempty_string(doc.value("tool_version", json()), "tool_version");
  const std::string mode = check.string(doc.value("mode", json()), "mode");
  if (!check.failed() && mode != "hot" && mode != "cold") {
    check.fail("mode", "is " + quote_for_message(mode) + ", expected \"hot\" or \"cold\"");
  }
  manifest.mode = mode == "hot" ? Mode::Hot : Mode::Cold;
  if (!check.failed()) read_source(check, doc["source"], manifest.source);
  if (!check.failed()) read_files(check, doc["files"], kind, manifest.files);
  if (!check.failed()) {
    if (kind == Kind::ZooKeeper) {
      manifest.summary = read_zookeeper(check, doc[summary_key]);
    } else {
      manifest.summary = read_replicated_log(check, doc[summary_key]);
    }
  }
  if (!check.failed() && seal) {
    const std::string recorded = check.string(*seal, std::string(kSealField));
    if (!check.failed() && !is_sha256_hex(recorded)) {
      check.fail(std::string(kSealField), "is not 64 lowercase hex digits");
    } else if (!check.failed() && recorded != seal_of(manifest)) {
      check.fail(std::string(kSealField),
                 "does not match the manifest's other fields: the manifest was altered");
    }
  }
  if (check.failed()) return make_error(ErrorKind::Corrupt, check.error());
  return manifest;
}

Status validate(const Manifest& manifest) {
  auto parsed = parse_manifest(to_json(manifest));
  if (!parsed) return parsed.error();
  return Ok{};
}

}  // namespace zktool::archive
