// Helpers shared by the replicated-log tests: scratch directories, a
// byte-exact picture of a directory, raw LevelDB access that bypasses the
// store, and running a command line.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "replicated_log/replica_store.h"
#include "../support/files.h"
#include "../support/process.h"

namespace zktool::replicated_log::testing {

using zktool::testing::TempDir;

// Every file under `dir` (relative path -> contents); a missing dir is empty.
std::map<std::string, std::string> read_tree(const std::filesystem::path& dir);

// All keys and values of a LevelDB database, read with LevelDB itself.
std::vector<std::pair<std::string, std::string>> raw_entries(const std::filesystem::path& dir);
// Puts raw keys and values into a LevelDB database, creating it if needed.
void raw_put(const std::filesystem::path& dir,
             const std::vector<std::pair<std::string, std::string>>& entries);

Action append_action(uint64_t position, std::string bytes, bool learned = true);
Action nop_action(uint64_t position, bool tombstone = false);
Action truncate_action(uint64_t position, uint64_t to, bool learned = true);
std::string record_bytes(const Action& action);

// A VOTING replica (promised 7) with appends, an unlearned append, a filler,
// a tombstone below the truncation and a learned truncation to 3: begin 3,
// end 8, 9 actions.
void write_sample_replica(const std::filesystem::path& dir);
// Every stored action of the replica, serialized, in position order.
std::vector<std::string> all_actions(const std::filesystem::path& dir);
// The names in `dir` (not recursive).
std::set<std::string> names_in(const std::filesystem::path& dir);

using CommandOutput = testsupport::CapturedRun;
// Runs `command` with /bin/sh, capturing stdout and stderr.
CommandOutput run_command(const std::string& command);
// `s` quoted for /bin/sh.
std::string shell_quote(const std::string& s);

}  // namespace zktool::replicated_log::testing
