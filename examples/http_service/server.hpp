// The HTTP/1.1 side of the demo: accepts connections and hands each request to the App.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "app.hpp"
#include "client_info.hpp"

namespace demo {

class Server {
 public:
  // Listens on address:port (port 0: any free port; see port()). `forwarded` says whether
  // X-Forwarded-For/-Proto name the client (see client_info()).
  Server(boost::asio::io_context& io, App& app, const std::string& address, std::uint16_t port,
         ForwardedHeaders forwarded);

  std::uint16_t port() const;
  void start();
  // Stops accepting; connections end after the request they are serving.
  void stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  App& app_;
  boost::asio::ip::tcp::acceptor acceptor_;
  ForwardedHeaders forwarded_;
  bool stopping_ = false;
};

}  // namespace demo
