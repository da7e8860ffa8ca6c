// Replacing live directories by staged ones, all or none, under a journal:
// the one mechanism behind a ZooKeeper restore and rollback (dataDir and
// dataLogDir) and a replicated-log restore (the replica).
//
// A swap moves every live directory aside as `<live>.<label>-<UTC stamp>`,
// then renames each replacement in. All asides come first, so that a crash
// part way never leaves one live directory replaced and another not (a
// dataDir with the new snapshots over a dataLogDir with the old logs). The
// journal exists exactly while the renames are under way: written and synced
// before the first, removed after the last. It names, per directory, the live
// path, where it went aside and where its replacement was, so that the next
// run (or the operator, with cat) can tell where each one is. What that run
// does about it is the caller's policy: a ZooKeeper restore completes the
// swap by running again; a replicated-log restore refuses and tells the
// operator which rename finishes or undoes it. The byte layout is in
// src/ARCHITECTURE.md ("The swap journal").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool {

struct DirectorySwap {
  std::filesystem::path live;         // may be missing: then nothing goes aside
  std::filesystem::path replacement;  // on live's file system; a /proc/self/fd path is fine
  // The replacement as the operator knows it (a scratch directory's created_as()), for the
  // journal; empty means `replacement`.
  std::filesystem::path replacement_named;
};

// One directory of a swap, as journaled. `aside` is empty when the live
// directory was missing, so nothing went aside.
struct SwapRecord {
  std::filesystem::path live;
  std::filesystem::path aside;
  std::filesystem::path replacement;
};

struct SwapJournal {
  std::string label;  // "pre-restore", "rolled-back": the asides' names
  std::vector<SwapRecord> records;
};

// `<live>.zk-tool-restore`, beside the first directory a swap replaces.
std::filesystem::path swap_journal_beside(const std::filesystem::path& live);

// Performs `swaps` under `journal` (replacing one an earlier run left, which
// the caller has settled) and returns the asides made, in order. A failure
// part way puts back what it moved, removes the journal and says so; if even
// that fails the error is ErrorKind::Unsafe, names where each directory is,
// and the journal stays (the caller says what it did with the service). `fault_prefix` names the crash tests' fault points
// (`<prefix>.after-aside-<i>`, `<prefix>.after-rename-<i>`).
Result<std::vector<std::filesystem::path>> swap_directories(
    const std::filesystem::path& journal, const std::vector<DirectorySwap>& swaps,
    const std::string& label, const std::string& fault_prefix);

// The journal an interrupted swap left at `journal`, if any. The file lies in
// a directory another user may own: a link or anything but a regular file
// reads as none, only its first 64 KiB are read, and a journal that is not
// one this code writes (an aside not named `<live>.<label>-…` beside its live
// directory) is ErrorKind::Unsafe naming the file.
Result<std::optional<SwapJournal>> read_swap_journal(const std::filesystem::path& journal);

// Removes the journal (if any) and syncs its directory.
Status remove_swap_journal(const std::filesystem::path& journal);

// "version-2 is at version-2.pre-restore-…, its replacement at …": where an
// interrupted swap left each directory that exists, for a message.
std::string describe_swap(const SwapJournal& journal);

}  // namespace zktool
