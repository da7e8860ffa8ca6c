#include "support/java_runtime.h"

namespace zktool::testsupport {

std::vector<std::string> jvm_locale_options() {
  return {"-Dfile.encoding=UTF-8", "-Dsun.stdout.encoding=UTF-8", "-Dsun.stderr.encoding=UTF-8",
          "-Duser.language=en",    "-Duser.country=US",           "-Duser.timezone=UTC"};
}

std::vector<std::string> zookeeper_class_path(const char* slf4j_binding_jar) {
  return {"-cp", std::string(kZookeeperConfDir) + ":" + kZookeeperJar + ":" + slf4j_binding_jar};
}

}  // namespace zktool::testsupport
