// The one no-replace rename: every publish and swap zk-tool makes goes through it.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2

namespace zktool {

// Renames `from` (relative to `from_dir`) to `to` (relative to `to_dir`), failing with EEXIST if
// `to` exists: 0, or -1 with errno. On file systems without RENAME_NOREPLACE (NFS among them) a
// file is hard-linked then unlinked instead, as atomic and never replacing; a directory cannot
// be, and fails with the rename's own errno.
inline int rename_no_replace_at(int from_dir, const char* from, int to_dir, const char* to) {
  if (::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0) return 0;
  const int refused = errno;
  if (refused != EINVAL && refused != ENOSYS) return -1;
  if (::linkat(from_dir, from, to_dir, to, 0) != 0) {
    errno = errno == EEXIST ? EEXIST : refused;
    return -1;
  }
  ::unlinkat(from_dir, from, 0);
  return 0;
}

}  // namespace zktool
