// Where each ZooKeeper release under test lives and how every JVM in the test
// environment is started, so that servers and tools agree on locale, charset
// and time zone (SnapshotFormatter prints dates in the JVM's zone).
//
// Two release lines run here: Debian's ZooKeeper 3.8 package, and 3.4.14, the
// release DC/OS 1.13 to 2.2 ship inside Exhibitor, as a jar built from the
// apache/zookeeper tag release-3.4.14 (found as zookeeper_3_4_14_jar() says).
#pragma once

#include <filesystem>
#include <optional>
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

enum class ZooKeeperRelease { k3_8, k3_4_14 };

// "3.8" or "3.4.14".
const char* to_string(ZooKeeperRelease release);

// The release the environment asks for: ZKTOOL_TEST_ZOOKEEPER=3.4.14 or 3.8
// (the default, also for an unset or empty variable). CTest runs the
// end-to-end suites once with each. Aborts on any other value: a typo must
// not quietly test the default.
ZooKeeperRelease zookeeper_under_test();

// The 3.4.14 jar: $ZKTOOL_ZOOKEEPER_3_4_14_JAR, else
// ../shared/zookeeper/3.4.14/zookeeper-3.4.14.jar beside this source tree;
// nullopt when neither is a file (tests then skip and say where they looked).
std::optional<std::filesystem::path> zookeeper_3_4_14_jar();
// Where zookeeper_3_4_14_jar() looked, for a skip message.
std::string zookeeper_3_4_14_jar_search();

// UTF-8 everywhere (znode paths are Unicode), English dates, UTC.
std::vector<std::string> jvm_locale_options();

// "-cp" and the class path of `release` with the given slf4j binding: for 3.8
// ZooKeeper's example conf dir and its jar (whose manifest pulls in its
// dependencies), for 3.4.14 its jar with slf4j's API and log4j 1.2 (its JMX
// code needs log4j's classes). Empty for 3.4.14 when its jar is absent.
std::vector<std::string> zookeeper_class_path(const char* slf4j_binding_jar,
                                              ZooKeeperRelease release = ZooKeeperRelease::k3_8);

}  // namespace zktool::testsupport
