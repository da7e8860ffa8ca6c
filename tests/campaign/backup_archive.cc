#include "backup_archive.h"

#include "archive/archive_writer.h"
#include "snapshot/zookeeper_state.h"
#include "ops/zk_archive.h"

namespace zktool::testing {

Result<archive::Manifest> write_backup_archive(const snapshot::DataDirs& dirs,
                                               const std::filesystem::path& out,
                                               archive::Compression compression) {
  auto state = snapshot::load_state(dirs);
  if (!state) return state.error();
  auto writer = archive::ArchiveWriter::open(out, {compression, std::nullopt, 1});
  if (!writer) return writer.error();
  for (const ArchivedFile& f : files_to_archive(*state)) {
    archive::AddOptions add;
    add.length = f.length;
    if (Status s = writer->add_file(f.archive_path, f.source, add); !s) return s.error();
  }
  archive::Manifest manifest;
  manifest.host = "zk-tool-test";
  manifest.tool_version = std::string("0");
  manifest.source.paths = {dirs.snap_dir.string(), dirs.log_dir.string()};
  manifest.summary = summarize(*state);
  return writer->commit(std::move(manifest));
}

}  // namespace zktool::testing
