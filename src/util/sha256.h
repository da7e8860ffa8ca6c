// Streaming SHA-256 (OpenSSL EVP), for hashing payload files block by block
// while they are copied, archived or extracted.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace zktool {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits. Ends the hash: call once.
  std::string finish_hex();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// True for exactly 64 lowercase hex digits, the manifest's form of a digest.
bool is_sha256_hex(std::string_view text);

}  // namespace zktool
