// Encrypted archives (FORMAT.md, "Encrypted archives"): the whole archive
// stream, compressed tar and all, sealed with libsodium's
// crypto_secretstream_xchacha20poly1305 under a 32-byte key from a key file.
//
// Outside the ciphertext lie only what retention and list need without the
// key: that it is a zk-tool archive, which key sealed it (a keyed hash, not
// the key), when it was written, and a trailer with the SHA-256 of every byte
// before it, so a damaged or truncated copy is found without the key too.
// Chunks are authenticated one by one and the last is tagged final: with a
// wrong key, a flipped byte, a reordered, dropped or added chunk, or a cut
// tail, reading stops at the first chunk that fails, naming its offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace zktool::archive {

// A 32-byte secret key, wiped from memory when the object dies.
class ArchiveKey {
 public:
  static constexpr size_t kSize = 32;

  // Reads a key file keygen wrote: one line "zk-tool-archive-key-1 <base64>".
  // ErrorKind::Usage naming the file when it is not one (the key is never
  // part of a message).
  static Result<ArchiveKey> read_file(const std::filesystem::path& path);
  // Writes a new random key to `path`, mode 0600, refusing (ErrorKind::Usage)
  // to replace anything there, a link included; synced with its directory.
  static Status generate_file(const std::filesystem::path& path);

  ArchiveKey(const ArchiveKey& other);
  ArchiveKey& operator=(const ArchiveKey& other);
  ~ArchiveKey();

  const unsigned char* bytes() const { return bytes_; }
  // 16 hex digits naming the key (a keyed hash of a constant): what the
  // archive records, so that a wrong key is named as such.
  const std::string& id() const { return id_; }

 private:
  ArchiveKey() = default;
  void set_id();

  unsigned char bytes_[kSize] = {};
  std::string id_;
};

// What an encrypted archive shows without the key.
struct SealedHeader {
  std::string key_id;  // 16 hex digits
  std::chrono::sys_seconds created{};
  uint32_t chunk_size = 0;  // plaintext bytes per chunk
};

// True when the file open as `fd` starts like an encrypted archive.
Result<bool> is_sealed(int fd, const std::filesystem::path& path);

// The header of the encrypted archive open as `fd` (ErrorKind::Corrupt when it
// is not one), reading nothing else.
Result<SealedHeader> read_sealed_header(int fd, const std::filesystem::path& path);

// The header of the encrypted archive open as `fd`, and its trailer checked
// against every byte before it (ErrorKind::Corrupt naming the file when it
// does not match or the file is cut short). Needs no key.
Result<SealedHeader> check_sealed(int fd, const std::filesystem::path& path);

// Encrypts a stream into `fd`, which must be empty and positioned at its start.
class SealingWriter {
 public:
  // Writes the header. `path` names the file in errors.
  static Result<SealingWriter> start(const ArchiveKey& key, int fd, std::filesystem::path path,
                                     std::chrono::sys_seconds created);
  SealingWriter(SealingWriter&&) noexcept;
  SealingWriter& operator=(SealingWriter&&) = delete;
  ~SealingWriter();

  Status write(const void* data, size_t size);
  // Seals the last chunk and writes the trailer. Call once, after the last write.
  Status finish();

 private:
  struct State;
  explicit SealingWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Decrypts an encrypted archive chunk by chunk, checking each.
class OpeningReader {
 public:
  // Reads and checks the header: ErrorKind::WrongKey when the archive was
  // sealed with another key, naming both key ids.
  static Result<OpeningReader> open(const ArchiveKey& key, UniqueFd fd,
                                    std::filesystem::path path);
  OpeningReader(OpeningReader&&) noexcept;
  OpeningReader& operator=(OpeningReader&&) = delete;
  ~OpeningReader();

  // The next chunk's plaintext, empty once the final chunk has been read and
  // the trailer checked. Valid until the next call.
  Result<std::span<const char>> next();

 private:
  struct State;
  explicit OpeningReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zktool::archive
