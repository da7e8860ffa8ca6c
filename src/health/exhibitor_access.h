// The Exhibitor options as the command line and zk-tool.conf give them (file
// names), checked and read into the ExhibitorEndpoint the client uses.
#pragma once

#include <cstddef>
#include <string>

#include "util/result.h"
#include "health/exhibitor_client.h"

namespace zktool::health {

struct ExhibitorOptions {
  std::string url = kDefaultExhibitorStatusUrl;
  std::string ca_file;     // --exhibitor-ca
  std::string cert_file;   // --exhibitor-cert
  std::string key_file;    // --exhibitor-key
  std::string token_file;  // --exhibitor-token-file
};

// A token is a short line; anything larger is not a token file.
inline constexpr size_t kMaxTokenFileBytes = 64 * 1024;

// The token in `path`: one line of at most kMaxTokenFileBytes, its trailing
// newline (or CRLF) stripped. The file is opened without following a link
// (O_NOFOLLOW) and must be a regular file. Usage for a link, not a regular
// file, too large, empty, or more than one line of printable text; Io when it
// cannot be read. Messages name the file, never what it holds.
Result<std::string> read_token_file(const std::string& path);

// The endpoint for `options`: certificate and key both or neither (Usage), the
// CA bundle, certificate and key readable (Io naming the file), the token read.
Result<ExhibitorEndpoint> resolve_exhibitor(const ExhibitorOptions& options);

}  // namespace zktool::health
