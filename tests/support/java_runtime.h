// Where Debian's zookeeper package puts ZooKeeper and how every JVM in the
// test environment is started, so that servers and tools agree on locale,
// charset and time zone (SnapshotFormatter prints dates in the JVM's zone).
#pragma once

#include <string>
#include <vector>

namespace zktool::testsupport {

inline constexpr const char* kJava = "/usr/bin/java";
inline constexpr const char* kZookeeperConfDir = "/etc/zookeeper/conf_example";
inline constexpr const char* kZookeeperJar = "/usr/share/java/zookeeper.jar";
// Servers log through slf4j-simple so their lines reach the node's log file;
// tools use slf4j-nop so their stdout carries only their output.
inline constexpr const char* kSlf4jSimpleJar = "/usr/share/java/slf4j-simple.jar";
inline constexpr const char* kSlf4jNopJar = "/usr/share/java/slf4j-nop.jar";

// UTF-8 everywhere (znode paths are Unicode), English dates, UTC.
std::vector<std::string> jvm_locale_options();

// "-cp" and the class path: ZooKeeper's example conf dir, its jar (whose
// manifest pulls in its dependencies) and the given slf4j binding.
std::vector<std::string> zookeeper_class_path(const char* slf4j_binding_jar);

}  // namespace zktool::testsupport
