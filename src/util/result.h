// Expected failures travel as values: a Result<T> holds either a T or an Error
// whose message names the file, offset or unit involved. The CLI turns an
// Error into one line on stderr and an exit code chosen by its kind.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace zktool {

// Each kind maps to one documented exit code (src/cli/exit_codes.h).
enum class ErrorKind {
  Usage,           // the command line or configuration is wrong
  Corrupt,         // data (archive, snapshot, log) failed a check
  Io,              // the file system refused (missing, permission, space)
  ServiceControl,  // systemd could not stop/start the unit as asked
  Unhealthy,       // the ensemble is not healthy
  Unsafe,          // refused because it could lose data
  Locked,          // another run holds the lock
  TlsUntrusted,    // a server's TLS certificate is not trusted (CA, expiry, host name)
  CredentialsRefused,  // a server refused our client certificate or token
  WrongKey,        // an encrypted archive and no key, or another key, to open it
  StoreUnavailable,  // an object store did not answer well (after retries), or refused the request
  Internal,        // a bug: an invariant did not hold
};

struct Error {
  ErrorKind kind;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
struct Ok {};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}                                           // NOLINT: implicit by design
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::Internal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace zktool
