// The corruption campaign's two halves. Each applies `mutations` random
// mutations (mutator.h) and sorts every outcome: refused (detected), accepted
// but provably harmless (the reason is tallied), or a failure (described).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "archive/compression.h"
#include "util/result.h"
#include "snapshot/data_dir.h"

namespace zktool::testing {

struct Tally {
  uint64_t mutations = 0;
  uint64_t detected = 0;
  std::map<std::string, uint64_t> detected_by;  // data-dir half: how it was reported
  std::map<std::string, uint64_t> harmless;     // why an accepted mutation changed nothing
  std::vector<std::string> failures;
};

// Archives of `dirs`' restore set written by the real writer, mutated, then
// verified as restore does (stage_and_verify). An accepted mutant is harmless
// only when every extracted file is byte-identical to the original's.
// `work` is a scratch directory.
Result<Tally> archive_campaign(const snapshot::DataDirs& dirs, archive::Compression compression,
                               uint64_t mutations, std::mt19937_64& rng,
                               const std::filesystem::path& work);

// A copy of `dirs` in `work` with one file mutated at a time, loaded as
// inspect does (load_state): a corrupt newest snapshot must fall back to the
// previous one and replay to the same tree; a corrupt log must be reported,
// or, for a torn tail of the last log, load exactly the transactions before
// it; damage to files ZooKeeper never reads must change nothing.
Result<Tally> data_dir_campaign(const snapshot::DataDirs& dirs, uint64_t mutations,
                                std::mt19937_64& rng, const std::filesystem::path& work);

}  // namespace zktool::testing
