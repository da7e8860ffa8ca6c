#include "storage/aws_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "util/unique_fd.h"

namespace zktool::storage {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxSharedFile = 1 << 20;
constexpr const char* kDefaultRegion = "us-east-1";

// Section name -> key -> value. A nested key ("s3 =" then an indented
// "addressing_style = path") is stored as "s3.addressing_style".
using IniFile = std::map<std::string, std::map<std::string, std::string>>;

std::string trim(std::string_view text) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The file's text; nullopt when it does not exist.
Result<std::optional<std::string>> read_shared_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return make_error(ErrorKind::Io, "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::Io, path.string() + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxSharedFile) {
    return make_error(ErrorKind::Usage, path.string() + " is larger than an AWS shared file can be (" +
                                            std::to_string(kMaxSharedFile) + " bytes)");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
  if (n < 0) return make_error(ErrorKind::Io, "cannot read " + path.string() + ": " + std::strerror(errno));
  text.resize(static_cast<size_t>(n));
  return std::optional<std::string>(std::move(text));
}

Result<IniFile> parse_ini(const std::string& text, const fs::path& path) {
  IniFile ini;
  std::map<std::string, std::string>* section = nullptr;
  std::string nesting;  // the key whose indented sub-keys follow
  std::istringstream lines(text);
  std::string raw;
  for (int number = 1; std::getline(lines, raw); ++number) {
    const std::string line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    auto bad = [&](const std::string& why) {
      return make_error(ErrorKind::Usage, path.string() + ":" + std::to_string(number) + ": " + why);
    };
    if (line.front() == '[') {
      if (line.back() != ']') return bad("a section header must end with ]");
      section = &ini[trim(std::string_view(line).substr(1, line.size() - 2))];
      nesting.clear();
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return bad("expected name = value");
    if (section == nullptr) return bad("a setting before any [section]");
    const std::string key = lower(trim(std::string_view(line).substr(0, eq)));
    const std::string value = trim(std::string_view(line).substr(eq + 1));
    if (key.empty()) return bad("a setting without a name");
    const bool indented = std::isspace(static_cast<unsigned char>(raw.front())) != 0;
    if (indented && !nesting.empty()) {
      (*section)[nesting + "." + key] = value;
      continue;
    }
    nesting = value.empty() ? key : std::string();
    (*section)[key] = value;
  }
  return ini;
}

Result<IniFile> load_ini(const fs::path& path) {
  auto text = read_shared_file(path);
  if (!text) return text.error();
  if (!*text) return IniFile{};
  return parse_ini(**text, path);
}

std::optional<std::string> variable(const AwsEnvironment& env, const std::string& name) {
  auto it = env.variables.find(name);
  if (it == env.variables.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

fs::path shared_file(const AwsEnvironment& env, const char* variable_name, const char* name) {
  if (auto set = variable(env, variable_name)) return *set;
  return fs::path(variable(env, "HOME").value_or("/root")) / ".aws" / name;
}

// Host of "scheme://host[:port][/...]"; IPv6 literals keep their brackets.
std::string host_of(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

bool is_ip_or_localhost(const std::string& host) {
  if (host == "localhost" || host.starts_with('[')) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isdigit(c) || c == '.';
  });
}

const std::string* setting(const std::map<std::string, std::string>* section,
                           const std::string& key) {
  if (section == nullptr) return nullptr;
  auto it = section->find(key);
  return it == section->end() || it->second.empty() ? nullptr : &it->second;
}

// Both halves or neither: a key id without its secret is a mistake to name.
Result<std::optional<S3Credentials>> credentials_in(const std::map<std::string, std::string>* section,
                                                    const std::string& source) {
  const std::string* id = setting(section, "aws_access_key_id");
  const std::string* secret = setting(section, "aws_secret_access_key");
  if (!id && !secret) return std::optional<S3Credentials>();
  if (!id || !secret) {
    return make_error(ErrorKind::Usage, source + " has " +
                                            (id ? "aws_access_key_id without aws_secret_access_key"
                                                : "aws_secret_access_key without aws_access_key_id"));
  }
  S3Credentials c{*id, *secret, std::nullopt, source};
  if (const std::string* token = setting(section, "aws_session_token")) c.session_token = *token;
  return std::optional<S3Credentials>(std::move(c));
}

}  // namespace

AwsEnvironment AwsEnvironment::from_process() {
  AwsEnvironment env;
  for (const char* name :
       {"HOME", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}) {
    if (const char* value = std::getenv(name)) env.variables[name] = value;
  }
  return env;
}

Result<AwsResolution> resolve_aws(const AwsSettings& settings, const AwsEnvironment& env) {
  const std::optional<std::string> named_profile =
      settings.profile ? settings.profile : variable(env, "AWS_PROFILE");
  const std::string profile = named_profile.value_or("default");
  const fs::path config_path = shared_file(env, "AWS_CONFIG_FILE", "config");
  const fs::path credentials_path = shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  auto config = load_ini(config_path);
  if (!config) return config.error();
  auto credentials_file = load_ini(credentials_path);
  if (!credentials_file) return credentials_file.error();

  const std::string config_section = profile == "default" ? "default" : "profile " + profile;
  const auto find = [](const IniFile& ini, const std::string& name)
      -> const std::map<std::string, std::string>* {
    auto it = ini.find(name);
    return it == ini.end() ? nullptr : &it->second;
  };
  const auto* in_config = find(*config, config_section);
  const auto* in_credentials = find(*credentials_file, profile);
  if (named_profile && !in_config && !in_credentials) {
    return make_error(ErrorKind::Usage, "AWS profile " + profile + " is in neither " +
                                            config_path.string() + " nor " +
                                            credentials_path.string());
  }

  AwsResolution out;
  const std::string* configured_region = setting(in_config, "region");
  out.endpoint.region = settings.region ? *settings.region
                        : variable(env, "AWS_REGION")
                            ? *variable(env, "AWS_REGION")
                            : variable(env, "AWS_DEFAULT_REGION").value_or(
                                  configured_region ? *configured_region : kDefaultRegion);
  const std::string* configured_endpoint = setting(in_config, "endpoint_url");
  std::string endpoint =
      settings.endpoint ? *settings.endpoint
      : variable(env, "AWS_ENDPOINT_URL_S3")
          ? *variable(env, "AWS_ENDPOINT_URL_S3")
          : variable(env, "AWS_ENDPOINT_URL").value_or(
                configured_endpoint ? *configured_endpoint
                                    : "https://s3." + out.endpoint.region + ".amazonaws.com");
  while (endpoint.ends_with('/')) endpoint.pop_back();
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return make_error(ErrorKind::Usage, "the S3 endpoint " + endpoint +
                                            " is not an http:// or https:// URL");
  }
  out.endpoint.url = endpoint;
  const std::string* addressing = setting(in_config, "s3.addressing_style");
  out.endpoint.path_style = settings.path_style || is_ip_or_localhost(host_of(endpoint)) ||
                            (addressing && *addressing == "path");

  const auto id = variable(env, "AWS_ACCESS_KEY_ID");
  const auto secret = variable(env, "AWS_SECRET_ACCESS_KEY");
  if (id || secret) {
    if (!id || !secret) {
      return make_error(ErrorKind::Usage, std::string("the environment has ") +
                                              (id ? "AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY"
                                                  : "AWS_SECRET_ACCESS_KEY without AWS_ACCESS_KEY_ID"));
    }
    out.credentials = S3Credentials{*id, *secret, variable(env, "AWS_SESSION_TOKEN"),
                                    "the environment"};
    return out;
  }
  for (const auto& [section, source] :
       {std::pair{in_credentials, credentials_path.string() + " [" + profile + "]"},
        std::pair{in_config, config_path.string() + " [" + config_section + "]"}}) {
    auto found = credentials_in(section, source);
    if (!found) return found.error();
    if (*found) {
      out.credentials = std::move(*found);
      return out;
    }
  }
  return out;
}

}  // namespace zktool::storage
