#include "net/transport.hpp"

#include <array>

#include <boost/asio/compose.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/error.hpp"
#include "net/tls_context.hpp"

namespace asyncredis::detail {

namespace {

std::string describe(const RedisSettings& settings) {
  if (!settings.unix_socket.empty()) return "unix:" + settings.unix_socket;
  const bool ipv6 = settings.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + settings.host + "]" : settings.host) + ":" + std::to_string(settings.port);
}

}  // namespace

// One TLS session over the socket it owns. Owning (rather than borrowing Transport::socket_)
// keeps an old session's late completions away from the next connection's socket.
struct TlsSession {
  TlsSession(StreamSocket socket, TlsContext& context)
      : stream(std::move(socket), context.native()) {}

  asio::ssl::stream<StreamSocket> stream;
  bool reading = false;  // a read is in progress: a write's failure probe must not read
  std::array<char, 64> probe_buffer{};
};

namespace {

// A read of the session; it notes that it is reading (see TlsWrite), and its state keeps the
// session alive until it completes, even after a reconnect replaced it.
struct TlsRead {
  TlsRead(std::shared_ptr<TlsSession> s, asio::mutable_buffer b)
      : session(std::move(s)), buffer(b) {}

  std::shared_ptr<TlsSession> session;
  asio::mutable_buffer buffer;
  bool started = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    if (!started) {
      started = true;
      session->reading = true;
      session->stream.async_read_some(buffer, std::move(self));
      return;
    }
    session->reading = false;
    self.complete(ec, n);
  }
};

// Writes the whole buffer. A server that refuses us after a TLS 1.3 handshake (a client
// certificate missing or untrusted) sends an alert and closes; our next write then meets a
// reset, which says nothing. The alert is still readable: when nothing else is reading, one
// read fetches it, and its error (naming the alert) replaces the reset.
struct TlsWrite {
  TlsWrite(std::shared_ptr<TlsSession> s, asio::const_buffer b)
      : session(std::move(s)), buffer(b) {}

  std::shared_ptr<TlsSession> session;
  asio::const_buffer buffer;
  enum class Step { start, write, probe } step = Step::start;
  boost::system::error_code write_error;
  std::size_t written = 0;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    switch (step) {
      case Step::start:
        step = Step::write;
        asio::async_write(session->stream, buffer, std::move(self));
        return;
      case Step::write:
        if ((ec == asio::error::connection_reset || ec == asio::error::broken_pipe) &&
            !session->reading) {
          step = Step::probe;
          write_error = ec;
          written = n;
          session->reading = true;
          session->stream.async_read_some(asio::buffer(session->probe_buffer), std::move(self));
          return;
        }
        self.complete(ec, n);
        return;
      case Step::probe:
        session->reading = false;
        self.complete(TlsContext::is_tls_error(ec) ? ec : write_error, written);
        return;
    }
  }
};

}  // namespace

Transport::Transport(Strand strand, const RedisSettings& settings, std::shared_ptr<TlsContext> tls)
    : settings_(settings),
      resolver_(strand),
      socket_(strand),
      tls_context_(std::move(tls)),
      peer_(describe(settings)),
      host_(settings.host),
      port_(settings.port) {
  if (settings.tls != (tls_context_ != nullptr)) {
    throw Error(errc::invalid_argument, peer_ + ": settings.tls and the TLS context disagree");
  }
}

Transport::~Transport() = default;

asio::awaitable<void> Transport::connect() {
  tls_session_.reset();
  if (socket_.is_open()) socket_.close();
  if (!settings_.unix_socket.empty()) {
    co_await socket_.async_connect(asio::local::stream_protocol::endpoint(settings_.unix_socket),
                                   asio::use_awaitable);
    co_return;
  }
  const std::string port = std::to_string(port_);
  auto results = co_await resolver_.async_resolve(host_, port, asio::use_awaitable);
  boost::system::error_code last_error = asio::error::host_not_found;
  bool connected = false;
  for (const auto& entry : results) {
    boost::system::error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    co_await socket_.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      socket_.set_option(asio::ip::tcp::no_delay(true), ec);
      socket_.set_option(asio::socket_base::keep_alive(true), ec);
      connected = true;
      break;
    }
    last_error = ec;
    if (ec == asio::error::operation_aborted) break;
  }
  if (!connected) throw boost::system::system_error(last_error);
  if (tls_context_) co_await tls_handshake();
}

asio::awaitable<void> Transport::tls_handshake() {
  tls_session_ = std::make_shared<TlsSession>(std::move(socket_), *tls_context_);
  tls_context_->prepare(tls_session_->stream.native_handle());
  // A local copy: close() may not reset the member, but a later connect() does.
  const std::shared_ptr<TlsSession> session = tls_session_;
  co_await session->stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
}

void Transport::tls_read_some(asio::mutable_buffer buffer, IoHandler handler) {
  asio::async_compose<IoHandler, void(boost::system::error_code, std::size_t)>(
      TlsRead{tls_session_, buffer}, handler, tls_session_->stream);
}

void Transport::tls_write(asio::const_buffer buffer, IoHandler handler) {
  asio::async_compose<IoHandler, void(boost::system::error_code, std::size_t)>(
      TlsWrite{tls_session_, buffer}, handler, tls_session_->stream);
}

std::optional<std::string> Transport::tls_failure(const boost::system::error_code& ec) const {
  if (!tls_context_ || !TlsContext::is_tls_error(ec)) return std::nullopt;
  return tls_context_->describe_failure(
      tls_session_ ? tls_session_->stream.native_handle() : nullptr, ec);
}

void Transport::retarget(const std::string& host, std::uint16_t port) {
  host_ = host;
  port_ = port;
  RedisSettings target;
  target.host = host;
  target.port = port;
  peer_ = describe(target);
}

void Transport::close() noexcept {
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  // No TLS close_notify: Redis does not wait for one, and sending it would hold up a close
  // that must be immediate (timeouts, lost connections).
  if (tls_session_) tls_session_->stream.next_layer().close(ignored);
}

}  // namespace asyncredis::detail
