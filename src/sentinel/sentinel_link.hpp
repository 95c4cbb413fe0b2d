// A short-lived conversation with one sentinel: connect (TLS included), AUTH when the
// sentinel has a password, send commands and read replies. The resolver asks its questions
// over one; the watcher keeps one open for the messages it subscribed to.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/reply.hpp"
#include "asyncredis/settings.hpp"
#include "net/transport.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {

// The settings to reach one sentinel of `settings.sentinel` (its address, the sentinels'
// credentials and TLS options, the client's timeouts and limits).
RedisSettings sentinel_node_settings(const RedisSettings& settings, const SentinelAddress& address);

class SentinelLink {
 public:
  // `node`: from sentinel_node_settings(); `tls`: its TLS context when node.tls, else null.
  SentinelLink(Strand strand, const RedisSettings& node, std::shared_ptr<TlsContext> tls);
  ~SentinelLink();
  SentinelLink(const SentinelLink&) = delete;
  SentinelLink& operator=(const SentinelLink&) = delete;

  // Connects, authenticates and sends `commands` (encoded RESP, `count` commands), all within
  // the node's connect_timeout; returns their replies. Throws Error: errc::timeout,
  // errc::not_connected (socket errors), errc::tls_error, errc::auth_failed (AUTH refused),
  // errc::protocol_error; each message names the sentinel.
  asio::awaitable<std::vector<Reply>> open(const std::string& commands, std::size_t count);

  // The next reply or pushed message, however long it takes. Throws Error(errc::connection_lost)
  // when the connection breaks, Error(errc::protocol_error) on bytes that are not RESP.
  asio::awaitable<Reply> next();

  // Closes the socket: whatever waits in open() or next() fails. Idempotent.
  void close() noexcept;

  // "host:port" of the sentinel.
  const std::string& peer() const noexcept { return state_->transport.peer(); }

 private:
  struct State {
    State(Strand strand, const RedisSettings& node, std::shared_ptr<TlsContext> tls);
    RedisSettings node;
    Transport transport;
    asio::steady_timer deadline;
    bool timed_out = false;
  };

  // Reads until `count` replies are parsed.
  asio::awaitable<std::vector<Reply>> read_replies(std::size_t count);

  // Shared with the deadline's handler, which may run after this link is gone.
  std::shared_ptr<State> state_;
  ReplyReader reader_;
  std::vector<char> buffer_;
};

}  // namespace asyncredis::detail
