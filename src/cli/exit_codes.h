// The process exit codes zk-tool documents in the README. Scripts and the
// systemd units depend on these numbers: never renumber, only append.
#pragma once

#include "util/result.h"

namespace zktool {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,        // a bug; the message says what invariant broke
  kExitUsage = 2,           // bad command line or configuration
  kExitCorrupt = 3,         // an archive or data directory failed verification
  kExitIo = 4,              // a file or directory could not be read or written
  kExitServiceControl = 5,  // systemd did not stop or start the unit
  kExitUnhealthy = 6,       // the ensemble did not become healthy
  kExitUnsafe = 7,          // refused: going on could lose data
  kExitLocked = 8,          // another zk-tool run holds the lock
  kExitTlsUntrusted = 9,    // a server's TLS certificate is not trusted
  kExitCredentialsRefused = 10,  // a server refused our client certificate or token
  kExitWrongKey = 11,       // an encrypted archive, and no key or another key given
  kExitStoreUnavailable = 12,  // an object store failed or refused the request, after retries
};

inline int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return kExitUsage;
    case ErrorKind::Corrupt: return kExitCorrupt;
    case ErrorKind::Io: return kExitIo;
    case ErrorKind::ServiceControl: return kExitServiceControl;
    case ErrorKind::Unhealthy: return kExitUnhealthy;
    case ErrorKind::Unsafe: return kExitUnsafe;
    case ErrorKind::Locked: return kExitLocked;
    case ErrorKind::TlsUntrusted: return kExitTlsUntrusted;
    case ErrorKind::CredentialsRefused: return kExitCredentialsRefused;
    case ErrorKind::WrongKey: return kExitWrongKey;
    case ErrorKind::StoreUnavailable: return kExitStoreUnavailable;
    case ErrorKind::Internal: return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace zktool
