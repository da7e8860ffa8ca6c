#include "support/snapshot_formatter.h"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <ctime>
#include <sstream>
#include <system_error>

#include "support/java_runtime.h"
#include "support/process.h"

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

// Every znode prints nine stat fields, then data (-d) or dataLength.
constexpr int kStatFields = 9;

template <typename T>
std::optional<T> parse_int(std::string_view text, int base = 10) {
  T v{};
  auto r = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// "0x..." as printed by %#016x: a long's bits in hex.
std::optional<int64_t> parse_hex(std::string_view text) {
  if (text.substr(0, 2) != "0x") return std::nullopt;
  auto v = parse_int<uint64_t>(text.substr(2), 16);
  if (!v) return std::nullopt;
  return static_cast<int64_t>(*v);
}

// java.util.Date.toString() in UTC: "Thu Jan 01 00:00:00 UTC 1970".
std::optional<int64_t> parse_java_date(std::string_view text) {
  static const std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::istringstream in{std::string(text)};
  std::string weekday, month, zone;
  int day = 0, hour = 0, minute = 0, second = 0, year = 0;
  char c1 = 0, c2 = 0;
  in >> weekday >> month >> day >> hour >> c1 >> minute >> c2 >> second >> zone >> year;
  if (!in || c1 != ':' || c2 != ':' || zone != "UTC") return std::nullopt;
  tm t{};
  t.tm_mon = -1;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (month == kMonths[i]) t.tm_mon = static_cast<int>(i);
  }
  if (t.tm_mon < 0) return std::nullopt;
  t.tm_year = year - 1900;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  return static_cast<int64_t>(timegm(&t));
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes that padding stands for; drop them.
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    auto part = line.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    parts.push_back(part);
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

}  // namespace

void SnapshotFormatterParser::fail(const std::string& what) {
  if (!error_) error_ = "SnapshotFormatter output line " + std::to_string(line_) + ": " + what;
}

void SnapshotFormatterParser::close_znode() {
  if (!znode_) return;
  if (fields_ != kStatFields + 1) {
    fail("znode " + znode_->path + " has " + std::to_string(fields_) + " fields, not " +
         std::to_string(kStatFields + 1));
  }
  snapshot_.znodes.push_back(std::move(*znode_));
  znode_.reset();
  fields_ = 0;
}

void SnapshotFormatterParser::field(std::string_view key, std::string_view value) {
  FormattedZnode& z = *znode_;
  // Stores a parsed value, or records why it did not parse.
  auto store = [&](auto& out, auto parsed, const char* what) {
    if (parsed) {
      out = *parsed;
    } else {
      fail(std::string("bad ") + what + " \"" + std::string(value) + "\" for " + z.path);
    }
  };
  if (key == "cZxid") {
    store(z.czxid, parse_hex(value), "zxid");
  } else if (key == "ctime") {
    store(z.ctime_s, parse_java_date(value), "date");
  } else if (key == "mZxid") {
    store(z.mzxid, parse_hex(value), "zxid");
  } else if (key == "mtime") {
    store(z.mtime_s, parse_java_date(value), "date");
  } else if (key == "pZxid") {
    store(z.pzxid, parse_hex(value), "zxid");
  } else if (key == "cversion") {
    store(z.cversion, parse_int<int32_t>(value), "number");
  } else if (key == "dataVersion") {
    store(z.data_version, parse_int<int32_t>(value), "number");
  } else if (key == "aclVersion") {
    store(z.acl_version, parse_int<int32_t>(value), "number");
  } else if (key == "ephemeralOwner") {
    store(z.ephemeral_owner, parse_hex(value), "session id");
  } else if (key == "dataLength") {
    store(z.data_length, parse_int<int64_t>(value), "number");
  } else if (key == "data") {
    store(z.data, decode_base64(value), "base64");
    if (z.data) z.data_length = static_cast<int64_t>(z.data->size());
  } else {
    return fail("unknown field " + std::string(key));
  }
  ++fields_;
}

void SnapshotFormatterParser::feed(std::string_view line) {
  ++line_;
  if (error_) return;
  switch (section_) {
    case Section::kHeader: {
      constexpr std::string_view kPrefix = "ZNode Details (count=";
      if (line.size() < kPrefix.size() + 3 || line.substr(0, kPrefix.size()) != kPrefix ||
          line.substr(line.size() - 2) != "):") {
        return fail("expected the ZNode Details header");
      }
      auto count =
          parse_int<int64_t>(line.substr(kPrefix.size(), line.size() - kPrefix.size() - 2));
      if (!count) return fail("bad znode count");
      snapshot_.node_count = *count;
      section_ = Section::kZnodes;
      return;
    }
    case Section::kZnodes:
      if (line == "----") return close_znode();
      if (line.rfind("Session Details", 0) == 0) {
        close_znode();
        section_ = Section::kSessions;
        return;
      }
      if (line.rfind("  ", 0) == 0) {
        if (!znode_) return fail("field outside a znode");
        auto eq = line.find(" = ");
        if (eq == std::string_view::npos) return fail("expected key = value");
        return field(line.substr(2, eq - 2), line.substr(eq + 3));
      }
      close_znode();
      znode_ = FormattedZnode{};
      znode_->path = std::string(line);
      return;
    case Section::kSessions: {
      if (line == "----") return;
      constexpr std::string_view kLast = "Last zxid: ";
      if (line.rfind(kLast, 0) == 0) {
        auto zxid = parse_hex(line.substr(kLast.size()));
        if (!zxid) return fail("bad last zxid");
        snapshot_.last_zxid = *zxid;
        section_ = Section::kDone;
        return;
      }
      auto parts = split_commas(line);
      if (parts.size() != 3) return fail("expected sid, timeout, ephemeralCount");
      auto id = parse_hex(parts[0]);
      auto timeout = parse_int<int32_t>(parts[1]);
      auto count = parse_int<int32_t>(parts[2]);
      if (!id || !timeout || !count) return fail("bad session line");
      snapshot_.sessions.push_back({*id, *timeout, *count});
      return;
    }
    case Section::kDone:
      return fail("text after Last zxid");
  }
}

Result<FormattedSnapshot> SnapshotFormatterParser::finish() {
  if (!error_ && section_ != Section::kDone) fail("output ends before Last zxid");
  if (error_) return make_error(ErrorKind::Corrupt, *error_);
  return std::move(snapshot_);
}

Result<FormattedSnapshot> run_snapshot_formatter(const fs::path& snapshot, bool dump_data) {
  std::vector<std::string> argv{kJava};
  for (auto& opt : jvm_locale_options()) argv.push_back(std::move(opt));
  for (auto& part : zookeeper_class_path(kSlf4jNopJar)) argv.push_back(std::move(part));
  argv.push_back("org.apache.zookeeper.server.SnapshotFormatter");
  if (dump_data) argv.push_back("-d");
  argv.push_back(snapshot.string());

  SnapshotFormatterParser parser;
  RunSpec spec{std::move(argv)};
  spec.on_line = [&](std::string_view line) { parser.feed(line); };
  auto run = run_captured(spec);
  if (run.exit_code < 0) return make_error(ErrorKind::Io, run.err);
  if (run.exit_code != 0) {
    std::string err = run.err.substr(0, 400);
    for (char& c : err) {
      if (c == '\n') c = ' ';
    }
    return make_error(ErrorKind::Corrupt, "SnapshotFormatter " + snapshot.string() + " exited " +
                                              std::to_string(run.exit_code) + ": " + err);
  }
  auto parsed = parser.finish();
  if (!parsed) {
    return make_error(ErrorKind::Corrupt, snapshot.string() + ": " + parsed.error().message);
  }
  return parsed;
}

Result<fs::path> newest_snapshot(const fs::path& data_dir) {
  fs::path dir = data_dir / "version-2";
  std::error_code ec;
  std::optional<std::pair<uint64_t, fs::path>> best;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "snapshot.";
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string_view hex = std::string_view(name).substr(kPrefix.size());
    hex = hex.substr(0, hex.find('.'));  // .gz and .snappy follow the zxid
    auto zxid = parse_int<uint64_t>(hex, 16);
    if (zxid && (!best || *zxid > best->first)) best.emplace(*zxid, entry.path());
  }
  if (ec) return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
  if (!best) return make_error(ErrorKind::Io, dir.string() + ": no snapshot");
  return best->second;
}

}  // namespace zktool::testsupport
