// Bounds-checked decoding and encoding of ZooKeeper's jute binary records
// (org.apache.jute.BinaryInputArchive): big-endian ints and longs, strings and
// buffers as an int length then bytes (-1 is null), vectors as an int count.
//
// JuteReader never reads past its view and never allocates from a length it
// read: every length is checked against the bytes that remain and against the
// jute.maxbuffer limit before use. The first failure is sticky: later reads
// return zero values, and failed() / error() say what and where.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zktool::snapshot {

// ZooKeeper's BinaryInputArchive refuses lengths above jute.maxbuffer plus
// zookeeper.jute.maxbuffer.extrasize, both 0xfffff by default.
inline constexpr uint32_t kDefaultJuteMaxLength = 2 * 0xfffff;

class JuteReader {
 public:
  // `bytes` must outlive the reader and every view it returns. `base_offset`
  // is added to offsets in error messages (the view's position in its file).
  explicit JuteReader(std::string_view bytes, uint64_t base_offset = 0,
                      uint32_t max_length = kDefaultJuteMaxLength)
      : bytes_(bytes), base_offset_(base_offset), max_length_(max_length) {}

  uint8_t read_byte();
  bool read_bool();
  int32_t read_int();
  int64_t read_long();
  // A jute buffer or ustring; std::nullopt is jute's null (length -1).
  std::optional<std::string_view> read_buffer();
  // A non-null string (paths, schemes); null is an error.
  std::string_view read_string();
  // A vector count, checked so that `count * min_element_size` bytes remain.
  // -1 (a null vector) reads as 0 only when `allow_null` is set.
  int32_t read_count(uint32_t min_element_size, bool allow_null = false);

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  // Offset in the file of the next unread byte.
  uint64_t offset() const { return base_offset_ + pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  // Records `what` at the current offset as the first failure.
  void fail(std::string_view what);

 private:
  bool need(size_t n, const char* what);

  std::string_view bytes_;
  uint64_t base_offset_;
  uint32_t max_length_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Appends jute encodings to a string.
class JuteWriter {
 public:
  explicit JuteWriter(std::string& out) : out_(out) {}
  void write_byte(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void write_bool(bool v) { write_byte(v ? 1 : 0); }
  void write_int(int32_t v);
  void write_long(int64_t v);
  void write_buffer(std::optional<std::string_view> v);
  void write_string(std::string_view v) { write_buffer(v); }

 private:
  std::string& out_;
};

}  // namespace zktool::snapshot
