// Certificates made at test time with the OpenSSL API, for the Exhibitor
// fixture's HTTPS: CAs, server and client certificates, and certificates
// already expired (which the openssl command line of OpenSSL 3.0 cannot date
// in the past). EC P-256 keys; everything written as PEM into a directory.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

struct CertFiles {
  std::filesystem::path cert;  // PEM certificate
  std::filesystem::path key;   // PEM private key, unencrypted
};

enum class CertUse { kServer, kClient };

class TestCa {
 public:
  // A self-signed CA named `name`, written to DIR/name.crt and DIR/name.key.
  static Result<TestCa> create(const std::filesystem::path& dir, const std::string& name);

  TestCa(TestCa&&) noexcept;
  TestCa& operator=(TestCa&&) noexcept;
  ~TestCa();

  const std::filesystem::path& cert_file() const { return files_.cert; }

  // A certificate for `name`, signed by this CA, valid from now + not_before
  // to now + not_after (negative: in the past), with `sans` as its subject
  // alternative names (an IP address or a DNS name each). Written to
  // DIR/name.crt and DIR/name.key beside the CA's.
  Result<CertFiles> issue(const std::string& name, CertUse use, const std::vector<std::string>& sans,
                          std::chrono::seconds not_before, std::chrono::seconds not_after) const;

 private:
  struct Keys;
  TestCa(CertFiles files, std::unique_ptr<Keys> keys);

  CertFiles files_;
  std::unique_ptr<Keys> keys_;  // the CA's key and certificate, to sign with
};

}  // namespace zktool::testsupport
