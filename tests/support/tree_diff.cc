#include "support/tree_diff.h"

#include <cstdio>

namespace zktool::testsupport {

namespace {

constexpr const char* kConfigNode = "/zookeeper/config";

std::string hex(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string acl_text(const Acl& acl) {
  std::string out;
  for (const auto& e : acl) {
    if (!out.empty()) out += ",";
    out += e.scheme + ":" + e.id + ":" + std::to_string(e.perms);
  }
  return "[" + out + "]";
}

void diff_stat(const std::string& path, const ZnodeStat& a, const ZnodeStat& b,
               std::vector<std::string>& out) {
  auto field = [&](const char* name, int64_t x, int64_t y, bool as_hex) {
    if (x == y) return;
    out.push_back(path + ": " + name + " " + (as_hex ? hex(x) : std::to_string(x)) +
                  " != " + (as_hex ? hex(y) : std::to_string(y)));
  };
  field("czxid", a.czxid, b.czxid, true);
  field("mzxid", a.mzxid, b.mzxid, true);
  field("pzxid", a.pzxid, b.pzxid, true);
  field("ctime", a.ctime, b.ctime, false);
  if (path != kConfigNode) field("mtime", a.mtime, b.mtime, false);
  field("version", a.version, b.version, false);
  field("cversion", a.cversion, b.cversion, false);
  field("aversion", a.aversion, b.aversion, false);
  field("ephemeralOwner", a.ephemeral_owner, b.ephemeral_owner, true);
  field("dataLength", a.data_length, b.data_length, false);
  field("numChildren", a.num_children, b.num_children, false);
}

}  // namespace

std::vector<std::string> diff_trees(const ZnodeTree& expected, const ZnodeTree& actual,
                                    size_t limit) {
  std::vector<std::string> out;
  for (const auto& [path, want] : expected) {
    auto it = actual.find(path);
    if (it == actual.end()) {
      out.push_back(path + ": missing");
      continue;
    }
    const ZnodeInfo& got = it->second;
    if (want.data_null != got.data_null) {
      out.push_back(path + ": data is " + (got.data_null ? "null" : "not null"));
    } else if (want.data != got.data) {
      out.push_back(path + ": data differs (" + std::to_string(want.data.size()) + " and " +
                    std::to_string(got.data.size()) + " bytes)");
    }
    diff_stat(path, want.stat, got.stat, out);
    if (want.acl != got.acl) {
      out.push_back(path + ": acl " + acl_text(want.acl) + " != " + acl_text(got.acl));
    }
    if (out.size() >= limit) break;
  }
  for (const auto& [path, info] : actual) {
    if (out.size() >= limit) break;
    if (!expected.count(path)) out.push_back(path + ": unexpected");
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace zktool::testsupport
