#include "server.hpp"

#include <chrono>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>

namespace demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::use_awaitable;

Server::Server(asio::io_context& io, App& app, const std::string& address, std::uint16_t port,
               ForwardedHeaders forwarded)
    : io_(io),
      app_(app),
      acceptor_(io, {asio::ip::make_address(address), port}),
      forwarded_(forwarded) {}

std::uint16_t Server::port() const {
  return acceptor_.local_endpoint().port();
}

void Server::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void Server::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Server::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping_) co_return;
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::serve(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer = ec ? std::string("unknown") : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!stopping_) {
    Request request;
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_read(stream, buffer, request, asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // closed by the client, timed out, or not HTTP
    const auto started = std::chrono::steady_clock::now();
    // Per request: behind a proxy, one connection carries many clients' requests.
    ClientInfo client = client_info(request, peer, forwarded_);
    const std::string address = client.address;
    Response response = co_await app_.handle(request, std::move(client));
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    std::cout << address << " \"" << request.method_string() << ' ' << request.target() << "\" "
              << response.result_int() << ' ' << micros / 1000.0 << " ms";
    if (auto cache = response.find("X-Cache"); cache != response.end()) {
      std::cout << " cache=" << cache->value();
    }
    std::cout << std::endl;
    const bool keep_alive = response.keep_alive();
    co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace demo
