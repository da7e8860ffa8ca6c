#include "support/java_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

fs::path shared_jar() {
  return fs::path(ZKTOOL_SOURCE_DIR).parent_path() / "shared" / "zookeeper" / "3.4.14" /
         "zookeeper-3.4.14.jar";
}

const char* jar_variable() {
  const char* value = std::getenv("ZKTOOL_ZOOKEEPER_3_4_14_JAR");
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

const char* to_string(ZooKeeperRelease release) {
  return release == ZooKeeperRelease::k3_4_14 ? "3.4.14" : "3.8";
}

ZooKeeperRelease zookeeper_under_test() {
  const char* value = std::getenv("ZKTOOL_TEST_ZOOKEEPER");
  std::string_view wanted = value == nullptr ? "" : value;
  if (wanted.empty() || wanted == "3.8") return ZooKeeperRelease::k3_8;
  if (wanted == "3.4.14") return ZooKeeperRelease::k3_4_14;
  std::fprintf(stderr, "ZKTOOL_TEST_ZOOKEEPER is \"%s\", not 3.8 or 3.4.14\n", value);
  std::abort();
}

std::optional<fs::path> zookeeper_3_4_14_jar() {
  fs::path jar = jar_variable() != nullptr ? fs::path(jar_variable()) : shared_jar();
  std::error_code ec;
  if (!fs::is_regular_file(jar, ec)) return std::nullopt;
  return fs::absolute(jar, ec);
}

std::string zookeeper_3_4_14_jar_search() {
  if (jar_variable() != nullptr) {
    return std::string("ZKTOOL_ZOOKEEPER_3_4_14_JAR=") + jar_variable();
  }
  return shared_jar().string() + " (or set ZKTOOL_ZOOKEEPER_3_4_14_JAR)";
}

std::vector<std::string> jvm_locale_options() {
  return {"-Dfile.encoding=UTF-8", "-Dsun.stdout.encoding=UTF-8", "-Dsun.stderr.encoding=UTF-8",
          "-Duser.language=en",    "-Duser.country=US",           "-Duser.timezone=UTC"};
}

std::vector<std::string> zookeeper_class_path(const char* slf4j_binding_jar,
                                              ZooKeeperRelease release) {
  if (release == ZooKeeperRelease::k3_8) {
    return {"-cp", std::string(kZookeeperConfDir) + ":" + kZookeeperJar + ":" + slf4j_binding_jar};
  }
  auto jar = zookeeper_3_4_14_jar();
  if (!jar) return {};
  std::string path = jar->string();
  path.append(":/usr/share/java/slf4j-api.jar:/usr/share/java/log4j-1.2.jar:")
      .append(slf4j_binding_jar);
  return {"-cp", path};
}

}  // namespace zktool::testsupport
