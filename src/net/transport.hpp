// The byte stream under a connection: a TCP or unix socket, or TLS over TCP.
//
// TLS lives behind a pointer and type-erased handlers so that Asio SSL stays out of this
// header (and of everything including connection.hpp), and so that plain connections pay one
// predictable branch per read or write for it and nothing else.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/basic_resolver.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

namespace asio = boost::asio;
using Strand = asio::strand<asio::any_io_executor>;
// A TCP or unix socket, typed on its strand (see Transport::socket_).
using StreamSocket = asio::basic_stream_socket<asio::generic::stream_protocol, Strand>;

class TlsContext;
struct TlsSession;  // one TLS session and the socket under it (transport.cpp)

class Transport {
 public:
  // `tls` is the client's context when settings.tls is on, and null otherwise; throws
  // Error(errc::invalid_argument) when the two disagree.
  Transport(Strand strand, const RedisSettings& settings, std::shared_ptr<TlsContext> tls);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Resolves and connects (TCP: each resolved address in turn; or the unix socket), sets
  // TCP_NODELAY and keep-alive, and with TLS runs the handshake of a new session (never one
  // of an earlier connection). Throws boost::system::system_error (tls_failure() tells TLS
  // errors apart), or Error(errc::tls_error) if OpenSSL refuses the server name.
  asio::awaitable<void> connect();

  // Signature void(boost::system::error_code, std::size_t), for any completion token.
  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer buffer) {
          if (tls_session_) [[unlikely]] {
            tls_read_some(buffer, std::move(handler));
          } else {
            socket_.async_read_some(buffer, std::move(handler));
          }
        },
        token, buffer);
  }

  // Writes all of `buffer`. Signature void(boost::system::error_code, std::size_t).
  template <class Token>
  auto async_write(asio::const_buffer buffer, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::const_buffer buffer) {
          if (tls_session_) [[unlikely]] {
            tls_write(buffer, std::move(handler));
          } else {
            asio::async_write(socket_, buffer, std::move(handler));
          }
        },
        token, buffer);
  }

  // Closes the socket and cancels a connect, resolve or TLS handshake in progress; pending
  // reads and writes complete with operation_aborted. Idempotent.
  void close() noexcept;

  // For an error from connect(), async_read_some() or async_write(): why TLS failed (see
  // TlsContext::describe_failure: the certificate's verify result, or OpenSSL's reason), or
  // nothing when `ec` is not a TLS error or this transport does not use TLS.
  std::optional<std::string> tls_failure(const boost::system::error_code& ec) const;

  // Where the next connect() goes instead of settings.host and port (a client over Sentinel
  // resolves the address before each connect); call between connections only.
  void retarget(const std::string& host, std::uint16_t port);

  // "host:port" or "unix:/path", for messages.
  const std::string& peer() const noexcept { return peer_; }

 private:
  using IoHandler = asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  void tls_read_some(asio::mutable_buffer buffer, IoHandler handler);
  void tls_write(asio::const_buffer buffer, IoHandler handler);
  asio::awaitable<void> tls_handshake();

  const RedisSettings& settings_;
  // Typed on the strand, not on any_io_executor: Asio copies a socket's executor for every
  // operation, and an any_io_executor holding a strand is too big for its small buffer, so
  // each copy would allocate.
  asio::ip::basic_resolver<asio::ip::tcp, Strand> resolver_;
  // The connection's socket; with TLS only until connected, then the session owns it.
  StreamSocket socket_;
  std::shared_ptr<TlsContext> tls_context_;
  // The current TLS session; null for plain connections. Its operations keep it alive, so a
  // reconnect can replace it while an aborted read of the old one is still being completed.
  std::shared_ptr<TlsSession> tls_session_;
  std::string peer_;
  std::string host_;  // settings.host, or what retarget() said
  std::uint16_t port_;
};

}  // namespace asyncredis::detail
