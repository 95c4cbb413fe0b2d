#include "net/transport.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace asyncredis::detail {

namespace {

std::string describe(const RedisSettings& settings) {
  if (!settings.unix_socket.empty()) return "unix:" + settings.unix_socket;
  const bool ipv6 = settings.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + settings.host + "]" : settings.host) + ":" + std::to_string(settings.port);
}

}  // namespace

Transport::Transport(Strand strand, const RedisSettings& settings)
    : settings_(settings), resolver_(strand), socket_(strand), peer_(describe(settings)) {}

asio::awaitable<void> Transport::connect() {
  if (socket_.is_open()) socket_.close();
  if (!settings_.unix_socket.empty()) {
    co_await socket_.async_connect(asio::local::stream_protocol::endpoint(settings_.unix_socket),
                                   asio::use_awaitable);
    co_return;
  }
  auto results = co_await resolver_.async_resolve(settings_.host, std::to_string(settings_.port),
                                                  asio::use_awaitable);
  boost::system::error_code last_error = asio::error::host_not_found;
  for (const auto& entry : results) {
    boost::system::error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    co_await socket_.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      socket_.set_option(asio::ip::tcp::no_delay(true), ec);
      socket_.set_option(asio::socket_base::keep_alive(true), ec);
      co_return;
    }
    last_error = ec;
    if (ec == asio::error::operation_aborted) break;
  }
  throw boost::system::system_error(last_error);
}

void Transport::close() noexcept {
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
}

}  // namespace asyncredis::detail
