// Hooks for watching a client: a CommandObserver sees every command start and end (latency,
// error, node, bytes, retries), a Logger hears what happens to connections. Both are set on
// RedisSettings (`observer`, `logger`); null, the default, turns each off at the cost of one
// pointer test per command.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace asyncredis {

/// One command (or pipeline, or transaction) that ended, successfully or not.
struct CommandEvent {
  /// The command's name as sent, upper-cased ("GET", "EVALSHA"); "PIPELINE" for execute(),
  /// "MULTI" for transaction().
  std::string_view command;
  /// The connection's address, "host:port" or "unix:/path"; empty when the client refused the
  /// command before picking a connection (not connected, shutting down, a refused command).
  std::string_view node;
  /// From the call that submitted it to its completion (before its handler runs).
  std::chrono::nanoseconds latency{0};
  /// Empty on success. A Redis error reply is errc::server_error; every other failure is the
  /// code its handler receives (errc::timeout, connection_lost, cancelled, overloaded, ...).
  /// A pipeline's event carries an error only when the whole pipeline failed.
  std::error_code error;
  std::size_t bytes_out = 0;    ///< the request's RESP encoding, sent once (retries not counted)
  std::size_t bytes_in = 0;     ///< its replies' RESP size on the wire, all of them
  std::uint32_t retries = 0;    ///< times it was sent again after a lost connection
  /// MOVED/ASK followed; always 0 so far: on a cluster client the observer sees each node's
  /// request, and a redirected command is a new request to its new node.
  std::uint32_t redirects = 0;
};

/// Receives every command a RedisClient (or a Lease of it) runs; the library's own traffic
/// (handshake, health-check PINGs, a lease's reset, a Subscriber's SUBSCRIBEs) is not reported.
/// Both functions may be called from any thread, concurrently: on_start on the caller's thread,
/// on_end on the thread that completes the command, just before its handler runs. Keep them
/// short and thread-safe; they must not throw (an exception ends the program).
class CommandObserver {
 public:
  virtual ~CommandObserver() = default;
  /// The command was handed to a connection at `node` (empty: refused before one was picked).
  virtual void on_start(std::string_view command, std::string_view node) noexcept {
    (void)command;
    (void)node;
  }
  /// The command ended; the event's views are valid during the call only.
  virtual void on_end(const CommandEvent& event) noexcept = 0;
};

/// The severity of a log record.
enum class LogLevel : std::uint8_t { debug, info, warning, error };

/// "debug", "info", "warning", "error".
std::string_view to_string(LogLevel level) noexcept;

/// One named value of a log record ("node", "127.0.0.1:6379"); numbers come as text.
struct LogField {
  std::string_view name;   ///< the field's name
  std::string_view value;  ///< its value, as text
};

/// Hears what happens to a client's connections: "connected" (info), "connection lost"
/// (warning, with the reason), "connect failed" and "reconnect failed" (warning, with the
/// reason and the delay before the next attempt), "handshake failed" (error: AUTH, SELECT or
/// TLS refused), "health check failed" (warning). Every record has the fields "node" and
/// "connection" (a number that tells the process's connections apart). Called on the
/// connection's strand, from any of the client's threads; must be thread-safe and must not
/// throw. Passwords never appear in messages or fields.
class Logger {
 public:
  virtual ~Logger() = default;
  /// The views are valid during the call only.
  virtual void log(LogLevel level, std::string_view message,
                   std::span<const LogField> fields) noexcept = 0;
};

}  // namespace asyncredis
