#include "snapshot/data_dir.h"

#include <algorithm>
#include <system_error>

#include "snapshot/snapshot_file.h"

namespace zktool::snapshot {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

Result<std::vector<ZkFile>> list_prefixed(const fs::path& dir, std::string_view prefix) {
  std::vector<ZkFile> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    auto zxid = zxid_from_file_name(name, prefix);
    if (!zxid) continue;
    // zk-tool runs as root here and reads what the directory's owner could not: a link named
    // like ZooKeeper's files would hand it any file of the machine. Never followed; refused.
    if (it->is_symlink(ec)) {
      return make_error(ErrorKind::Unsafe, it->path().string() +
                                               " is a symbolic link; zk-tool follows no link "
                                               "inside a data directory: replace it by the file");
    }
    if (it->is_regular_file(ec)) files.push_back(ZkFile{it->path(), *zxid});
  }
  if (ec) return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
  return files;
}

}  // namespace

Result<DataDirs> resolve_data_dirs(const fs::path& dir,
                                   const std::optional<fs::path>& data_log_dir) {
  if (!is_dir(dir)) return make_error(ErrorKind::Io, dir.string() + ": no such directory");
  DataDirs dirs;
  if (is_dir(dir / "snapshot") && is_dir(dir / "transactions")) {
    dirs.snap_dir = dir / "snapshot" / "version-2";
    dirs.log_dir = dir / "transactions" / "version-2";
  } else if (is_dir(dir / "version-2")) {
    dirs.snap_dir = dir / "version-2";
    dirs.log_dir = dir / "version-2";
  } else if (dir.filename() == "version-2") {
    dirs.snap_dir = dir;
    dirs.log_dir = dir;
  } else {
    return make_error(ErrorKind::Io, dir.string() +
                                         ": not a ZooKeeper data directory (no version-2/, and no "
                                         "snapshot/ and transactions/)");
  }
  if (data_log_dir) {
    dirs.log_dir = data_log_dir->filename() == "version-2" ? *data_log_dir
                                                           : *data_log_dir / "version-2";
  }
  for (const fs::path* p : {&dirs.snap_dir, &dirs.log_dir}) {
    if (!is_dir(*p)) return make_error(ErrorKind::Io, p->string() + ": no such directory");
  }
  return dirs;
}

Result<DataDirListing> list_data_dirs(const DataDirs& dirs) {
  DataDirListing listing;
  auto snaps = list_prefixed(dirs.snap_dir, "snapshot");
  if (!snaps) return snaps.error();
  auto logs = list_prefixed(dirs.log_dir, "log");
  if (!logs) return logs.error();
  listing.snapshots = std::move(snaps.value());
  listing.logs = std::move(logs.value());
  std::sort(listing.snapshots.begin(), listing.snapshots.end(),
            [](const ZkFile& a, const ZkFile& b) { return a.zxid > b.zxid; });
  std::sort(listing.logs.begin(), listing.logs.end(),
            [](const ZkFile& a, const ZkFile& b) { return a.zxid < b.zxid; });
  return listing;
}

std::vector<ZkFile> logs_for_snapshot(const std::vector<ZkFile>& logs, Zxid snapshot_zxid) {
  Zxid start = 0;
  for (const ZkFile& log : logs) {
    if (log.zxid > snapshot_zxid) break;
    start = std::max(start, log.zxid);
  }
  std::vector<ZkFile> selected;
  for (const ZkFile& log : logs) {
    if (log.zxid >= start) selected.push_back(log);
  }
  return selected;
}

}  // namespace zktool::snapshot
