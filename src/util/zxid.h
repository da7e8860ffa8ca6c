// How zk-tool writes a zxid everywhere: "0x" and lowercase hex, as ZooKeeper
// prints zxids and names its files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace zktool {

inline std::string zxid_hex(int64_t zxid) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(zxid));
  return text;
}

}  // namespace zktool
