#include "ops/directory_swap.h"

#include <fcntl.h>

#include <sstream>

#include "util/fault_point.h"
#include "util/file_ops.h"
#include "util/unique_fd.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxJournal = 64 * 1024;

// "label=L\n", then per directory "live=P\naside=A\nstaged=R\n" (aside empty
// when nothing went aside).
std::string format_journal(const SwapJournal& journal) {
  std::string text = "label=" + journal.label + "\n";
  for (const SwapRecord& r : journal.records) {
    text.append("live=").append(r.live.string()).append("\naside=").append(r.aside.string());
    text.append("\nstaged=").append(r.replacement.string()).append("\n");
  }
  return text;
}

fs::path parent_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// `<live>.<label>-<stamp>`, numbered when a run re-done within the same
// second after a crash finds the stamp taken.
fs::path aside_name(const fs::path& live, const std::string& label, const std::string& stamp) {
  const std::string base = live.filename().string() + "." + label + "-" + stamp;
  fs::path to = live.parent_path() / base;
  std::error_code ec;
  for (int n = 2; fs::exists(fs::symlink_status(to, ec)); ++n) {
    to = live.parent_path() / (base + "-" + std::to_string(n));
  }
  return to;
}

bool is_aside_of(const fs::path& aside, const fs::path& live, const std::string& label) {
  return aside.parent_path() == live.parent_path() &&
         aside.filename().string().starts_with(live.filename().string() + "." + label + "-");
}

}  // namespace

fs::path swap_journal_beside(const fs::path& live) {
  fs::path journal = live;
  journal += ".zk-tool-restore";
  return journal;
}

Result<std::vector<fs::path>> swap_directories(const fs::path& journal_path,
                                               const std::vector<DirectorySwap>& swaps,
                                               const std::string& label,
                                               const std::string& fault_prefix) {
  const std::string stamp = utc_stamp();
  SwapJournal journal{label, {}};
  for (const DirectorySwap& swap : swaps) {
    std::error_code ec;
    const bool present = fs::exists(fs::symlink_status(swap.live, ec));
    journal.records.push_back(
        {swap.live, present ? aside_name(swap.live, label, stamp) : fs::path(),
         swap.replacement_named.empty() ? swap.replacement : swap.replacement_named});
  }
  if (Status s = write_file_atomically(journal_path, format_journal(journal), 0600); !s) {
    return s.error();
  }

  std::vector<std::pair<fs::path, fs::path>> done;  // (from, to) renames made
  auto undo = [&](const Error& failure) -> Error {
    std::string stuck;
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      if (Status back = rename_no_replace(it->second, it->first); !back) {
        stuck += "; " + it->first.string() + " is still at " + it->second.string() + " (" +
                 back.error().message + ")";
      }
    }
    if (stuck.empty()) {
      // Everything is where it was: a journal that cannot be removed reads as
      // a swap that never started, which is what it is.
      (void)remove_swap_journal(journal_path);
      return make_error(failure.kind, failure.message + "; every directory was put back");
    }
    return make_error(ErrorKind::Unsafe,
                      failure.message + "; putting the data back failed" + stuck);
  };
  std::vector<fs::path> asides;
  for (size_t i = 0; i < swaps.size(); ++i) {
    const fs::path& aside = journal.records[i].aside;
    if (aside.empty()) continue;
    if (Status s = rename_no_replace(swaps[i].live, aside); !s) return undo(s.error());
    done.emplace_back(swaps[i].live, aside);
    asides.push_back(aside);
    fault_point(fault_prefix + ".after-aside-" + std::to_string(i));
  }
  for (size_t i = 0; i < swaps.size(); ++i) {
    if (Status s = rename_no_replace(swaps[i].replacement, swaps[i].live); !s) {
      return undo(s.error());
    }
    done.emplace_back(swaps[i].replacement, swaps[i].live);
    fault_point(fault_prefix + ".after-rename-" + std::to_string(i));
  }
  // The swap is done; a journal that cannot be removed reads as a finished
  // swap next run (every live directory in place), which removes it.
  (void)remove_swap_journal(journal_path);
  return asides;
}

Result<std::optional<SwapJournal>> read_swap_journal(const fs::path& journal_path) {
  const fs::path dir = parent_of(journal_path);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return std::optional<SwapJournal>();  // no directory, no journal
  auto text = read_small_file_at(dir_fd.get(), journal_path.filename().string(), kMaxJournal);
  if (!text) return std::optional<SwapJournal>();
  auto foreign = [&] {
    return make_error(ErrorKind::Unsafe, journal_path.string() +
                                             " is not a swap journal zk-tool wrote; inspect the "
                                             "directories beside it by hand");
  };
  SwapJournal journal;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("label=")) {
      journal.label = line.substr(6);
    } else if (line.starts_with("live=")) {
      journal.records.push_back({line.substr(5), {}, {}});
    } else if (line.starts_with("aside=") && !journal.records.empty()) {
      journal.records.back().aside = line.substr(6);
    } else if (line.starts_with("staged=") && !journal.records.empty()) {
      journal.records.back().replacement = line.substr(7);
    } else {
      return foreign();
    }
  }
  if (journal.label.empty() || journal.records.empty()) return foreign();
  for (const SwapRecord& r : journal.records) {
    if (r.live.empty() || r.replacement.empty() ||
        (!r.aside.empty() && !is_aside_of(r.aside, r.live, journal.label))) {
      return foreign();
    }
  }
  return std::optional<SwapJournal>(std::move(journal));
}

Status remove_swap_journal(const fs::path& journal_path) {
  std::error_code ec;
  fs::remove(journal_path, ec);
  if (ec) {
    return make_error(ErrorKind::Io,
                      "cannot remove " + journal_path.string() + ": " + ec.message());
  }
  return fsync_path(parent_of(journal_path));
}

std::string describe_swap(const SwapJournal& journal) {
  std::string out;
  for (const SwapRecord& r : journal.records) {
    std::error_code ec;
    const bool live = fs::exists(fs::symlink_status(r.live, ec));
    const bool aside = !r.aside.empty() && fs::exists(fs::symlink_status(r.aside, ec));
    const bool staged = fs::exists(fs::symlink_status(r.replacement, ec));
    std::string where = r.live.string() + (live ? " is in place" : " is missing");
    if (aside) where += ", the data it held is at " + r.aside.string();
    if (staged) where += ", its replacement at " + r.replacement.string();
    out += (out.empty() ? "" : "; ") + where;
  }
  return out;
}

}  // namespace zktool
