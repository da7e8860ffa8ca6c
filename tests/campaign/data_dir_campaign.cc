#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../support/files.h"
#include "campaign.h"
#include "mutator.h"
#include "snapshot/zookeeper_state.h"

namespace zktool::testing {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

// What a load ends with: equal facts mean the same replayed tree (the digest
// covers every path, datum and stat).
struct Facts {
  zs::Zxid last_zxid = 0;
  size_t znodes = 0;
  size_t sessions = 0;
  int64_t digest = 0;
  bool operator==(const Facts&) const = default;
};

Facts facts_of(const zs::ZkState& state) {
  return {state.last_zxid, state.tree.node_count(), state.tree.sessions().size(),
          state.tree.digest().value(zs::DigestCharset::Utf8)};
}

std::string hex(zs::Zxid zxid) { return zs::zxid_hex(zxid); }

enum class Role { NewestSnapshot, LastLog, EarlierLog, Unread };

struct DataFile {
  fs::path path;
  std::string contents;
  Role role = Role::Unread;
};

class Judge {
 public:
  Judge(const zs::DataDirs& pristine, const zs::ZkState& baseline)
      : pristine_(pristine),
        baseline_(facts_of(baseline)),
        baseline_snapshot_(baseline.snapshot.filename().string()) {}

  // "" when the outcome is what ZooKeeper would do (`reason` says which),
  // otherwise what went wrong.
  std::string judge(const DataFile& file, const Result<zs::ZkState>& state, std::string& reason) {
    const std::string name = file.path.filename().string();
    if (!state || state->digest.verified() == false) {
      reason = !state ? "refused: " + kind_of(state.error().message) : "digest mismatch reported";
      if (file.role == Role::LastLog || file.role == Role::EarlierLog) return "";
      return "refused although ZooKeeper would load the data: " +
             (state ? std::string("digest mismatch") : state.error().message);
    }
    const Facts got = facts_of(*state);
    const std::string loaded = state->snapshot.filename().string();
    switch (file.role) {
      case Role::NewestSnapshot:
        if (loaded == baseline_snapshot_) {
          reason = "the damaged snapshot still loads to the same tree";
        } else {
          reason = "fell back to the previous snapshot, same tree";
          bool named = !state->skipped.empty() &&
                       state->skipped.front().file.filename() == baseline_snapshot_;
          if (!named) return "fell back to " + loaded + " without naming " + name + " as skipped";
        }
        return got == baseline_ ? "" : "loaded a different tree (last zxid " + hex(got.last_zxid) + ")";
      case Role::LastLog:
      case Role::EarlierLog: {
        if (loaded != baseline_snapshot_) return "loaded " + loaded + " instead of the newest snapshot";
        if (got == baseline_) {
          reason = "the damaged log still replays to the same tree";
          return "";
        }
        if (file.role == Role::EarlierLog || got.last_zxid >= baseline_.last_zxid) {
          return "accepted a damaged log with a different tree (last zxid " + hex(got.last_zxid) + ")";
        }
        reason = "torn tail of the last log: loaded the transactions before it";
        return got == prefix(got.last_zxid) ? ""
                                            : "the replayed tree differs from the true one at " +
                                                  hex(got.last_zxid);
      }
      case Role::Unread:
        reason = "ZooKeeper never reads the damaged file";
        return loaded == baseline_snapshot_ && got == baseline_ ? "" : "the damage changed the load";
    }
    return "unreachable";
  }

 private:
  // An error without its file name and numbers: the kind of refusal.
  static std::string kind_of(const std::string& message) {
    size_t colon = message.find(": ");
    std::string rest = colon == std::string::npos ? message : message.substr(colon + 2), kind;
    for (size_t i = 0; i < rest.size() && kind.size() < 90; ++i) {
      bool number = std::isdigit(static_cast<unsigned char>(rest[i])) &&
                    (i == 0 || !std::isalnum(static_cast<unsigned char>(rest[i - 1])));
      if (!number) {
        kind += rest[i];
        continue;
      }
      while (i + 1 < rest.size() && std::isalnum(static_cast<unsigned char>(rest[i + 1]))) ++i;
      kind += 'N';
    }
    return kind;
  }

  // The true tree after `zxid`: the undamaged data replayed up to it.
  Facts prefix(zs::Zxid zxid) {
    auto it = prefixes_.find(zxid);
    if (it != prefixes_.end()) return it->second;
    zs::LoadOptions options;
    options.up_to_zxid = zxid;
    auto state = zs::load_state(pristine_, options);
    Facts f = state ? facts_of(*state) : Facts{};
    prefixes_[zxid] = f;
    return f;
  }

  zs::DataDirs pristine_;
  Facts baseline_;
  std::string baseline_snapshot_;
  std::map<zs::Zxid, Facts> prefixes_;
};

}  // namespace

Result<Tally> data_dir_campaign(const zs::DataDirs& dirs, uint64_t mutations,
                                std::mt19937_64& rng, const fs::path& work) {
  const zs::DataDirs copy{work / "data" / "version-2", work / "logs" / "version-2"};
  fs::remove_all(work / "data");
  fs::remove_all(work / "logs");
  fs::create_directories(copy.snap_dir);
  fs::create_directories(copy.log_dir);
  fs::copy(dirs.snap_dir, copy.snap_dir);
  fs::copy(dirs.log_dir, copy.log_dir);
  auto baseline = zs::load_state(copy);
  if (!baseline) return baseline.error();
  if (!baseline->skipped.empty()) {
    return make_error(ErrorKind::Internal, "the undamaged data already skips a snapshot");
  }

  std::vector<DataFile> files;
  for (const fs::path& dir : {copy.snap_dir, copy.log_dir}) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      DataFile f{e.path(), read_file(e.path()), Role::Unread};
      if (e.path() == baseline->snapshot) f.role = Role::NewestSnapshot;
      for (size_t i = 0; i < baseline->logs.size(); ++i) {
        if (e.path() == baseline->logs[i].file) {
          f.role = i + 1 == baseline->logs.size() ? Role::LastLog : Role::EarlierLog;
        }
      }
      files.push_back(std::move(f));
    }
  }
  std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.path < b.path; });

  Judge judge(dirs, *baseline);
  Tally tally;
  // Each role is damaged as often as the others, whatever the number of files in it.
  std::map<Role, std::vector<const DataFile*>> by_role;
  for (const DataFile& f : files) by_role[f.role].push_back(&f);
  std::vector<std::vector<const DataFile*>> roles;
  for (auto& [role, members] : by_role) roles.push_back(members);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (uint64_t i = 0; i < mutations; ++i) {
    const std::vector<const DataFile*>& role = roles[pick(roles.size())];
    const DataFile& file = *role[pick(role.size())];
    Mutation m;
    write_file(file.path, mutate(file.contents, rng, m));
    ++tally.mutations;
    std::string reason;
    std::string failure = judge.judge(file, zs::load_state(copy), reason);
    write_file(file.path, file.contents);
    if (!failure.empty()) {
      tally.failures.push_back(file.path.filename().string() + ", " + m.describe() + ": " + failure);
    } else if (reason.starts_with("refused") || reason.starts_with("digest") ||
               reason.starts_with("fell back")) {
      ++tally.detected;
      ++tally.detected_by[reason];
    } else {
      ++tally.harmless[reason];
    }
  }
  return tally;
}

}  // namespace zktool::testing
