// fuzz_make_seeds OUT DATA: writes a seed corpus per target under OUT/<target>/
// from the real ZooKeeper 3.8 files in DATA (tests/data/zk38): its snapshots
// and logs, archives of its restore set in every compression written by the
// real writer, their manifests, and Exhibitor status bodies of each shape.
#include <cstdio>
#include <filesystem>
#include <string>

#include "../support/files.h"
#include "backup_archive.h"

namespace {

namespace fs = std::filesystem;
using zktool::testing::write_file;

void copy_all(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT DATA\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1], data = argv[2];
  fs::remove_all(out);
  copy_all(data / "data" / "version-2", out / "snapshot");
  copy_all(data / "logs" / "version-2", out / "txn_log");

  const zktool::snapshot::DataDirs dirs{data / "data" / "version-2", data / "logs" / "version-2"};
  fs::create_directories(out / "archive");
  for (auto compression : {zktool::archive::Compression::Zstd, zktool::archive::Compression::Gzip,
                           zktool::archive::Compression::None}) {
    std::string name(zktool::archive::to_string(compression));
    auto manifest = zktool::testing::write_backup_archive(dirs, out / "archive" / name, compression);
    if (!manifest) {
      std::fprintf(stderr, "%s\n", manifest.error().message.c_str());
      return 1;
    }
    if (compression == zktool::archive::Compression::None) {
      write_file(out / "manifest" / "backup.json", zktool::archive::to_json(*manifest));
    }
  }

  const fs::path status = out / "exhibitor_status";
  write_file(status / "ensemble.json",
             R"([{"hostname":"10.0.0.1","code":3,"description":"serving","isLeader":true},)"
             R"({"hostname":"10.0.0.2","code":3,"description":"serving","isLeader":false},)"
             R"({"hostname":"10.0.0.3","code":1,"description":"down","isLeader":false}])");
  write_file(status / "latent.json",
             R"([{"hostname":"m1","code":0,"description":"latent","isLeader":false,"x":[1.5]}])");
  write_file(status / "empty.json", "[]");
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}
