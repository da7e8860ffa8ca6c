// Real archives for tests that need them without a running ZooKeeper: the
// restore set of a data directory written by the real ArchiveWriter with the
// files and manifest summary `zk-tool backup` gives it (src/ops/zk_archive.h).
#pragma once

#include <filesystem>

#include "archive/compression.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "snapshot/data_dir.h"

namespace zktool::testing {

// `out` must not exist. Returns the manifest as written.
Result<archive::Manifest> write_backup_archive(const snapshot::DataDirs& dirs,
                                               const std::filesystem::path& out,
                                               archive::Compression compression);

}  // namespace zktool::testing
