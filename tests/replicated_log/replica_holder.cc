// Holds a replica open the way a running Mesos master or Aurora scheduler
// does (LevelDB open, so its LOCK is taken), as the process of a test unit.
//
//   replica_holder DIR READY_FILE [--ignore-term]
//
// Opens DIR (creating an empty database if missing, as Mesos does), then
// writes "<pid> <keys>" to READY_FILE (atomically) so a test knows which
// process holds which replica, and sleeps until killed. --ignore-term makes
// it a unit that does not stop on SIGTERM.
#include <leveldb/db.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3 || (argc == 4 && std::strcmp(argv[3], "--ignore-term") != 0) || argc > 4) {
    std::fprintf(stderr, "usage: replica_holder DIR READY_FILE [--ignore-term]\n");
    return 2;
  }
  if (argc == 4) ::signal(SIGTERM, SIG_IGN);
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* opened = nullptr;
  leveldb::Status status = leveldb::DB::Open(options, argv[1], &opened);
  if (!status.ok()) {
    std::fprintf(stderr, "replica_holder: %s\n", status.ToString().c_str());
    return 1;
  }
  std::unique_ptr<leveldb::DB> db(opened);
  long keys = 0;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++keys;
  it.reset();

  const std::string ready = argv[2];
  const std::string partial = ready + ".partial";
  std::ofstream(partial) << ::getpid() << " " << keys << "\n";
  if (std::rename(partial.c_str(), ready.c_str()) != 0) return 1;
  for (;;) ::pause();
}
