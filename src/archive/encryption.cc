#include "archive/encryption.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "util/sha256.h"

namespace zktool::archive {

namespace fs = std::filesystem;

namespace {

// FORMAT.md, "Encrypted archives". Integers are big-endian.
constexpr std::string_view kMagic = "ZKTOOLE1";
constexpr std::string_view kTrailerMagic = "ZKTOOLT1";
constexpr size_t kHeaderFields = 8 + 8 + 8 + 4;  // magic, key id, created, chunk size
constexpr size_t kStreamHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr size_t kHeaderSize = kHeaderFields + kStreamHeader;
constexpr size_t kDigestSize = 32;  // SHA-256
constexpr size_t kTrailerSize = 8 + 8 + kDigestSize;
constexpr size_t kTag = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr uint32_t kChunkSize = 1 << 20;     // what the writer uses
constexpr uint32_t kMaxChunkSize = 16 << 20;  // what a reader accepts: memory is bounded by it
constexpr std::string_view kKeyFilePrefix = "zk-tool-archive-key-1 ";
constexpr std::string_view kKeyIdContext = "zk-tool archive key id";

bool init_sodium() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void put_u64(unsigned char* at, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) at[i] = static_cast<unsigned char>(v);
}
void put_u32(unsigned char* at, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) at[i] = static_cast<unsigned char>(v);
}
uint64_t get_u64(const unsigned char* at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | at[i];
  return v;
}
uint32_t get_u32(const unsigned char* at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | at[i];
  return v;
}

std::string hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

Error io_error(const fs::path& path, const char* what, int err) {
  return make_error(ErrorKind::Io, path.string() + ": " + what + ": " + std::strerror(err));
}

Status write_all(int fd, const fs::path& path, const void* data, size_t size) {
  const auto* at = static_cast<const unsigned char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, "write", errno);
    at += n;
    size -= static_cast<size_t>(n);
  }
  return Ok{};
}

// Exactly `size` bytes at `offset`, or ErrorKind::Corrupt: the file is shorter
// than its own layout says.
Status read_exactly(int fd, const fs::path& path, uint64_t offset, void* into, size_t size) {
  auto* at = static_cast<unsigned char*>(into);
  while (size > 0) {
    ssize_t n = ::pread(fd, at, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, "read", errno);
    if (n == 0) {
      return make_error(ErrorKind::Corrupt,
                        path.string() + ": encrypted archive cut short at offset " +
                            std::to_string(offset));
    }
    at += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return Ok{};
}

Result<uint64_t> size_of(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, "stat", errno);
  return static_cast<uint64_t>(st.st_size);
}

struct ParsedHeader {
  SealedHeader header;
  std::array<unsigned char, kHeaderSize> bytes{};
  uint64_t trailer_at = 0;  // where the chunks end
  std::string digest;  // the trailer's, as 64 lowercase hex digits
};

// The fixed header fields, checked for shape.
Result<SealedHeader> parse_header(const std::array<unsigned char, kHeaderSize>& bytes,
                                  const fs::path& path) {
  auto corrupt = [&](const std::string& what) {
    return make_error(ErrorKind::Corrupt, path.string() + ": " + what);
  };
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return corrupt("not an encrypted zk-tool archive");
  }
  SealedHeader header;
  header.key_id = hex(bytes.data() + 8, 8);
  header.created = std::chrono::sys_seconds(
      std::chrono::seconds(static_cast<int64_t>(get_u64(bytes.data() + 16))));
  header.chunk_size = get_u32(bytes.data() + 24);
  if (header.chunk_size == 0 || header.chunk_size > kMaxChunkSize) {
    return corrupt("chunk size " + std::to_string(header.chunk_size) + " is outside 1 to " +
                   std::to_string(kMaxChunkSize));
  }
  return header;
}

// Header and trailer, checked for shape (not the digest: the caller hashes as it reads).
Result<ParsedHeader> parse_layout(int fd, const fs::path& path) {
  auto size = size_of(fd, path);
  if (!size) return size.error();
  ParsedHeader parsed;
  auto corrupt = [&](const std::string& what) {
    return make_error(ErrorKind::Corrupt, path.string() + ": " + what);
  };
  if (*size < kHeaderSize + kTag + kTrailerSize) {
    return corrupt("too short for an encrypted archive (" + std::to_string(*size) + " bytes)");
  }
  if (Status s = read_exactly(fd, path, 0, parsed.bytes.data(), kHeaderSize); !s) return s.error();
  auto header = parse_header(parsed.bytes, path);
  if (!header) return header.error();
  parsed.header = *header;
  std::array<unsigned char, kTrailerSize> trailer{};
  parsed.trailer_at = *size - kTrailerSize;
  if (Status s = read_exactly(fd, path, parsed.trailer_at, trailer.data(), trailer.size()); !s) {
    return s.error();
  }
  if (std::memcmp(trailer.data(), kTrailerMagic.data(), kTrailerMagic.size()) != 0 ||
      get_u64(trailer.data() + 8) != parsed.trailer_at) {
    return corrupt("no trailer at offset " + std::to_string(parsed.trailer_at) +
                   ": the file is cut short or was added to");
  }
  parsed.digest = hex(trailer.data() + 16, kDigestSize);
  return parsed;
}

Error trailer_mismatch(const fs::path& path) {
  return make_error(ErrorKind::Corrupt, path.string() +
                                            ": the bytes differ from the SHA-256 its trailer "
                                            "records (damaged since it was written)");
}

}  // namespace

// --- Keys ---

ArchiveKey::ArchiveKey(const ArchiveKey& other) : id_(other.id_) {
  std::memcpy(bytes_, other.bytes_, kSize);
}
ArchiveKey& ArchiveKey::operator=(const ArchiveKey& other) {
  std::memcpy(bytes_, other.bytes_, kSize);
  id_ = other.id_;
  return *this;
}
ArchiveKey::~ArchiveKey() { sodium_memzero(bytes_, kSize); }

void ArchiveKey::set_id() {
  unsigned char id[8];
  crypto_generichash(id, sizeof(id), reinterpret_cast<const unsigned char*>(kKeyIdContext.data()),
                     kKeyIdContext.size(), bytes_, kSize);
  id_ = hex(id, sizeof(id));
}

Result<ArchiveKey> ArchiveKey::read_file(const fs::path& path) {
  if (!init_sodium()) return make_error(ErrorKind::Internal, "libsodium did not initialise");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return make_error(ErrorKind::Usage, "cannot read key file " + path.string() + ": " +
                                            std::strerror(errno));
  }
  std::string text(256, '\0');
  ssize_t n = ::read(fd.get(), text.data(), text.size());
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const Error not_a_key = make_error(
      ErrorKind::Usage, path.string() + " is not a zk-tool key file (zk-tool keygen writes one)");
  ArchiveKey key;
  size_t decoded = 0;
  const bool ok = text.starts_with(kKeyFilePrefix) &&
                  sodium_base642bin(key.bytes_, kSize, text.data() + kKeyFilePrefix.size(),
                                    text.size() - kKeyFilePrefix.size(), nullptr, &decoded,
                                    nullptr, sodium_base64_VARIANT_ORIGINAL) == 0 &&
                  decoded == kSize;
  sodium_memzero(text.data(), text.size());
  if (!ok) return not_a_key;
  key.set_id();
  return key;
}

Status ArchiveKey::generate_file(const fs::path& path) {
  if (!init_sodium()) return make_error(ErrorKind::Internal, "libsodium did not initialise");
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return io_error(parent, "open directory", errno);
  UniqueFd fd(::openat(dir.get(), path.filename().c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return make_error(ErrorKind::Usage,
                        path.string() + " exists; keygen never replaces a key (nothing written)");
    }
    return io_error(path, "create", errno);
  }
  ArchiveKey key;
  crypto_secretstream_xchacha20poly1305_keygen(key.bytes_);
  std::string text(kKeyFilePrefix);
  std::string encoded(sodium_base64_ENCODED_LEN(kSize, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), key.bytes_, kSize,
                    sodium_base64_VARIANT_ORIGINAL);
  text.append(encoded.c_str()).append("\n");
  sodium_memzero(encoded.data(), encoded.size());
  Status written = write_all(fd.get(), path, text.data(), text.size());
  sodium_memzero(text.data(), text.size());
  if (written && ::fchmod(fd.get(), 0600) != 0) written = io_error(path, "chmod", errno);
  if (written && ::fsync(fd.get()) != 0) written = io_error(path, "fsync", errno);
  if (written && ::fsync(dir.get()) != 0) written = io_error(parent, "fsync", errno);
  if (!written) ::unlinkat(dir.get(), path.filename().c_str(), 0);
  return written;
}

// --- Without the key ---

Result<bool> is_sealed(int fd, const fs::path& path) {
  char magic[kMagic.size()];
  ssize_t n = ::pread(fd, magic, sizeof(magic), 0);
  if (n < 0) return io_error(path, "read", errno);
  return static_cast<size_t>(n) == sizeof(magic) &&
         std::memcmp(magic, kMagic.data(), kMagic.size()) == 0;
}

Result<SealedHeader> read_sealed_header(int fd, const fs::path& path) {
  std::array<unsigned char, kHeaderSize> bytes{};
  if (Status s = read_exactly(fd, path, 0, bytes.data(), bytes.size()); !s) return s.error();
  return parse_header(bytes, path);
}

Result<SealedHeader> check_sealed(int fd, const fs::path& path) {
  auto parsed = parse_layout(fd, path);
  if (!parsed) return parsed.error();
  Sha256 hash;
  std::vector<unsigned char> buffer(1 << 20);
  for (uint64_t at = 0; at < parsed->trailer_at;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), parsed->trailer_at - at));
    if (Status s = read_exactly(fd, path, at, buffer.data(), want); !s) return s.error();
    hash.update(buffer.data(), want);
    at += want;
  }
  if (hash.finish_hex() != parsed->digest) return trailer_mismatch(path);
  return parsed->header;
}

// --- Writing ---

struct SealingWriter::State {
  int fd = -1;
  fs::path path;
  crypto_secretstream_xchacha20poly1305_state stream{};
  std::array<unsigned char, kHeaderFields> associated{};
  std::vector<unsigned char> plain;   // the chunk being filled
  std::vector<unsigned char> sealed;  // one sealed chunk
  Sha256 hash;
  uint64_t offset = 0;
  bool finished = false;

  ~State() { sodium_memzero(&stream, sizeof(stream)); }

  Status emit(const unsigned char* data, size_t size) {
    hash.update(data, size);
    offset += size;
    return write_all(fd, path, data, size);
  }
  Status seal_chunk(unsigned char tag) {
    unsigned long long length = 0;
    crypto_secretstream_xchacha20poly1305_push(&stream, sealed.data(), &length, plain.data(),
                                               plain.size(), associated.data(), associated.size(),
                                               tag);
    plain.clear();
    return emit(sealed.data(), static_cast<size_t>(length));
  }
};

SealingWriter::SealingWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
SealingWriter::SealingWriter(SealingWriter&&) noexcept = default;
SealingWriter::~SealingWriter() = default;

Result<SealingWriter> SealingWriter::start(const ArchiveKey& key, int fd, fs::path path,
                                           std::chrono::sys_seconds created) {
  if (!init_sodium()) return make_error(ErrorKind::Internal, "libsodium did not initialise");
  auto state = std::make_unique<State>();
  state->fd = fd;
  state->path = std::move(path);
  unsigned char* fields = state->associated.data();
  std::memcpy(fields, kMagic.data(), kMagic.size());
  unsigned char id[8];
  sodium_hex2bin(id, sizeof(id), key.id().data(), key.id().size(), nullptr, nullptr, nullptr);
  std::memcpy(fields + 8, id, sizeof(id));
  put_u64(fields + 16, static_cast<uint64_t>(created.time_since_epoch().count()));
  put_u32(fields + 24, kChunkSize);
  std::array<unsigned char, kStreamHeader> stream_header{};
  crypto_secretstream_xchacha20poly1305_init_push(&state->stream, stream_header.data(),
                                                  key.bytes());
  state->plain.reserve(kChunkSize);
  state->sealed.resize(kChunkSize + kTag);
  if (Status s = state->emit(fields, kHeaderFields); !s) return s.error();
  if (Status s = state->emit(stream_header.data(), stream_header.size()); !s) return s.error();
  return SealingWriter(std::move(state));
}

Status SealingWriter::write(const void* data, size_t size) {
  State& s = *state_;
  const auto* at = static_cast<const unsigned char*>(data);
  while (size > 0) {
    // A full chunk is sealed only once more data comes: the last chunk,
    // full or not, must carry the final tag.
    if (s.plain.size() == kChunkSize) {
      if (Status st = s.seal_chunk(crypto_secretstream_xchacha20poly1305_TAG_MESSAGE); !st) {
        return st;
      }
    }
    const size_t take = std::min(size, kChunkSize - s.plain.size());
    s.plain.insert(s.plain.end(), at, at + take);
    at += take;
    size -= take;
  }
  return Ok{};
}

Status SealingWriter::finish() {
  State& s = *state_;
  if (s.finished) return make_error(ErrorKind::Internal, "SealingWriter::finish called twice");
  s.finished = true;
  if (Status st = s.seal_chunk(crypto_secretstream_xchacha20poly1305_TAG_FINAL); !st) return st;
  std::array<unsigned char, kTrailerSize> trailer{};
  std::memcpy(trailer.data(), kTrailerMagic.data(), kTrailerMagic.size());
  put_u64(trailer.data() + 8, s.offset);
  const std::string digest = s.hash.finish_hex();
  sodium_hex2bin(trailer.data() + 16, kDigestSize, digest.data(), digest.size(), nullptr, nullptr,
                 nullptr);
  return write_all(s.fd, s.path, trailer.data(), trailer.size());
}

// --- Reading ---

struct OpeningReader::State {
  UniqueFd fd;
  fs::path path;
  ParsedHeader layout;
  crypto_secretstream_xchacha20poly1305_state stream{};
  std::vector<unsigned char> sealed;
  std::vector<char> plain;
  Sha256 hash;
  uint64_t offset = kHeaderSize;
  bool done = false;

  ~State() {
    sodium_memzero(&stream, sizeof(stream));
    sodium_memzero(plain.data(), plain.size());
  }
};

OpeningReader::OpeningReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
OpeningReader::OpeningReader(OpeningReader&&) noexcept = default;
OpeningReader::~OpeningReader() = default;

Result<OpeningReader> OpeningReader::open(const ArchiveKey& key, UniqueFd fd, fs::path path) {
  if (!init_sodium()) return make_error(ErrorKind::Internal, "libsodium did not initialise");
  auto layout = parse_layout(fd.get(), path);
  if (!layout) return layout.error();
  if (layout->header.key_id != key.id()) {
    return make_error(ErrorKind::WrongKey, path.string() + " is encrypted with key " +
                                               layout->header.key_id + ", not with key " +
                                               key.id() + " (the key file given)");
  }
  auto state = std::make_unique<State>();
  state->fd = std::move(fd);
  state->path = std::move(path);
  state->layout = *layout;
  state->hash.update(layout->bytes.data(), layout->bytes.size());
  if (crypto_secretstream_xchacha20poly1305_init_pull(
          &state->stream, layout->bytes.data() + kHeaderFields, key.bytes()) != 0) {
    return make_error(ErrorKind::Corrupt, state->path.string() + ": bad stream header");
  }
  state->sealed.resize(layout->header.chunk_size + kTag);
  state->plain.resize(layout->header.chunk_size);
  return OpeningReader(std::move(state));
}

Result<std::span<const char>> OpeningReader::next() {
  State& s = *state_;
  if (s.done) return std::span<const char>();
  const uint64_t left = s.layout.trailer_at - s.offset;
  const uint64_t full = s.layout.header.chunk_size + kTag;
  // Every chunk but the last is full; the last is what remains.
  const bool last = left <= full;
  const size_t size = static_cast<size_t>(last ? left : full);
  auto corrupt = [&](const std::string& what) {
    return make_error(ErrorKind::Corrupt, s.path.string() + ": " + what + " at offset " +
                                              std::to_string(s.offset));
  };
  if (size < kTag) return corrupt("a chunk too short to be one");
  if (Status st = read_exactly(s.fd.get(), s.path, s.offset, s.sealed.data(), size); !st) {
    return st.error();
  }
  s.hash.update(s.sealed.data(), size);
  unsigned long long length = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          &s.stream, reinterpret_cast<unsigned char*>(s.plain.data()), &length, &tag,
          s.sealed.data(), size, s.layout.bytes.data(), kHeaderFields) != 0) {
    return corrupt("a chunk fails authentication (damaged, or not sealed with this key)");
  }
  const bool final_tag = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  if (final_tag != last) {
    return corrupt(last ? "the stream ends without its final chunk"
                        : "the final chunk comes before the end");
  }
  s.offset += size;
  if (last) {
    s.done = true;
    if (s.hash.finish_hex() != s.layout.digest) return trailer_mismatch(s.path);
  }
  if (length == 0 && last) return std::span<const char>();
  return std::span<const char>(s.plain.data(), static_cast<size_t>(length));
}

}  // namespace zktool::archive
