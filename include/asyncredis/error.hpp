// Error codes and the exception type of asyncredis.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <system_error>

namespace asyncredis {

/// What went wrong, as a std::error_code in asyncredis's own category.
enum class errc {
  not_connected = 1,  ///< the client is not connected (connect() not called, or disconnected)
  connection_lost,    ///< the connection broke while the request was on the wire
  timeout,            ///< the operation did not complete within its timeout
  cancelled,          ///< the operation was cancelled through its Asio cancellation slot
  protocol_error,     ///< the server sent bytes that are not valid RESP, or exceeded a limit
  server_error,       ///< Redis answered with an error reply; the message is its text
  unexpected_type,    ///< the reply's type does not convert to the requested C++ type
  auth_failed,        ///< the handshake's AUTH was refused
  invalid_setting,    ///< a setting, URL or environment variable has a bad value
  invalid_argument,   ///< a call's argument is out of range, or the command is refused where it
                      ///< was sent (SUBSCRIBE, SELECT, ... on the shared pool: the message says
                      ///< which API to use instead)
  shutting_down,      ///< disconnect() has begun; no new operations are accepted
  tls_error,          ///< the TLS handshake failed (for instance a certificate did not verify)
  decode_error,       ///< a stored value could not be decoded (JSON that does not parse as T)
  overloaded,         ///< too many requests or bytes waiting to be sent (settings.max_queued_*),
                      ///< or a consumer too slow for what it receives
  cross_slot,         ///< on a Redis Cluster, a transaction, script or command needs keys of
                      ///< several hash slots where one slot is required (the message names the
                      ///< keys); refused before anything was sent
};

/// The category of errc; its name is "asyncredis".
const std::error_category& category() noexcept;

/// `e` as a std::error_code in category(); lets errc compare with and convert to error codes.
std::error_code make_error_code(errc e) noexcept;

/// The exception behind every failed operation: a std::system_error whose code() is in
/// category() (or an I/O error code) and whose what() carries the detail, such as the
/// server's error text ("WRONGTYPE Operation against a key ...").
class Error : public std::system_error {
 public:
  /// An error in asyncredis's category with `message` as its detail.
  Error(errc code, const std::string& message);
  /// An error with any code (an I/O error from Asio, for instance) and `message` as its detail.
  Error(std::error_code code, const std::string& message);

  /// The message without the category text appended by std::system_error.
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

/// For callback users: the error code behind an exception_ptr handed to a completion handler.
/// Empty for a null pointer; code() of a std::system_error (asyncredis::Error included);
/// errc::invalid_argument for any other exception.
std::error_code error_code_of(const std::exception_ptr& error) noexcept;

/// The message of an exception_ptr ("" for a null pointer).
std::string error_message_of(const std::exception_ptr& error);

/// Whether a failure means Redis could not serve the request now (the cache's treat_as_miss
/// and the rate limiter's OnUnavailable policies act on it), rather than a real error:
/// - unavailable: errc::not_connected, connection_lost, timeout, shutting_down, overloaded,
///   protocol_error (a server whose bytes broke the connection); any I/O error (an error code
///   outside asyncredis's category: connection refused, reset, ...) but a cancellation; and
///   the error replies of a server that is up but cannot serve now: LOADING, BUSY,
///   MASTERDOWN, CLUSTERDOWN, TRYAGAIN, READONLY (a fail-over in progress), OOM (maxmemory
///   reached with nothing to evict).
/// - errors: everything else, e.g. a WRONGTYPE reply, auth_failed, tls_error,
///   unexpected_type, decode_error, invalid_argument, and the caller's own
///   cancellation (errc::cancelled, or Asio's operation_aborted/operation_canceled), which
///   must reach the caller. These are bugs or misconfiguration that a policy would only hide.
bool is_unavailable(std::error_code code, std::string_view message = {}) noexcept;
/// is_unavailable() for the code and message of a failure handed to a completion handler
/// (false for a null pointer).
bool is_unavailable(const std::exception_ptr& error) noexcept;

}  // namespace asyncredis

/// Makes asyncredis::errc an error code enum: `ec == asyncredis::errc::timeout` compiles.
template <>
struct std::is_error_code_enum<asyncredis::errc> : std::true_type {};
