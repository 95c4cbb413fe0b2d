// The byte stream under a connection: a TCP or unix socket. (TLS plugs in here.)
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

namespace asio = boost::asio;
using Strand = asio::strand<asio::any_io_executor>;

class Transport {
 public:
  Transport(Strand strand, const RedisSettings& settings);

  // Resolves and connects (TCP: each resolved address in turn; or the unix socket), then
  // sets TCP_NODELAY and keep-alive. Throws boost::system::system_error.
  asio::awaitable<void> connect();

  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return socket_.async_read_some(buffer, std::forward<Token>(token));
  }

  // Writes all of `buffer`.
  template <class Token>
  auto async_write(asio::const_buffer buffer, Token&& token) {
    return asio::async_write(socket_, buffer, std::forward<Token>(token));
  }

  // Closes the socket and cancels a connect or resolve in progress; idempotent.
  void close() noexcept;

  // "host:port" or "unix:/path", for messages.
  const std::string& peer() const noexcept { return peer_; }

 private:
  const RedisSettings& settings_;
  // Typed on the strand, not on any_io_executor: Asio copies a socket's executor for every
  // operation, and an any_io_executor holding a strand is too big for its small buffer, so
  // each copy would allocate.
  asio::ip::basic_resolver<asio::ip::tcp, Strand> resolver_;
  asio::basic_stream_socket<asio::generic::stream_protocol, Strand> socket_;
  std::string peer_;
};

}  // namespace asyncredis::detail
