#include "snapshot/jute.h"

#include <cstring>

namespace zktool::snapshot {

namespace {

uint64_t load_big_endian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

void JuteReader::fail(std::string_view what) {
  if (failed_) return;
  failed_ = true;
  error_ = std::string(what) + " at offset " + std::to_string(offset());
}

bool JuteReader::need(size_t n, const char* what) {
  if (failed_) return false;
  if (remaining() < n) {
    fail(std::string("truncated ") + what + " (need " + std::to_string(n) + " bytes, " +
         std::to_string(remaining()) + " left)");
    return false;
  }
  return true;
}

uint8_t JuteReader::read_byte() {
  if (!need(1, "byte")) return 0;
  return static_cast<uint8_t>(bytes_[pos_++]);
}

bool JuteReader::read_bool() { return read_byte() != 0; }

int32_t JuteReader::read_int() {
  if (!need(4, "int")) return 0;
  auto v = static_cast<uint32_t>(load_big_endian(bytes_.data() + pos_, 4));
  pos_ += 4;
  return static_cast<int32_t>(v);
}

int64_t JuteReader::read_long() {
  if (!need(8, "long")) return 0;
  uint64_t v = load_big_endian(bytes_.data() + pos_, 8);
  pos_ += 8;
  return static_cast<int64_t>(v);
}

std::optional<std::string_view> JuteReader::read_buffer() {
  int32_t len = read_int();
  if (failed_) return std::string_view{};
  if (len == -1) return std::nullopt;
  if (len < 0 || static_cast<uint32_t>(len) > max_length_) {
    pos_ -= 4;
    fail("unreasonable length " + std::to_string(len));
    return std::string_view{};
  }
  if (static_cast<size_t>(len) > remaining()) {
    pos_ -= 4;
    fail("length " + std::to_string(len) + " runs past the end (" + std::to_string(remaining()) +
         " bytes left)");
    return std::string_view{};
  }
  std::string_view v = bytes_.substr(pos_, static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return v;
}

std::string_view JuteReader::read_string() {
  auto v = read_buffer();
  if (!v) {
    pos_ -= 4;
    fail("unexpected null string");
    return {};
  }
  return *v;
}

int32_t JuteReader::read_count(uint32_t min_element_size, bool allow_null) {
  int32_t count = read_int();
  if (failed_) return 0;
  if (count == -1 && allow_null) return 0;
  if (count < 0 ||
      static_cast<uint64_t>(count) * min_element_size > static_cast<uint64_t>(remaining())) {
    pos_ -= 4;
    fail("unreasonable element count " + std::to_string(count));
    return 0;
  }
  return count;
}

void JuteWriter::write_int(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
               static_cast<char>(u)};
  out_.append(b, 4);
}

void JuteWriter::write_long(int64_t v) {
  auto u = static_cast<uint64_t>(v);
  write_int(static_cast<int32_t>(u >> 32));
  write_int(static_cast<int32_t>(u & 0xffffffffu));
}

void JuteWriter::write_buffer(std::optional<std::string_view> v) {
  if (!v) {
    write_int(-1);
    return;
  }
  write_int(static_cast<int32_t>(v->size()));
  out_.append(v->data(), v->size());
}

}  // namespace zktool::snapshot
