#include "exhibitor/test_pki.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

struct Free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(X509_EXTENSION* ext) const { X509_EXTENSION_free(ext); }
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

Error openssl_error(const std::string& what) {
  char text[256] = "";
  ERR_error_string_n(ERR_get_error(), text, sizeof text);
  return make_error(ErrorKind::Internal, std::string("test PKI: ") + what + ": " + text);
}

// Adds one extension in the openssl.cnf syntax (e.g. "critical,CA:TRUE").
bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// A certificate for `name` with `key`, not yet signed.
Cert new_cert(const std::string& name, EVP_PKEY* key, std::chrono::seconds not_before,
              std::chrono::seconds not_after, long serial) {
  Cert cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after.count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  return cert;
}

Result<CertFiles> write_pem(const fs::path& dir, const std::string& name, X509* cert,
                            EVP_PKEY* key) {
  CertFiles files{dir / (name + ".crt"), dir / (name + ".key")};
  std::unique_ptr<std::FILE, Free> cert_out(std::fopen(files.cert.c_str(), "w"));
  if (!cert_out || PEM_write_X509(cert_out.get(), cert) != 1) {
    return openssl_error("write " + files.cert.string());
  }
  std::unique_ptr<std::FILE, Free> key_out(std::fopen(files.key.c_str(), "w"));
  if (!key_out ||
      PEM_write_PrivateKey(key_out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("write " + files.key.string());
  }
  return files;
}

long next_serial() {
  static long serial = 1;
  return ++serial;
}

}  // namespace

struct TestCa::Keys {
  Key key;
  Cert cert;
};

TestCa::TestCa(CertFiles files, std::unique_ptr<Keys> keys)
    : files_(std::move(files)), keys_(std::move(keys)) {}
TestCa::TestCa(TestCa&&) noexcept = default;
TestCa& TestCa::operator=(TestCa&&) noexcept = default;
TestCa::~TestCa() = default;

Result<TestCa> TestCa::create(const fs::path& dir, const std::string& name) {
  auto keys = std::make_unique<Keys>();
  keys->key.reset(EVP_EC_gen("P-256"));
  if (!keys->key) return openssl_error("EC key for " + name);
  keys->cert = new_cert(name, keys->key.get(), std::chrono::hours(-1), std::chrono::hours(24),
                        next_serial());
  X509* cert = keys->cert.get();
  if (cert == nullptr ||
      X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1 ||
      !add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(cert, cert, NID_subject_key_identifier, "hash") ||
      X509_sign(cert, keys->key.get(), EVP_sha256()) == 0) {
    return openssl_error("CA certificate " + name);
  }
  auto files = write_pem(dir, name, cert, keys->key.get());
  if (!files) return files.error();
  return TestCa(std::move(*files), std::move(keys));
}

Result<CertFiles> TestCa::issue(const std::string& name, CertUse use,
                                const std::vector<std::string>& sans,
                                std::chrono::seconds not_before,
                                std::chrono::seconds not_after) const {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("EC key for " + name);
  Cert cert = new_cert(name, key.get(), not_before, not_after, next_serial());
  std::string alt_names;
  for (const std::string& san : sans) {
    unsigned char address[16];
    bool ip = inet_pton(AF_INET, san.c_str(), address) == 1 ||
              inet_pton(AF_INET6, san.c_str(), address) == 1;
    if (!alt_names.empty()) alt_names += ",";
    alt_names += ip ? "IP:" : "DNS:";
    alt_names += san;
  }
  X509* ca = keys_->cert.get();
  if (!cert || X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1 ||
      !add_extension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), ca, NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), ca, NID_ext_key_usage,
                     use == CertUse::kServer ? "serverAuth" : "clientAuth") ||
      !add_extension(cert.get(), ca, NID_authority_key_identifier, "keyid") ||
      (!alt_names.empty() &&
       !add_extension(cert.get(), ca, NID_subject_alt_name, alt_names)) ||
      X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) == 0) {
    return openssl_error("certificate " + name);
  }
  return write_pem(files_.cert.parent_path(), name, cert.get(), key.get());
}

}  // namespace zktool::testsupport
